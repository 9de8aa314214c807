"""Google's JSON form of `google.protobuf.Duration` ("180s", "0.5s") to seconds and back."""

from __future__ import annotations

import decimal
import re

PATTERN = r"^[0-9]+(\.[0-9]{1,9})?s$"  # non-negative only: no field of ours takes a negative one
_PATTERN = re.compile(PATTERN)
_NANOS = 10**9


def parse(text: str) -> float:
    """Seconds in a duration string; `ValueError` names the expected form."""
    if not _PATTERN.fullmatch(text):
        raise ValueError(f"{text!r} is not a duration like '180s' or '0.5s'")
    return float(decimal.Decimal(text[:-1]))


def format(seconds: float) -> str:
    """The shortest exact string for `seconds`, to the nanosecond: 180.0 -> "180s"."""
    nanos = round(decimal.Decimal(repr(float(seconds))) * _NANOS)
    whole, fraction = divmod(int(nanos), _NANOS)
    if not fraction:
        return f"{whole}s"
    return f"{whole}.{fraction:09d}".rstrip("0") + "s"
