"""Values of a plan as a reviewer may see them: sensitive parts hidden wherever the plan's marker sits.

`before_sensitive` / `after_sensitive` mirror the structure of `before` / `after` (objects, lists of nested blocks) with
`true` at each sensitive leaf; `true` at any level hides everything under it, and a bare `true` hides the whole object.
`after_unknown` has the same shape for values known only after apply.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

MAX_VALUE_CHARS = 60
SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"
UNSET = "(unset)"

Path = Sequence[str | int]


def path_text(path: Path) -> str:
    """`postgres_settings[0].password`: Terraform's own way of writing an attribute path."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def at(value: Any, path: Path) -> tuple[bool, Any]:
    """(found, value) at `path`; a `true` marker on the way (sensitive or unknown above the path) is found as True."""
    for step in path:
        if value is True:
            return True, True
        in_dict = isinstance(value, dict) and isinstance(step, str) and step in value
        in_list = isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)
        if not (in_dict or in_list):
            return False, None
        value = value[step]
    return True, value


def marked(markers: Any, path: Path) -> bool:
    """Whether the marker structure (`*_sensitive`, `after_unknown`) marks `path` or anything above it."""
    return at(markers, path) == (True, True)


def masked(value: Any, sensitive: Any) -> Any:
    """`value` with every part the marker structure marks replaced by "(sensitive)", at any depth."""
    if sensitive is True:
        return SENSITIVE
    if isinstance(value, dict) and isinstance(sensitive, dict):
        return {key: masked(item, sensitive.get(key)) for key, item in value.items()}
    if isinstance(value, list) and isinstance(sensitive, list):
        return [masked(item, sensitive[index] if index < len(sensitive) else None) for index, item in enumerate(value)]
    return value


def shown(values: Any, sensitive: Any, path: Path, unknown: Any = None) -> str:
    """The value at `path` for a report: "(sensitive)" if marked at or above it, sensitive parts below it masked."""
    if marked(sensitive, path):
        return SENSITIVE
    if unknown is not None and marked(unknown, path):
        return UNKNOWN
    found, value = at(values, path)
    if not found:
        return UNSET
    _, below = at(sensitive, path)
    text = json.dumps(masked(value, below), ensure_ascii=False, sort_keys=True)
    return f"`{text}`" if len(text) <= MAX_VALUE_CHARS else f"`{text[: MAX_VALUE_CHARS - 1]}…`"


def changed_attributes(before: Any, after: Any, unknown: Any = None) -> tuple[str, ...]:
    """Top-level attributes whose value differs (or becomes unknown), sorted; names are never sensitive."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    unknown = unknown if isinstance(unknown, dict) else {}
    keys = set(before) | set(after) | set(unknown)
    return tuple(sorted(key for key in keys if before.get(key) != after.get(key) or unknown.get(key) is True))
