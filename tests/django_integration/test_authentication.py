"""OIDC verification with google-auth against certificates served over real HTTP."""

import base64
import functools
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http import server as http_server

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.test import RequestFactory, override_settings
from google.auth import crypt, jwt

from django_integration import authentication
from emulators import clock as clocks
from emulators import oidc

AUDIENCE = "https://tasks.example.com/gcp/tasks/RecordingTask"
CALLER = "tasks@test-project.iam.gserviceaccount.com"


@functools.cache
def _private_key(kid):
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class KeyServer:
    """A signing key whose certificate is served like Google's v1 certs endpoint."""

    def __init__(self, kid="key-1", cache_control="public, max-age=3600"):
        self.cache_control = cache_control
        self.status = 200
        self.hits = 0
        self.kid = kid
        key = _private_key(kid)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256())
        )
        self.certs = {kid: certificate.public_bytes(serialization.Encoding.PEM).decode()}
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.private_pem = private
        self.signer = crypt.RSASigner.from_string(private, key_id=kid)
        server = self

        class Handler(http_server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits += 1
                body = json.dumps(server.certs).encode()
                self.send_response(server.status)
                self.send_header("Cache-Control", server.cache_control)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oauth2/v1/certs"

    def token(self, **overrides):
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": AUDIENCE,
            "email": CALLER,
            "email_verified": True,
            "sub": "1",
            "iat": now,
            "exp": now + 3600,
            **overrides,
        }
        claims = {key: value for key, value in claims.items() if value is not None}
        return jwt.encode(self.signer, claims).decode()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def keys():
    server = KeyServer()
    yield server
    server.stop()


@pytest.fixture
def other_keys():
    server = KeyServer(kid="key-2")
    yield server
    server.stop()


def verify(token, certs_url, audiences=(AUDIENCE,), allowed=(CALLER,)):
    return authentication.verify_token(
        token, audiences=set(audiences), allowed_emails=set(allowed), certs_url=certs_url
    )


def test_a_valid_token_gives_its_claims(keys):
    claims = verify(keys.token(), keys.url)
    assert (claims["email"], claims["aud"]) == (CALLER, AUDIENCE)


@pytest.mark.parametrize(
    ("overrides", "refusal"),
    [
        ({"iss": "accounts.google.com"}, None),
        ({"iss": "https://evil.example.com"}, authentication.Unauthenticated),
        (
            {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
            authentication.Unauthenticated,
        ),
        ({"iat": int(time.time()) + 3600}, authentication.Unauthenticated),
        ({"aud": "https://tasks.example.com/gcp/tasks/Other"}, authentication.Forbidden),
        ({"email": "intruder@evil.iam.gserviceaccount.com"}, authentication.Forbidden),
        ({"email_verified": False}, authentication.Forbidden),
        ({"email_verified": None}, authentication.Forbidden),
        ({"email": None}, authentication.Forbidden),
    ],
)
def test_claims_are_checked(keys, overrides, refusal):
    token = keys.token(**overrides)
    if refusal is None:
        assert verify(token, keys.url)["iss"] == overrides["iss"]
    else:
        with pytest.raises(refusal):
            verify(token, keys.url)


def test_a_token_signed_by_another_key_is_refused(keys, other_keys):
    with pytest.raises(authentication.Unauthenticated):
        verify(other_keys.token(), keys.url)


def test_a_forged_signature_is_refused(keys, other_keys):
    # Signed by another key, but naming the trusted key's id.
    other_keys.signer = crypt.RSASigner.from_string(other_keys.private_pem, key_id=keys.kid)
    with pytest.raises(authentication.Unauthenticated):
        verify(other_keys.token(), keys.url)


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a.b.c", "x" * 5000, "eyJhbGciOiJub25lIn0.eyJhIjoxfQ."],
)
def test_garbage_is_refused(keys, token):
    with pytest.raises(authentication.Unauthenticated):
        verify(token, keys.url)


def test_unsigned_tokens_are_refused(keys):
    header = jwt._helpers.unpadded_urlsafe_b64encode(b'{"alg":"none","kid":"key-1"}').decode()
    payload = jwt._helpers.unpadded_urlsafe_b64encode(json.dumps({"aud": AUDIENCE}).encode())
    with pytest.raises(authentication.Unauthenticated):
        verify(f"{header}.{payload.decode()}.", keys.url)


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _crafted(keys, header=None, claims=None, signature=None):
    """A token with exactly this header and claims, RS256-signed by `keys` unless `signature`."""
    header = {"alg": "RS256", "typ": "JWT", "kid": keys.kid} if header is None else header
    now = int(time.time())
    default_claims = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "email": CALLER,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
    }
    claims = default_claims if claims is None else claims
    signed = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if signature is None:
        signature = keys.signer.sign(signed.encode())
    return f"{signed}.{_b64(signature)}"


