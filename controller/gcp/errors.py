"""The project's own API errors: a small hierarchy, retryable or permanent, with the client's error
kept as `__cause__`. Adapters raise only these, so callers never catch google.api_core types."""

from __future__ import annotations

import grpc
from google.api_core import exceptions as google_exceptions
from google.auth import exceptions as auth_exceptions


class ApiError(Exception):
    """A failed call to a Google API; `retryable` says whether trying again may help."""

    retryable = False
    code = "UNKNOWN"

    def __init__(self, message: str, *, operation: str = "", resource: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.resource = resource

    @property
    def reason(self) -> str:
        """One line for logs and status: what failed and why."""
        where = " ".join(part for part in (self.operation, self.resource) if part)
        return f"{self.code}: {where}: {self.message}" if where else f"{self.code}: {self.message}"


class NotFound(ApiError):
    code = "NOT_FOUND"


class Conflict(ApiError):
    """The resource already exists (or another writer got there first)."""

    code = "ALREADY_EXISTS"


class PermissionDenied(ApiError):
    code = "PERMISSION_DENIED"


class Unauthenticated(PermissionDenied):
    code = "UNAUTHENTICATED"


class InvalidArgument(ApiError):
    """Google rejected the request itself: a bad value, a failed precondition, a bad mask."""

    code = "INVALID_ARGUMENT"


class Unavailable(ApiError):
    """The service could not answer now: unavailable, timed out, aborted or an internal error."""

    retryable = True
    code = "UNAVAILABLE"


class QuotaExceeded(Unavailable):
    code = "RESOURCE_EXHAUSTED"


# Most specific first: google's hierarchy nests (e.g. AlreadyExists and Aborted are both Conflict).
_BY_GOOGLE_TYPE: tuple[tuple[type[Exception], type[ApiError]], ...] = (
    (google_exceptions.NotFound, NotFound),
    (google_exceptions.AlreadyExists, Conflict),
    (google_exceptions.Aborted, Unavailable),
    (google_exceptions.Conflict, Conflict),
    (google_exceptions.Unauthenticated, Unauthenticated),
    (google_exceptions.PermissionDenied, PermissionDenied),
    (google_exceptions.Forbidden, PermissionDenied),
    (google_exceptions.BadRequest, InvalidArgument),
    (google_exceptions.TooManyRequests, QuotaExceeded),
    (google_exceptions.MethodNotImplemented, InvalidArgument),
    (google_exceptions.ServerError, Unavailable),
    (google_exceptions.RetryError, Unavailable),
    (auth_exceptions.DefaultCredentialsError, Unauthenticated),
    (auth_exceptions.RefreshError, Unauthenticated),
    (auth_exceptions.TransportError, Unavailable),
)

_BY_GRPC_CODE: dict[grpc.StatusCode, type[ApiError]] = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: Conflict,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.FAILED_PRECONDITION: InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.UNIMPLEMENTED: InvalidArgument,
    grpc.StatusCode.RESOURCE_EXHAUSTED: QuotaExceeded,
}


def classify(error: Exception, *, operation: str = "", resource: str = "") -> ApiError:
    """Translate a client library error into ours (the caller raises it `from error`)."""
    if isinstance(error, ApiError):
        return error
    kind: type[ApiError] = Unavailable  # unknown failures are worth another try, within limits
    message = str(error)
    if isinstance(error, google_exceptions.GoogleAPICallError):
        message = error.message or message
    for google_type, ours in _BY_GOOGLE_TYPE:
        if isinstance(error, google_type):
            kind = ours
            break
    else:
        if isinstance(error, grpc.RpcError) and hasattr(error, "code"):
            kind = _BY_GRPC_CODE.get(error.code(), Unavailable)
    return kind(message, operation=operation, resource=resource)
