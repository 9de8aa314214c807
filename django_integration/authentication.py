"""Verification of the Google-signed OIDC tokens that Cloud Tasks, Scheduler and Pub/Sub attach.

A token passes when its segments are unpadded base64url in their one canonical spelling, its
RS256 signature verifies against the certificates at `GCP_TASKS_OIDC_CERTS_URL`, its lifetime
(`iat`, `exp`, and `nbf` when present) covers now, its issuer is Google's, its audience is this
endpoint's URL (or `GCP_TASKS_OIDC_AUDIENCE`), and it names a verified service account from the
allowlist; every claim checked must have the JSON type Google gives it. Certificates are cached
per URL for the `Cache-Control: max-age` Google sends, parsed once per fetch (parsing a PEM per
request cost more than the rest of verification), and refetched early only for an unknown key
id, at most once per `MIN_REFETCH_SECONDS`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import re
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

import requests
import structlog
from django.core.signals import setting_changed
from django.http import HttpRequest
from google.auth import crypt

from django_integration import conf

logger = structlog.get_logger()

ISSUERS = frozenset({"https://accounts.google.com", "accounts.google.com"})
DEFAULT_MAX_AGE = 300.0  # when the certificate response names no lifetime
MIN_REFETCH_SECONDS = 30.0
CLOCK_SKEW_SECONDS = 10
FETCH_TIMEOUT_SECONDS = 5.0
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")


class Refused(Exception):
    """The request may not run a task; `status` is the HTTP answer, the message is public."""

    status = 401


class Unauthenticated(Refused):
    """No token, or one that is not a valid Google-signed ID token."""

    status = 401


class Forbidden(Refused):
    """A valid token, but for another audience or a caller outside the allowlist."""

    status = 403


class CertificatesUnavailable(Refused):
    """The signing certificates could not be fetched: our fault, so Google should retry."""

    status = 503


class Certificates:
    """The PEM certificates and their parsed verifiers by key id at one URL; thread-safe."""

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        min_refetch_seconds: float = MIN_REFETCH_SECONDS,
    ) -> None:
        self.url = url
        self.fetches = 0  # how many times the URL was fetched, successful or not
        self._clock = clock
        self._min_refetch = min_refetch_seconds
        self._lock = threading.Lock()
        self._certs: dict[str, str] = {}
        self._verifiers: dict[str, crypt.Verifier] = {}
        self._expires = float("-inf")
        self._last_attempt = float("-inf")

    def get(self, kid: str) -> str | None:
        """The certificate for `kid`, fetching when the cache expired or the kid is new."""
        self._refresh(kid)
        return self._certs.get(kid)

    def verifier(self, kid: str) -> crypt.Verifier | None:
        """The parsed public key for `kid` (None if unknown or unparsable), fetching like `get`."""
        self._refresh(kid)
        return self._verifiers.get(kid)

    def _refresh(self, kid: str) -> None:
        if kid in self._certs and self._clock() < self._expires:
            return
        with self._lock:
            now = self._clock()
            wanted = kid not in self._certs or now >= self._expires
            if wanted and now - self._last_attempt >= self._min_refetch:
                self._fetch(now)
            if not self._certs:
                raise CertificatesUnavailable("Signing certificates unavailable")

    def _fetch(self, now: float) -> None:
        # Failures keep the certificates we have (stale beats none) and are retried no sooner
        # than `min_refetch_seconds`, so an outage at the URL is not hammered by every request.
        self._last_attempt = now
        self.fetches += 1
        try:
            response = requests.get(self.url, timeout=FETCH_TIMEOUT_SECONDS)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            logger.warning("oidc_certificates_unavailable", url=self.url, error=str(error))
            return
        if not isinstance(document, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in document.items()
        ):
            logger.warning("oidc_certificates_malformed", url=self.url)
            return
        verifiers = {}
        for kid, pem in document.items():
            try:
                verifiers[kid] = crypt.RSAVerifier.from_string(pem)
            except (ValueError, TypeError):  # one bad entry refuses only its own tokens, as before
                logger.warning("oidc_certificate_malformed", url=self.url, kid=kid)
        # Verifiers first: a lock-free reader that sees a new kid in `_certs` must find it here.
        self._verifiers = verifiers
        self._certs = dict(document)
        self._expires = now + _max_age(response.headers)


def _max_age(headers: Any) -> float:
    cache_control = headers.get("Cache-Control", "")
    if "no-store" in cache_control or "no-cache" in cache_control:
        return 0.0
    match = _MAX_AGE.search(cache_control)
    if not match:
        return DEFAULT_MAX_AGE
    try:
        age = float(headers.get("Age", 0))
    except ValueError:
        age = 0.0
    return max(0.0, float(match.group(1)) - age)


_caches_lock = threading.Lock()
_caches: dict[str, Certificates] = {}


def certificates(url: str) -> Certificates:
    """The one cache for `url` in this process."""
    cache = _caches.get(url)  # no lock on the way every request takes
    if cache is not None:
        return cache
    with _caches_lock:
        if url not in _caches:
            _caches[url] = Certificates(url)
        return _caches[url]


def verify_token(
    token: str, *, audiences: Collection[str], allowed_emails: Collection[str], certs_url: str
) -> dict[str, Any]:
    """The token's verified claims; raises `Unauthenticated` or `Forbidden`."""
    header, claims, signed, signature = _split(token)
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str):
        raise Unauthenticated("Invalid token")
    verifier = certificates(certs_url).verifier(kid)
    if verifier is None or not _signed_by(verifier, signed, signature):
        raise Unauthenticated("Invalid token")
    issued, expires = claims.get("iat"), claims.get("exp")
    not_before = claims.get("nbf", issued)
    if not (_is_number(issued) and _is_number(expires) and _is_number(not_before)):
        raise Unauthenticated("Invalid token")
    now = time.time()
    starts = max(issued, not_before) - CLOCK_SKEW_SECONDS
    if now < starts or expires + CLOCK_SKEW_SECONDS < now:
        raise Unauthenticated("Invalid token")
    # A list or object would be unhashable in the set lookups, and Google only writes strings.
    issuer, audience, email = claims.get("iss"), claims.get("aud"), claims.get("email")
    if not isinstance(issuer, str) or issuer not in ISSUERS:
        raise Unauthenticated("Invalid token")
    if not isinstance(audience, str) or audience not in audiences:
        raise Forbidden("Forbidden")
    if claims.get("email_verified") is not True or not isinstance(email, str):
        raise Forbidden("Forbidden")
    if email not in allowed_emails:
        raise Forbidden("Forbidden")
    return claims


