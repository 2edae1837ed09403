"""Small formatting helpers that messages across the project share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

DEFAULT_LISTED = 10


def listed(items: Sequence[str], limit: int = DEFAULT_LISTED) -> str:
    """`a, b, c and 7 more`: at most `limit` items, then how many were left out."""
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def first_line(error: BaseException) -> str:
    """The first line of an error's message, or its type name when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def human_size(size: float) -> str:
    """Bytes in B, KB, MB, GB or TB (powers of 1024), one decimal above bytes."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def human_duration(seconds: float | timedelta) -> str:
    """`45 s`, `12 min` or `3.5 h`."""
    value = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
    if value < 120:
        return f"{value:.0f} s"
    return f"{value / 60:.0f} min" if value < 7200 else f"{value / 3600:.1f} h"
