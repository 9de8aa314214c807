"""A local OIDC issuer: Google-style ID tokens signed by a per-issuer key, certs served over HTTP.

The certificates are served in the formats of Google's own endpoints (`/oauth2/v1/certs`: PEM
certificates by key id; `/oauth2/v3/certs`: a JWK set), so a verifier such as
`google.oauth2.id_token.verify_token` only needs `certs_url` pointed here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import server as http_server
from types import TracebackType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from emulators import clock as clocks
from emulators import http_serving

ISSUER = "https://accounts.google.com"
CACHE_CONTROL = "public, max-age=3600, must-revalidate, no-transform"


class Issuer:
    """Signs ID tokens and serves its public certificates on http://host:port (0 = a free port)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, clock: clocks.Clock | None = None
    ) -> None:
        self.host = host
        self.clock: clocks.Clock = clock or clocks.WallClock()
        self._key_lock = threading.Lock()
        self._key: _Key | None = None
        self._http = http_serving.HttpServer("OIDC issuer", _handler_for(self), host, port)

    @property
    def kid(self) -> str:
        return self._signing_key().kid

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def certs_url(self) -> str:
        return f"{self.base_url}/oauth2/v1/certs"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/oauth2/v3/certs"

    def start(self) -> Issuer:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> Issuer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def token(
        self,
        audience: str,
        email: str,
        *,
        lifetime: int = 3600,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """An RS256 ID token for service account `email`, with the claims Google puts in one;
        `claims` replaces or adds some (to test how a verifier treats odd ones)."""
        if not audience:
            raise ValueError("an ID token needs an audience")
        if lifetime <= 0:
            raise ValueError("token lifetime must be positive")
        issued = int(self.clock.now().timestamp())
        payload = {
            "iss": ISSUER,
            "aud": audience,
            "azp": subject_of(email),
            "sub": subject_of(email),
            "email": email,
            "email_verified": True,
            "iat": issued,
            "exp": issued + lifetime,
            **(claims or {}),
        }
        return jwt.encode(self._signing_key().signer, payload).decode()

    def pem_certificates(self) -> dict[str, str]:
        key = self._signing_key()
        return {key.kid: key.certificate_pem}

    def jwks(self) -> dict[str, Any]:
        numbers = self._signing_key().private.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "kid": self.kid,
                    "n": _b64_uint(numbers.n),
                    "e": _b64_uint(numbers.e),
                }
            ]
        }

    def _signing_key(self) -> _Key:
        # Made on first use: RSA generation costs ~0.1 s, and many tests never sign anything.
        with self._key_lock:
            if self._key is None:
                self._key = _Key.generate(self.clock.now())
            return self._key


@dataclass(frozen=True)
class _Key:
    private: rsa.RSAPrivateKey
    kid: str
    certificate_pem: str
    signer: crypt.RSASigner

    @classmethod
    def generate(cls, now: datetime) -> _Key:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_der = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # Google's key ids are 40 hex digits; a digest of the public key gives the same shape.
        kid = hashlib.sha1(public_der).hexdigest()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emulator.gcptasks.dev")])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(private.public_key())
            .serial_number(x509.random_serial_number())
            # Wide validity: verifiers may run on wall time while the emulator runs on a test clock.
            .not_valid_before(now - timedelta(days=3650))
            .not_valid_after(now + timedelta(days=3650))
            .sign(private, hashes.SHA256())
        )
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(
            private=private,
            kid=kid,
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
            signer=crypt.RSASigner.from_string(private_pem, key_id=kid),
        )


def subject_of(email: str) -> str:
    """A stable 21-digit numeric id for a service account, shaped like Google's `sub`."""
    digest = int(hashlib.sha256(email.encode()).hexdigest(), 16)
    return str(10**20 + digest % (9 * 10**20))


def _b64_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _handler_for(issuer: Issuer) -> type[http_server.BaseHTTPRequestHandler]:
    class Handler(http_server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/oauth2/v1/certs":
                self._json(issuer.pem_certificates())
            elif path == "/oauth2/v3/certs":
                self._json(issuer.jwks())
            elif path == "/.well-known/openid-configuration":
                self._json(
                    {
                        "issuer": ISSUER,
                        "jwks_uri": issuer.jwks_url,
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                )
            else:
                self.send_error(404, "not found")

        def _json(self, document: dict[str, Any]) -> None:
            body = json.dumps(document, indent=2).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Cache-Control", CACHE_CONTROL)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # tests and `python -m emulators` would drown in access lines

    return Handler