def _split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, claims, signed bytes and signature of a compact JWT; nothing is verified yet."""
    try:
        encoded_header, encoded_claims, encoded_signature = token.encode("ascii").split(b".")
        header = json.loads(_b64decode(encoded_header))
        claims = json.loads(_b64decode(encoded_claims))
        signature = _b64decode(encoded_signature)
    # Wrong segment count, base64, UTF-8 or JSON, or JSON nested deep enough to exhaust the stack.
    except (ValueError, binascii.Error, RecursionError) as error:
        raise Unauthenticated("Invalid token") from error
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthenticated("Invalid token")
    return header, claims, encoded_header + b"." + encoded_claims, signature


def _b64decode(segment: bytes) -> bytes:
    """Unpadded base64url (RFC 7515); padding, other characters or stray bits in the last one are
    refused, so a token has exactly one spelling (the decoder alone would ignore all three)."""
    if not _BASE64URL.fullmatch(segment):
        raise ValueError("a token segment is not unpadded base64url")
    decoded = base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != segment:
        raise ValueError("a token segment is not canonical base64url")
    return decoded


def _signed_by(verifier: crypt.Verifier, signed: bytes, signature: bytes) -> bool:
    try:
        return bool(verifier.verify(signed, signature))
    except TypeError:  # the certificate holds a non-RSA key, which cannot have signed RS256
        return False


def _is_number(value: object) -> bool:
    # NaN and infinity would pass every lifetime comparison.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclasses.dataclass(frozen=True)
class Verification:
    """The settings verification reads, taken once and again after each `setting_changed` (as
    `override_settings` sends): reading them per request cost ~9 us, a tenth of verifying."""

    disabled: bool
    allowed_emails: frozenset[str]
    certs_url: str
    audience: str | None
    domain: str | None

    @classmethod
    def current(cls) -> Verification:
        try:
            return _verification[None]
        except KeyError:
            settings = conf.settings
            verification = _verification[None] = cls(
                disabled=settings.auth_disabled,
                allowed_emails=settings.invoker_service_account_emails,
                certs_url=settings.oidc_certs_url,
                audience=settings.oidc_audience,
                domain=settings.domain,
            )
            return verification


_verification: dict[None, Verification] = {}


def _forget_verification(**kwargs: Any) -> None:
    _verification.clear()


setting_changed.connect(_forget_verification, dispatch_uid="django_integration.authentication")


def authenticate(request: HttpRequest) -> dict[str, Any] | None:
    """The verified claims of the request's bearer token, or None when verification is off."""
    verification = Verification.current()
    if verification.disabled:
        return None
    # META, not `request.headers`: that would convert every header of the request first.
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Missing bearer token")
    try:
        return verify_token(
            token.strip(),
            audiences=expected_audiences(request),
            allowed_emails=verification.allowed_emails,
            certs_url=verification.certs_url,
        )
    except Refused as refusal:
        logger.warning(
            "oidc_token_refused",
            path=request.path,
            status=refusal.status,
            reason=str(refusal.__cause__ or refusal),
        )
        raise


def expected_audiences(request: HttpRequest) -> frozenset[str]:
    """The configured audience, else this endpoint's URL under `GCP_TASKS_DOMAIN` (the URL the
    task, job or subscription was given, so proxies rewriting scheme or host do not matter)."""
    verification = Verification.current()
    if verification.audience:
        return frozenset([verification.audience])
    base = verification.domain or request.build_absolute_uri("/").rstrip("/")
    return frozenset([f"{base}{request.path}", f"{base}{request.get_full_path()}"])