def _hs256(keys, secret):
    # The classic key-confusion attack: an HMAC keyed with the public certificate.
    header = {"alg": "HS256", "typ": "JWT", "kid": keys.kid}
    token = _crafted(keys, header=header, signature=b"")
    signed = token.rsplit(".", 1)[0].encode()
    return f"{signed.decode()}.{_b64(hmac.new(secret, signed, hashlib.sha256).digest())}"


@pytest.mark.parametrize(
    ("make", "accepted"),
    [
        (lambda k: _crafted(k), True),
        (lambda k: _crafted(k, header={"alg": "none", "kid": k.kid}, signature=b""), False),
        (lambda k: _crafted(k, header={"alg": "RS512", "kid": k.kid}), False),
        (lambda k: _hs256(k, k.certs[k.kid].encode()), False),
        (lambda k: _crafted(k, header={"alg": "RS256"}), False),
        (lambda k: _crafted(k, header={"alg": "RS256", "kid": 1}), False),
        (lambda k: _crafted(k, header={"alg": "RS256", "kid": "unknown"}), False),
        (lambda k: _crafted(k, header=["RS256"]), False),
        (lambda k: _crafted(k, claims=["not", "an", "object"]), False),
        (lambda k: _crafted(k, signature=b""), False),
        (lambda k: _crafted(k)[:-4], False),  # truncated signature
        (lambda k: _crafted(k) + ".extra", False),
        (lambda k: _crafted(k).replace(".", "..", 1), False),
        (lambda k: "é." + _crafted(k).split(".", 1)[1], False),
        (lambda k: _b64(b"[" * 100_000) + "." + _crafted(k).split(".", 1)[1], False),
    ],
)
def test_headers_and_segments_are_checked(keys, make, accepted):
    token = make(keys)
    if accepted:
        assert verify(token, keys.url)["email"] == CALLER
    else:
        with pytest.raises(authentication.Unauthenticated):
            verify(token, keys.url)


def _claims(**overrides):
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "email": CALLER,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
        **overrides,
    }
    return {name: value for name, value in claims.items() if value is not None}


@pytest.mark.parametrize(
    ("overrides", "refusal"),
    [
        ({"aud": [AUDIENCE]}, authentication.Forbidden),
        ({"aud": {"url": AUDIENCE}}, authentication.Forbidden),
        ({"aud": 1}, authentication.Forbidden),
        ({"iss": ["https://accounts.google.com"]}, authentication.Unauthenticated),
        ({"iss": {"https://accounts.google.com": 1}}, authentication.Unauthenticated),
        ({"email": [CALLER]}, authentication.Forbidden),
        ({"email": {"address": CALLER}}, authentication.Forbidden),
    ],
    ids=lambda value: repr(value) if isinstance(value, dict) else value.__name__,
)
def test_claims_of_the_wrong_type_are_refused(keys, overrides, refusal):
    with pytest.raises(refusal):
        verify(_crafted(keys, claims=_claims(**overrides)), keys.url)


@pytest.mark.parametrize(
    ("nbf", "accepted"),
    [
        (None, True),
        (-60, True),
        (5, True),  # within the clock skew
        (60, False),
        (3000, False),
        ("0", False),
        (True, False),
        (float("nan"), False),
    ],
)
def test_not_before_is_checked(keys, nbf, accepted):
    if isinstance(nbf, int) and not isinstance(nbf, bool):
        nbf = int(time.time()) + nbf
    token = _crafted(keys, claims=_claims(nbf=nbf))
    if accepted:
        assert verify(token, keys.url)["email"] == CALLER
    else:
        with pytest.raises(authentication.Unauthenticated):
            verify(token, keys.url)


def _respelled(token, segment, spell):
    parts = token.split(".")
    parts[segment] = spell(parts[segment])
    return ".".join(parts)


def _last_bits_set(text):
    # The final character of a length-2 (mod 4) group carries 4 unused bits; setting one keeps
    # the decoded bytes and changes the spelling.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return text[:-1] + alphabet[alphabet.index(text[-1]) | 1]


