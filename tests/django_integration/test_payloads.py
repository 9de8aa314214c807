import datetime
import decimal
import json
import uuid

import pytest

from django_integration import exceptions, payloads

WHEN = datetime.datetime(2025, 1, 15, 12, 30, 1, 123456, tzinfo=datetime.UTC)
ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({}, "{}"),
        ({"b": 1, "a": 2}, '{"a":2,"b":1}'),
        ({"when": WHEN}, '{"when":"2025-01-15T12:30:01.123Z"}'),
        ({"day": datetime.date(2025, 1, 15)}, '{"day":"2025-01-15"}'),
        ({"id": ID}, '{"id":"12345678-1234-5678-1234-567812345678"}'),
        ({"price": decimal.Decimal("9.99")}, '{"price":"9.99"}'),
        ({"tags": {"b", "a", "c"}}, '{"tags":["a","b","c"]}'),
        ({"mixed": frozenset({2, "x"})}, '{"mixed":["x",2]}'),  # by encoding: '"' < '2'
        (
            {"nested": {"z": [1, {"y": None, "x": True}]}},
            '{"nested":{"z":[1,{"x":true,"y":null}]}}',
        ),
        ({"text": "naïve"}, '{"text":"na\\u00efve"}'),
    ],
)
def test_encode_is_canonical_json(value, text):
    assert payloads.encode(value) == text


def test_equal_arguments_give_equal_digests_whatever_their_order():
    first = payloads.encode({"a": 1, "b": {"c", "d"}})
    second = payloads.encode({"b": {"d", "c"}, "a": 1})
    assert payloads.digest(first) == payloads.digest(second)
    assert payloads.digest(first) != payloads.digest(payloads.encode({"a": 2, "b": {"c", "d"}}))


@pytest.mark.parametrize("digits", [16, 32, 64])
def test_digest_is_a_hex_prefix_of_sha256(digits):
    value = payloads.digest("{}", digits)
    assert len(value) == digits
    assert value == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"[:digits]


def test_digest_refuses_short_hashes_that_collide():
    with pytest.raises(ValueError, match="at least 16"):
        payloads.digest("{}", 8)


def test_unserializable_arguments_are_a_clear_error():
    with pytest.raises(exceptions.PayloadNotSerializableError, match="JSON-serializable"):
        payloads.encode({"thing": object()})


@pytest.mark.parametrize(
    ("body", "kwargs"),
    [
        (b"", {}),
        (b"  \n", {}),
        (b"{}", {}),
        (b'{"a": [1, 2], "b": "x"}', {"a": [1, 2], "b": "x"}),
    ],
)
def test_decode_kwargs(body, kwargs):
    assert payloads.decode_kwargs(body) == kwargs


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "must be a JSON object, not list"),
        (b'"text"', "must be a JSON object, not str"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "nested too deeply", id="deep"),
    ],
)
def test_decode_kwargs_refuses_what_is_not_an_object(body, message):
    with pytest.raises(ValueError, match=message):
        payloads.decode_kwargs(body)


def test_round_trip_keeps_json_types():
    value = {"n": 1, "f": 1.5, "s": "x", "l": [1, "2"], "d": {"k": None}}
    assert json.loads(payloads.encode(value)) == value
