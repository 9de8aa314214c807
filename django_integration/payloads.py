"""Task arguments as JSON: one canonical encoding, so equal arguments give equal bytes and hashes.

Purely data. Datetimes, dates, times, durations, UUIDs and Decimals are written as Django's
`DjangoJSONEncoder` writes them; sets become sorted lists; file fields their URL (as django-gcp).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models.fields.files import FieldFile

from django_integration import exceptions


class JSONEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder plus sets (sorted, so the encoding is canonical) and file fields."""

    def default(self, o: Any) -> Any:
        if isinstance(o, set | frozenset):
            # Sort by each member's own encoding: members of mixed types cannot be compared.
            return sorted(o, key=lambda member: json.dumps(member, cls=JSONEncoder, sort_keys=True))
        if isinstance(o, FieldFile):
            return o.url if o else None
        return super().default(o)


# One encoder for every call: json.dumps would build a new one each time (it is stateless).
_CANONICAL = JSONEncoder(sort_keys=True, separators=(",", ":"))


def encode(value: Any) -> str:
    """The canonical JSON text of `value`: sorted keys, no whitespace."""
    try:
        return _CANONICAL.encode(value)
    except (TypeError, ValueError) as error:
        raise exceptions.PayloadNotSerializableError(
            f"Task arguments must be JSON-serializable: {error}"
        ) from error


def digest(text: str, digits: int = 32) -> str:
    """A hex SHA-256 prefix of `text`; 32 digits make collisions negligible at any volume."""
    if digits < 16:
        raise ValueError("a task-name digest needs at least 16 hex digits")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:digits]


def decode_kwargs(body: bytes) -> dict[str, Any]:
    """Keyword arguments from a Cloud Tasks or Cloud Scheduler body; empty means none."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_constant=_not_json)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"request body is not JSON: {error}") from error
    except RecursionError as error:  # valid JSON nested deeper than Python can build
        raise ValueError("request body is nested too deeply") from error
    if not isinstance(value, dict):
        raise ValueError(f"request body must be a JSON object, not {type(value).__name__}")
    return value


def _not_json(constant: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON has not (nor databases' JSON columns).
    raise json.JSONDecodeError(f"{constant} is not a JSON value", constant, 0)
