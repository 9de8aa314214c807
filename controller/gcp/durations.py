"""Google's `Duration` messages read raw, as the adapters' listings read them."""

from __future__ import annotations

from typing import Any

_MICROS = 1_000_000


def seconds(duration: Any) -> float:
    """A raw `google.protobuf.Duration` in seconds, to the microsecond, exactly as proto-plus's
    `timedelta(...).total_seconds()` read it; an unset one is 0 (the planner reads 0 as Google's
    default where Google does)."""
    return (duration.seconds * _MICROS + duration.nanos // 1000) / _MICROS
