"""Signing Google's Pub/Sub emulator's pushes the way Pub/Sub signs them.

The emulator pushes without the OIDC token that Pub/Sub attaches when a subscription's
`push_config.oidc_token` names a service account, so an app that verifies tokens refuses every
push. Started with `jvm_options`, the emulator's JVM sends its pushes through this HTTP proxy,
which reads the envelope's `subscription`, looks the subscription up in the emulator, and
forwards the push with a token from the local issuer for that account and audience (the push
endpoint unless one is set). Pushes of subscriptions without `oidc_token` pass unsigned, as
Pub/Sub sends them.
"""

from __future__ import annotations

import json
from http import server as http_server
from typing import Any

import requests
import structlog

from emulators import dispatching, http_serving, oidc

logger = structlog.get_logger()

LOOKUP_TIMEOUT_SECONDS = 5.0
PUSH_TIMEOUT_SECONDS = 60.0  # a push subscription's default acknowledgement deadline is 10 s
# Headers that belong to the hop between the JVM and the proxy, not to the push itself.
_HOP_BY_HOP = frozenset(
    {"connection", "proxy-connection", "keep-alive", "host", "content-length", "accept"}
)


class PushSigner:
    """An HTTP proxy on host:port (0 = a free port) for the emulator at `pubsub_host`."""

    def __init__(
        self, issuer: oidc.Issuer, pubsub_host: str, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.issuer = issuer
        self.pubsub_host = pubsub_host
        self._session = requests.Session()
        self._session.trust_env = False  # the emulator is local: never through the user's proxy
        self._http = http_serving.HttpServer("Pub/Sub push signer", _handler_for(self), host, port)

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def jvm_options(self) -> list[str]:
        """Java's HTTP proxy settings that route the emulator's pushes here, local ones too
        (Java bypasses proxies for localhost unless `nonProxyHosts` is emptied)."""
        return [
            f"-Dhttp.proxyHost={self._http.host}",
            f"-Dhttp.proxyPort={self.port}",
            "-Dhttp.nonProxyHosts=",
        ]

    def start(self) -> PushSigner:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()
        self._session.close()

    def token_for(self, envelope: bytes) -> tuple[str, str] | None:
        """(service account, audience) of the subscription that pushes `envelope`, or None when
        it asks for no token; audience "" means the push endpoint."""
        subscription = json.loads(envelope)["subscription"]
        response = self._session.get(
            f"http://{self.pubsub_host}/v1/{subscription}", timeout=LOOKUP_TIMEOUT_SECONDS
        )
        response.raise_for_status()
        token = response.json().get("pushConfig", {}).get("oidcToken") or {}
        email = token.get("serviceAccountEmail")
        return (email, token.get("audience", "")) if email else None


def _handler_for(signer: PushSigner) -> type[http_server.BaseHTTPRequestHandler]:
    class Handler(http_server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = self.path  # a proxy is sent the absolute URL
            if not url.startswith("http://"):
                self.send_error(400, "a push proxy only forwards http:// pushes")
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in _HOP_BY_HOP
            }
            try:
                token = signer.token_for(body)
            except (ValueError, KeyError, TypeError, requests.RequestException) as error:
                # Forwarded unsigned: the app's 401 and the emulator's redelivery show it.
                logger.warning("pubsub_push_unsigned", url=url, error=str(error))
                token = None
            delivery = dispatching.deliver(
                url,
                body=body,
                headers=headers,
                oidc=token,
                issuer=signer.issuer,
                timeout=PUSH_TIMEOUT_SECONDS,
            )
            # No answer from the endpoint is a failed push: the emulator redelivers.
            self.send_response(delivery.status or 502)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one access line per push would drown the app's own logs

    return Handler
