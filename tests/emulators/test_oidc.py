import base64
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from google.auth import exceptions as auth_exceptions
from google.auth import jwt
from google.auth.transport import requests as auth_requests
from google.oauth2 import id_token

from emulators import clock as clocks
from emulators import oidc

AUDIENCE = "https://app.example.com/gcp-tasks/run"
EMAIL = "tasks@my-project.iam.gserviceaccount.com"


@pytest.fixture
def clock() -> clocks.ManualClock:
    # Tokens are checked by google-auth against wall time, so start the test clock at "now".
    return clocks.ManualClock()


@pytest.fixture
def issuer(clock: clocks.ManualClock) -> Iterator[oidc.Issuer]:
    with oidc.Issuer(clock=clock) as started:
        yield started


def verify(token: str, certs_url: str, audience: str = AUDIENCE) -> dict:
    return dict(
        id_token.verify_token(
            token, auth_requests.Request(), audience=audience, certs_url=certs_url
        )
    )


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_token_verifies_with_google_auth_and_carries_googles_claims(
    issuer: oidc.Issuer, clock: clocks.ManualClock
) -> None:
    token = issuer.token(AUDIENCE, EMAIL, lifetime=600)
    claims = verify(token, issuer.certs_url)
    issued = int(clock.now().timestamp())
    assert claims == {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "azp": claims["sub"],
        "sub": claims["sub"],
        "email": EMAIL,
        "email_verified": True,
        "iat": issued,
        "exp": issued + 600,
    }
    assert claims["sub"].isdigit() and len(claims["sub"]) == 21
    assert jwt.decode_header(token) == {"alg": "RS256", "kid": issuer.kid, "typ": "JWT"}


def test_subject_is_stable_per_email() -> None:
    assert oidc.subject_of(EMAIL) == oidc.subject_of(EMAIL)
    assert oidc.subject_of(EMAIL) != oidc.subject_of("other@p.iam.gserviceaccount.com")


def test_wrong_audience_is_rejected(issuer: oidc.Issuer) -> None:
    token = issuer.token(AUDIENCE, EMAIL)
    with pytest.raises(ValueError, match="audience"):
        verify(token, issuer.certs_url, audience="https://elsewhere.example.com/")


def test_token_from_another_issuer_is_rejected(issuer: oidc.Issuer) -> None:
    with oidc.Issuer() as other:
        foreign = other.token(AUDIENCE, EMAIL)
        assert other.kid != issuer.kid
        with pytest.raises((ValueError, auth_exceptions.GoogleAuthError)):
            verify(foreign, issuer.certs_url)
        assert verify(foreign, other.certs_url)["email"] == EMAIL


def test_expired_token_is_rejected(issuer: oidc.Issuer, clock: clocks.ManualClock) -> None:
    clock.set(clock.now() - timedelta(hours=2))
    token = issuer.token(AUDIENCE, EMAIL, lifetime=3600)
    with pytest.raises(ValueError, match="expired"):
        verify(token, issuer.certs_url)


@pytest.mark.parametrize(("audience", "lifetime"), [("", 3600), (AUDIENCE, 0), (AUDIENCE, -5)])
def test_bad_token_requests_are_refused(issuer: oidc.Issuer, audience: str, lifetime: int) -> None:
    with pytest.raises(ValueError):
        issuer.token(audience, EMAIL, lifetime=lifetime)


@pytest.mark.parametrize("path", ["/oauth2/v1/certs", "/oauth2/v3/certs"])
def test_certs_are_served_with_googles_cache_headers(issuer: oidc.Issuer, path: str) -> None:
    response = requests.get(issuer.base_url + path, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"].startswith("public, max-age=")


def test_v1_certs_are_pem_certificates_by_key_id(issuer: oidc.Issuer) -> None:
    document = requests.get(issuer.certs_url, timeout=5).json()
    assert list(document) == [issuer.kid]
    assert document[issuer.kid].startswith("-----BEGIN CERTIFICATE-----")


def test_jwks_verifies_the_token_signature(issuer: oidc.Issuer) -> None:
    (key,) = requests.get(issuer.jwks_url, timeout=5).json()["keys"]
    assert (key["kty"], key["alg"], key["use"], key["kid"]) == ("RSA", "RS256", "sig", issuer.kid)
    public_key = rsa.RSAPublicNumbers(
        int.from_bytes(b64decode(key["e"]), "big"), int.from_bytes(b64decode(key["n"]), "big")
    ).public_key()
    header, payload, signature = issuer.token(AUDIENCE, EMAIL).split(".")
    public_key.verify(
        b64decode(signature),
        f"{header}.{payload}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    assert json.loads(b64decode(payload))["aud"] == AUDIENCE


def test_openid_configuration_points_at_the_jwks(issuer: oidc.Issuer) -> None:
    document = requests.get(issuer.base_url + "/.well-known/openid-configuration", timeout=5).json()
    assert document["jwks_uri"] == issuer.jwks_url
    assert document["issuer"] == "https://accounts.google.com"


def test_unknown_path_is_404(issuer: oidc.Issuer) -> None:
    assert requests.get(issuer.base_url + "/nope", timeout=5).status_code == 404


def test_stop_closes_the_port() -> None:
    issuer = oidc.Issuer().start()
    url = issuer.certs_url
    issuer.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)
    with pytest.raises(RuntimeError, match="not started"):
        _ = issuer.certs_url
