"""Classifying changes: what a plan creates, updates, replaces, destroys or forgets, and what forces a replacement."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_VALUE_CHARS = 60
SENSITIVE = "(sensitive)"

# What `action_reason` in a plan means, in words.
ACTION_REASONS = {
    "replace_because_tainted": "the resource is tainted (a previous apply failed part-way)",
    "replace_because_cannot_update": "the provider cannot change this attribute in place",
    "replace_by_request": "replacement was requested (`-replace`)",
    "replace_by_triggers": "`replace_triggered_by` fired",
    "delete_because_no_resource_config": "the resource is no longer in the configuration",
    "delete_because_no_module": "its module is no longer in the configuration",
    "delete_because_wrong_repetition": "`count`/`for_each` was added or removed",
    "delete_because_count_index": "its `count` index is out of range",
    "delete_because_each_key": "its `for_each` key is gone",
    "delete_because_no_move_target": "a `moved` block points at nothing",
}


@dataclass(frozen=True, kw_only=True)
class Forcing:
    """One attribute path that forces a replacement, with its old and new value where they may be shown."""

    path: str
    before: str
    after: str

    def describe(self) -> str:
        if self.before == self.after:
            return f"`{self.path}` (sensitive)" if self.before == SENSITIVE else f"`{self.path}`"
        return f"`{self.path}` ({self.before} → {self.after})"


@dataclass(frozen=True, kw_only=True)
class Change:
    address: str
    resource_type: str
    kind: str
    """created, updated, replaced, destroyed, forgotten or other."""
    actions: tuple[str, ...]
    forcing: tuple[Forcing, ...] = ()
    reason: str = ""
    attributes: tuple[str, ...] = ()
    """Top-level attributes an in-place update changes."""
    previous_address: str = ""

    @property
    def order(self) -> str:
        if self.actions == ("create", "delete"):
            return "created first, then the old one destroyed"
        if self.actions == ("delete", "create"):
            return "destroyed first, then created"
        return ""

    def forced_by(self) -> str:
        if self.forcing:
            return "forced by " + ", ".join(forcing.describe() for forcing in self.forcing)
        if self.reason:
            return f"no attribute forces it: {ACTION_REASONS.get(self.reason, self.reason)}"
        return "the plan names no attribute or reason"


def _kind(actions: tuple[str, ...]) -> str | None:
    if actions in {("no-op",), ("read",)}:
        return None
    return {
        ("create",): "created",
        ("update",): "updated",
        ("delete", "create"): "replaced",
        ("create", "delete"): "replaced",
        ("delete",): "destroyed",
        ("forget",): "forgotten",
    }.get(actions, "other")


def _path_text(path: Sequence[Any]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _at(value: Any, path: Sequence[Any]) -> tuple[bool, Any]:
    """(found, value) at `path`; a True on the way (sensitivity or unknown markers) is returned as found."""
    for step in path:
        if value is True:
            return True, True
        in_dict = isinstance(value, dict) and isinstance(step, str) and step in value
        in_list = isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)
        if not (in_dict or in_list):
            return False, None
        value = value[step]
    return True, value


def _shown(values: Any, sensitive: Any, path: Sequence[Any], unknown: Any = None) -> str:
    if _at(sensitive, path) == (True, True):
        return SENSITIVE
    if unknown is not None and _at(unknown, path) == (True, True):
        return "(known after apply)"
    found, value = _at(values, path)
    if not found:
        return "(unset)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return f"`{text}`" if len(text) <= MAX_VALUE_CHARS else f"`{text[: MAX_VALUE_CHARS - 1]}…`"


def _forcing(change: Mapping[str, Any]) -> tuple[Forcing, ...]:
    found = []
    for path in change.get("replace_paths") or []:
        steps = path if isinstance(path, list) else [path]
        found.append(
            Forcing(
                path=_path_text(steps),
                before=_shown(change.get("before"), change.get("before_sensitive"), steps),
                after=_shown(change.get("after"), change.get("after_sensitive"), steps, change.get("after_unknown")),
            )
        )
    return tuple(found)


def _updated_attributes(change: Mapping[str, Any]) -> tuple[str, ...]:
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ()
    keys = set(before) | set(after) | (set(unknown) if isinstance(unknown, dict) else set())
    return tuple(
        sorted(
            key for key in keys if before.get(key) != after.get(key) or (isinstance(unknown, dict) and unknown.get(key) is True)
        )
    )


def classify(plan: Mapping[str, Any]) -> list[Change]:
    """Every managed resource the plan changes (no-ops and data-source reads left out), in plan order."""
    changes: list[Change] = []
    for resource in plan.get("resource_changes") or []:
        if resource.get("mode", "managed") != "managed":
            continue
        change = resource.get("change") or {}
        actions = tuple(change.get("actions") or ())
        kind = _kind(actions)
        if kind is None:
            continue
        changes.append(
            Change(
                address=str(resource.get("address")),
                resource_type=str(resource.get("type")),
                kind=kind,
                actions=actions,
                forcing=_forcing(change) if kind == "replaced" else (),
                reason=str(resource.get("action_reason") or ""),
                attributes=_updated_attributes(change) if kind == "updated" else (),
                previous_address=str(resource.get("previous_address") or ""),
            )
        )
    return changes


def values_before(plan: Mapping[str, Any], address: str) -> Mapping[str, Any]:
    """The resource's attributes before the change (after it, for a create)."""
    for resource in plan.get("resource_changes") or []:
        if resource.get("address") == address:
            change = resource.get("change") or {}
            before = change.get("before") or change.get("after") or {}
            return before if isinstance(before, dict) else {}
    return {}
