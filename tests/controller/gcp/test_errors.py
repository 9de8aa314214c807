"""Client errors become our small hierarchy, retryable or not, with the original kept."""

from __future__ import annotations

import grpc
import pytest
from google.api_core import exceptions as google_exceptions
from google.auth import exceptions as auth_exceptions

from controller.gcp import errors


class _RpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


@pytest.mark.parametrize(
    ("error", "kind", "retryable"),
    [
        (google_exceptions.NotFound("gone"), errors.NotFound, False),
        (google_exceptions.AlreadyExists("there"), errors.Conflict, False),
        (google_exceptions.Aborted("contention"), errors.Unavailable, True),
        (google_exceptions.PermissionDenied("no"), errors.PermissionDenied, False),
        (google_exceptions.Unauthenticated("who"), errors.Unauthenticated, False),
        (google_exceptions.InvalidArgument("bad"), errors.InvalidArgument, False),
        (google_exceptions.FailedPrecondition("state"), errors.InvalidArgument, False),
        (google_exceptions.ResourceExhausted("quota"), errors.QuotaExceeded, True),
        (google_exceptions.ServiceUnavailable("down"), errors.Unavailable, True),
        (google_exceptions.DeadlineExceeded("slow"), errors.Unavailable, True),
        (google_exceptions.InternalServerError("oops"), errors.Unavailable, True),
        (google_exceptions.MethodNotImplemented("no such"), errors.InvalidArgument, False),
        (auth_exceptions.DefaultCredentialsError("no creds"), errors.Unauthenticated, False),
        (_RpcError(grpc.StatusCode.NOT_FOUND), errors.NotFound, False),
        (_RpcError(grpc.StatusCode.UNAVAILABLE), errors.Unavailable, True),
        (ConnectionError("reset"), errors.Unavailable, True),
    ],
)
def test_classify(error: Exception, kind: type[errors.ApiError], retryable: bool) -> None:
    ours = errors.classify(error, operation="CreateJob", resource="projects/p/jobs/j")

    assert type(ours) is kind
    assert ours.retryable is retryable
    assert ours.reason.startswith(f"{kind.code}: CreateJob projects/p/jobs/j: ")


def test_our_errors_pass_through_unchanged() -> None:
    ours = errors.NotFound("gone")

    assert errors.classify(ours) is ours


def test_message_is_the_api_message() -> None:
    ours = errors.classify(google_exceptions.InvalidArgument("Schedule is invalid."))

    assert ours.message == "Schedule is invalid."
    assert ours.reason == "INVALID_ARGUMENT: Schedule is invalid."