def _two_mod_four(mapping):
    """`mapping` plus a filler field, grown until its base64url is 2 (mod 4) characters long."""
    mapping = {**mapping, "filler": ""}
    while len(_b64(json.dumps(mapping).encode())) % 4 != 2:
        mapping["filler"] += "x"
    return mapping


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "claims", "signature"])
@pytest.mark.parametrize(
    "spell",
    [
        lambda text: text + "==",
        lambda text: text[:8] + "!" + text[8:],
        lambda text: text[:8] + " " + text[8:],
        lambda text: text[:8] + "\n" + text[8:],
        lambda text: text.replace("-", "+").replace("_", "/") + "+/",
        _last_bits_set,
    ],
    ids=["padded", "bang", "space", "newline", "standard-alphabet", "stray-bits"],
)
def test_segments_are_decoded_strictly(keys, segment, spell):
    header = _two_mod_four({"alg": "RS256", "typ": "JWT", "kid": keys.kid})
    token = _crafted(keys, header=header, claims=_two_mod_four(_claims()))
    assert [len(part) % 4 for part in token.split(".")] == [2, 2, 2]  # 256-byte signature: 342
    assert verify(token, keys.url)["email"] == CALLER
    respelled = _respelled(token, segment, spell)
    assert respelled != token
    with pytest.raises(authentication.Unauthenticated):
        verify(respelled, keys.url)


@pytest.mark.parametrize(
    ("iat", "exp", "accepted"),
    [
        (-60, 3600, True),
        (5, 3600, True),  # issued slightly in the future: within the clock skew
        (60, 3600, False),  # issued in the future beyond the skew
        (-7200, -5, True),  # expired just now: within the clock skew
        (-7200, -60, False),  # expired
        (None, 3600, False),
        (-60, None, False),
        ("0", 3600, False),
        (-60, "9999999999", False),
        (True, 3600, False),
        (-60, float("inf"), False),
        (float("nan"), 3600, False),
    ],
)
def test_lifetime_is_checked(keys, iat, exp, accepted):
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "email": CALLER,
        "email_verified": True,
    }
    for name, offset in (("iat", iat), ("exp", exp)):
        if isinstance(offset, int) and not isinstance(offset, bool):
            claims[name] = now + offset
        elif offset is not None:
            claims[name] = offset
    token = _crafted(keys, claims=claims)
    if accepted:
        assert verify(token, keys.url)["email"] == CALLER
    else:
        with pytest.raises(authentication.Unauthenticated):
            verify(token, keys.url)


@pytest.mark.parametrize(
    ("shift", "lifetime", "refusal"),
    [
        (timedelta(0), 3600, None),
        (timedelta(hours=-2), 3600, authentication.Unauthenticated),  # expired an hour ago
        (timedelta(minutes=5), 3600, authentication.Unauthenticated),  # not yet valid
        (timedelta(seconds=-5), 1, None),  # expired 4 s ago: within the clock skew
    ],
)
def test_issuer_tokens_are_checked_against_wall_time(shift, lifetime, refusal):
    # The emulator stamps tokens on its own clock, so a shifted clock makes stale/early tokens.
    clock = clocks.ManualClock(datetime.now(UTC) + shift)
    with oidc.Issuer(clock=clock) as issuer:
        token = issuer.token(AUDIENCE, CALLER, lifetime=lifetime)
        if refusal is None:
            assert verify(token, issuer.certs_url)["sub"] == oidc.subject_of(CALLER)
        else:
            with pytest.raises(refusal):
                verify(token, issuer.certs_url)


def test_an_unparsable_certificate_refuses_only_its_own_tokens(keys):
    keys.certs["broken"] = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
    broken = _crafted(keys, header={"alg": "RS256", "kid": "broken"})
    with pytest.raises(authentication.Unauthenticated):
        verify(broken, keys.url)
    assert verify(keys.token(), keys.url)["email"] == CALLER


def test_certificates_are_parsed_once_per_fetch(keys):
    certificates = authentication.Certificates(keys.url, clock=FakeClock())
    verifier = certificates.verifier(keys.kid)
    assert verifier is not None
    assert all(certificates.verifier(keys.kid) is verifier for _ in range(20))
    assert certificates.verifier("unknown") is None
    assert certificates.fetches == 1


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_certificates_are_cached_for_their_max_age(keys):
    clock = FakeClock()
    certificates = authentication.Certificates(keys.url, clock=clock)
    for _ in range(50):
        assert certificates.get(keys.kid) == keys.certs[keys.kid]
    assert (certificates.fetches, keys.hits) == (1, 1)
    clock.now += 3599
    certificates.get(keys.kid)
    assert keys.hits == 1
    clock.now += 2
    certificates.get(keys.kid)
    assert keys.hits == 2


