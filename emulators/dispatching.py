"""Delivering one HTTP push (a task attempt, a cron firing), with an OIDC token when asked."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests
from google.rpc import code_pb2, status_pb2
from requests import adapters

from emulators import oidc as oidc_issuing

_session_lock = threading.Lock()
_session: requests.Session | None = None


@dataclass(frozen=True)
class Delivery:
    """The outcome of one attempt: an HTTP status, or an error when no response came back."""

    status: int | None
    error: str | None
    duration: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def rpc_status(self) -> status_pb2.Status:
        """The attempt as Google reports it (a task's `response_status`, a job's `status`)."""
        if self.status is None:
            timed_out = "Timeout" in (self.error or "")
            code = code_pb2.DEADLINE_EXCEEDED if timed_out else code_pb2.UNAVAILABLE
            return status_pb2.Status(code=code, message=self.error or "no response")
        if self.ok:
            return status_pb2.Status(code=code_pb2.OK)
        default = code_pb2.INTERNAL if self.status >= 500 else code_pb2.FAILED_PRECONDITION
        code = _HTTP_TO_RPC_CODE.get(self.status, default)
        return status_pb2.Status(code=code, message=f"The target answered HTTP {self.status}.")


# HTTP answers as google.rpc codes, per the mapping in google/rpc/code.proto.
_HTTP_TO_RPC_CODE = {
    400: code_pb2.INVALID_ARGUMENT,
    401: code_pb2.UNAUTHENTICATED,
    403: code_pb2.PERMISSION_DENIED,
    404: code_pb2.NOT_FOUND,
    409: code_pb2.ABORTED,
    429: code_pb2.RESOURCE_EXHAUSTED,
    499: code_pb2.CANCELLED,
    501: code_pb2.UNIMPLEMENTED,
    503: code_pb2.UNAVAILABLE,
    504: code_pb2.DEADLINE_EXCEEDED,
}


def deliver(
    url: str,
    *,
    method: str = "POST",
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    oidc: tuple[str, str] | None = None,
    issuer: oidc_issuing.Issuer | None = None,
    timeout: float = 30.0,
) -> Delivery:
    """Send one request; `oidc` is (service account email, audience), "" audience meaning `url`."""
    sent_headers = dict(headers or {})
    if oidc is not None:
        if issuer is None:
            raise ValueError("an OIDC token was requested but no issuer is configured")
        email, audience = oidc
        sent_headers["Authorization"] = f"Bearer {issuer.token(audience or url, email)}"
    started = time.monotonic()
    try:
        response = _shared_session().request(
            method, url, data=body or None, headers=sent_headers, timeout=timeout
        )
    except requests.RequestException as error:
        return Delivery(None, f"{type(error).__name__}: {error}", time.monotonic() - started)
    # Drop the body now so the pooled connection is released for the next attempt.
    response.close()
    return Delivery(response.status_code, None, time.monotonic() - started)


def _shared_session() -> requests.Session:
    global _session
    with _session_lock:
        if _session is None:
            _session = requests.Session()
            # Targets are usually one local app hit by several dispatch workers at once.
            adapter = adapters.HTTPAdapter(pool_connections=8, pool_maxsize=32)
            _session.mount("http://", adapter)
            _session.mount("https://", adapter)
            # A push never inherits the developer's proxies or netrc.
            _session.trust_env = False
        return _session
