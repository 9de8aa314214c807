"""Injected failures: a gRPC method answers an error status instead of doing its work, or after it.

An error `after` the work is a lost answer: the change is made and the client sees only the error
(a deadline, a dropped connection), as when Google applies a Create whose response never arrives.
The emulators consult their `Faults` on every request; for Google's Pub/Sub emulator, which we do
not serve, put an `Interceptor` on the client's channel.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import grpc


@dataclasses.dataclass(frozen=True)
class Fault:
    method: str  # the method's short name, e.g. "CreateJob"
    code: grpc.StatusCode
    after: bool  # True: the work is done, then the answer is lost
    message: str


class Faults:
    """Faults waiting for their method's next calls; thread-safe, cheap when none is waiting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[Fault] = []
        self.fired: list[Fault] = []

    def inject(
        self,
        method: str,
        code: grpc.StatusCode,
        *,
        times: int = 1,
        after: bool = False,
        message: str = "",
    ) -> None:
        """The next `times` calls of `method` fail with `code`; with `after`, once done."""
        fault = Fault(method, code, after, message or f"injected {code.name}")
        with self._lock:
            self._waiting.extend([fault] * times)

    def take(self, method: str, *, after: bool) -> Fault | None:
        """The first waiting fault for this call and moment, now fired; None when there is none."""
        if not self._waiting:  # no lock: the common case stays free
            return None
        with self._lock:
            for index, fault in enumerate(self._waiting):
                if fault.method == method and fault.after is after:
                    del self._waiting[index]
                    self.fired.append(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._waiting.clear()
            self.fired.clear()


class InjectedError(grpc.RpcError):
    """What a client sees of a fault: an RpcError with a status, as Google's clients expect."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.message)
        self.fault = fault

    def code(self) -> grpc.StatusCode:
        return self.fault.code

    def details(self) -> str:
        return self.fault.message

    def trailing_metadata(self) -> None:
        return None

    # The outcome protocol of grpc's intercepted channels.
    def result(self, timeout: float | None = None) -> Any:
        raise self

    def exception(self, timeout: float | None = None) -> InjectedError:
        return self


class Interceptor(grpc.UnaryUnaryClientInterceptor):
    """Applies `faults` on the client side of a channel (for servers we do not run)."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Any], Any],
        client_call_details: grpc.ClientCallDetails,
        request: Any,
    ) -> Any:
        method = client_call_details.method.rsplit("/", 1)[-1]
        fault = self.faults.take(method, after=False)
        if fault is not None:
            return InjectedError(fault)
        outcome = continuation(client_call_details, request)
        if outcome.exception() is not None:
            return outcome  # a real failure: nothing was done, so no answer to lose
        fault = self.faults.take(method, after=True)
        return outcome if fault is None else InjectedError(fault)
