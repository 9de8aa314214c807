"""Serving Google's gRPC services from plain Python functions, with Google's own message classes.

No .proto files: each method is a function from a request message to a response message, wired with
`grpc.method_handlers_generic_handler` and the classes' own (de)serializers, so Google's unmodified
clients talk to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent import futures
from typing import Any, TypeVar

import grpc
import proto
import structlog
from google.protobuf import message as pb_message

from emulators import faults, recording

logger = structlog.get_logger()

M = TypeVar("M")
Method = tuple[Callable[[Any], Any], type[Any], type[Any]]


class ApiError(Exception):
    """An error answered to the client with a gRPC status, e.g. NOT_FOUND."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def generic_handler(
    service_name: str,
    methods: Mapping[str, Method],
    log: recording.RequestLog,
    injected: faults.Faults | None = None,
) -> grpc.GenericRpcHandler:
    """A handler for `service_name` whose methods record each request in `log` and fail as
    `injected` faults say."""
    injected = injected if injected is not None else faults.Faults()
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            _behaviour(service_name, name, function, log, injected),
            request_deserializer=_deserializer(request_type),
            response_serializer=_serializer(response_type),
        )
        for name, (function, request_type, response_type) in methods.items()
    }
    return grpc.method_handlers_generic_handler(service_name, handlers)


def serve(
    handlers: Iterable[grpc.GenericRpcHandler], host: str = "127.0.0.1", port: int = 0
) -> tuple[grpc.Server, int]:
    """Start an insecure gRPC server on host:port (0 = a free port); returns it and its port."""
    # gRPC sets SO_REUSEPORT by default, which would let a second emulator silently share a port.
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8), options=[("grpc.so_reuseport", 0)]
    )
    server.add_generic_rpc_handlers(tuple(handlers))
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError as error:
        raise OSError(f"cannot listen on {host}:{port}: {error}") from error
    if not bound:
        raise OSError(f"cannot listen on {host}:{port}")
    server.start()
    return server, bound


def copy_message(message: M) -> M:
    """A deep copy of a proto-plus or protobuf message (proto-plus wrappers share their pb)."""
    if isinstance(message, proto.Message):
        return type(message).deserialize(type(message).serialize(message))  # type: ignore[no-any-return]
    duplicate = type(message)()
    duplicate.CopyFrom(message)  # type: ignore[attr-defined]
    return duplicate


def resource_of(request: Any) -> str:
    """The resource a request is about: its `name`, else `parent`, else a nested message's name."""
    message = _pb(request)
    fields = message.DESCRIPTOR.fields_by_name
    for key in ("name", "parent"):
        if key in fields and isinstance(getattr(message, key), str) and getattr(message, key):
            return str(getattr(message, key))
    for field in message.DESCRIPTOR.fields:
        if field.message_type is None or _is_repeated(field) or not message.HasField(field.name):
            continue
        nested = getattr(message, field.name)
        name = getattr(nested, "name", "") if "name" in nested.DESCRIPTOR.fields_by_name else ""
        if isinstance(name, str) and name:
            return name
    return ""


def update_mask_of(request: Any) -> tuple[str, ...]:
    message = _pb(request)
    if "update_mask" not in message.DESCRIPTOR.fields_by_name:
        return ()
    return tuple(message.update_mask.paths)


def _behaviour(
    service_name: str,
    method: str,
    function: Callable[[Any], Any],
    requests: recording.RequestLog,
    injected: faults.Faults,
) -> Callable[[Any, grpc.ServicerContext], Any]:
    def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
        requests.record(service_name, method, resource_of(request), update_mask_of(request))
        fault = injected.take(method, after=False)
        if fault is None:
            try:
                response = function(request)
            except ApiError as error:
                context.abort(error.code, error.message)
            except Exception as error:
                logger.exception("emulator.internal_error", service=service_name, method=method)
                context.abort(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")
            fault = injected.take(method, after=True)
            if fault is None:
                return response
        context.abort(fault.code, fault.message)

    return behaviour


def _pb(message: Any) -> pb_message.Message:
    if isinstance(message, proto.Message):
        return type(message).pb(message)
    return message  # type: ignore[no-any-return]


def _is_repeated(field: Any) -> bool:
    # FieldDescriptor.label is deprecated in newer protobuf releases; prefer is_repeated there.
    repeated = getattr(field, "is_repeated", None)
    if repeated is not None:
        return bool(repeated)
    return bool(field.label == field.LABEL_REPEATED)


def _deserializer(message_type: type[Any]) -> Callable[[bytes], Any]:
    if issubclass(message_type, proto.Message):
        return message_type.deserialize  # type: ignore[no-any-return]
    return message_type.FromString  # type: ignore[no-any-return]


def _serializer(message_type: type[Any]) -> Callable[[Any], bytes]:
    if issubclass(message_type, proto.Message):
        return message_type.serialize  # type: ignore[no-any-return]
    return lambda message: message.SerializeToString()  # type: ignore[no-any-return]
