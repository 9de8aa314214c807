"""runserver's `addrport`, and the URL the emulators push to."""

import pytest

from django_integration.devserver import addresses


@pytest.mark.parametrize(
    ("addrport", "addr", "port", "url"),
    [
        (None, "127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("8001", "127.0.0.1", 8001, "http://127.0.0.1:8001"),
        ("0.0.0.0:8000", "0.0.0.0", 8000, "http://127.0.0.1:8000"),
        ("0:8000", "0", 8000, "http://127.0.0.1:8000"),
        ("localhost:9000", "localhost", 9000, "http://localhost:9000"),
        ("192.168.1.20:80", "192.168.1.20", 80, "http://192.168.1.20:80"),
        ("[::]:8000", "::", 8000, "http://[::1]:8000"),
        ("[::1]:8000", "::1", 8000, "http://[::1]:8000"),
        ("0", "127.0.0.1", 0, "http://127.0.0.1:0"),
    ],
)
def test_parse(addrport, addr, port, url):
    address = addresses.parse(addrport)
    assert (address.addr, address.port, address.url) == (addr, port, url)


@pytest.mark.parametrize(
    ("addrport", "runserver_argument"),
    [("0.0.0.0:8000", "0.0.0.0:8000"), ("[::]:8000", "[::]:8000"), (None, "127.0.0.1:8000")],
)
def test_addrport_is_what_runserver_takes(addrport, runserver_argument):
    assert addresses.parse(addrport).addrport == runserver_argument


@pytest.mark.parametrize("addrport", ["eighty", "127.0.0.1:", ":8000", "1.2.3.4:99999", "[::1]"])
def test_anything_else_is_refused(addrport):
    with pytest.raises(ValueError, match="not a valid port"):
        addresses.parse(addrport)