@pytest.mark.parametrize(
    ("cache_control", "lifetime"),
    [("max-age=60", 60), ("public, max-age=120, must-revalidate", 120), ("no-store", 0), ("", 300)],
)
def test_certificate_lifetime_follows_cache_control(keys, cache_control, lifetime):
    keys.cache_control = cache_control
    clock = FakeClock()
    certificates = authentication.Certificates(keys.url, clock=clock, min_refetch_seconds=0)
    certificates.get(keys.kid)
    clock.now += max(lifetime - 1, 0)
    certificates.get(keys.kid)
    assert keys.hits == (1 if lifetime else 2)
    clock.now += 2
    certificates.get(keys.kid)
    assert keys.hits == (2 if lifetime else 3)


def test_an_unknown_key_id_refetches_at_most_once_per_interval(keys):
    clock = FakeClock()
    certificates = authentication.Certificates(keys.url, clock=clock, min_refetch_seconds=30)
    certificates.get(keys.kid)
    for _ in range(20):
        assert certificates.get("rotated") is None
    assert keys.hits == 1  # the first fetch was just now
    clock.now += 31
    keys.certs["rotated"] = keys.certs[keys.kid]  # Google published a new key
    assert certificates.get("rotated") == keys.certs[keys.kid]
    assert keys.hits == 2


def test_failing_certificate_fetches_keep_the_old_ones_and_are_rate_limited(keys):
    clock = FakeClock()
    certificates = authentication.Certificates(keys.url, clock=clock, min_refetch_seconds=30)
    certificates.get(keys.kid)
    keys.status = 500
    clock.now += 3601
    assert certificates.get(keys.kid) == keys.certs[keys.kid]  # stale beats none
    assert certificates.get(keys.kid) == keys.certs[keys.kid]
    assert keys.hits == 2


def test_no_certificates_at_all_is_unavailable_not_unauthenticated(keys):
    keys.status = 503
    certificates = authentication.Certificates(keys.url, clock=FakeClock())
    with pytest.raises(authentication.CertificatesUnavailable):
        certificates.get(keys.kid)
    with pytest.raises(authentication.CertificatesUnavailable):
        certificates.get(keys.kid)
    assert keys.hits == 1  # the failure is not retried by every request


def test_concurrent_requests_share_one_fetch(keys):
    certificates = authentication.Certificates(keys.url)
    threads = [threading.Thread(target=certificates.get, args=(keys.kid,)) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert keys.hits == 1


def test_one_cache_per_url(keys, other_keys):
    assert authentication.certificates(keys.url) is authentication.certificates(keys.url)
    assert authentication.certificates(keys.url) is not authentication.certificates(other_keys.url)


@pytest.mark.parametrize(
    ("overrides", "path", "expected"),
    [
        ({}, "/gcp/tasks/A", {"https://tasks.example.com/gcp/tasks/A"}),
        (
            {"GCP_TASKS_OIDC_AUDIENCE": "https://audience.example.com"},
            "/gcp/tasks/A",
            {"https://audience.example.com"},
        ),
        ({"GCP_TASKS_DOMAIN": None}, "/gcp/tasks/A", {"http://testserver/gcp/tasks/A"}),
        (
            {},
            "/gcp/tasks/A?x=1",
            {"https://tasks.example.com/gcp/tasks/A", "https://tasks.example.com/gcp/tasks/A?x=1"},
        ),
    ],
)
def test_expected_audiences(overrides, path, expected):
    with override_settings(**overrides):
        assert authentication.expected_audiences(RequestFactory().post(path)) == expected


@pytest.mark.parametrize(
    "header", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc"]
)
def test_requests_without_a_bearer_token_are_unauthenticated(header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    request = RequestFactory().post("/gcp/tasks/A", **extra)
    with pytest.raises(authentication.Unauthenticated, match="Missing bearer token"):
        authentication.authenticate(request)


@override_settings(GCP_TASKS_DISABLE_AUTH=True)
def test_explicitly_disabled_verification_lets_requests_through():
    assert authentication.authenticate(RequestFactory().post("/gcp/tasks/A")) is None
