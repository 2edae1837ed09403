"""The documented structure of `terraform show -json <plan>` (format 1.x), checked before anything reads the plan.

Terraform's "JSON Output Format" (internals) page: a top-level object with `format_version` "1.x"; `resource_changes` and
`resource_drift` lists of objects with `address`, `mode` (`managed` or `data`), `type`, `name` and a `change` object:
`actions` one of the documented action lists, `before` / `after` (an object or null), `before_sensitive` /
`after_sensitive` (markers: a boolean, or an object or list mirroring the value). What does not match is refused with the
first problem's JSON path, so a plan is never half read: a misspelt `mode` or a string `actions` would otherwise be
skipped as "no change".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

FORMAT_VERSION = re.compile(r"1\.\d+")
MODES = frozenset({"managed", "data"})
ACTIONS = frozenset({"no-op", "create", "read", "update", "delete", "forget"})
# The action lists Terraform writes (terraform/internal/command/jsonplan, Terraform 1.7+ for forget).
ACTION_LISTS = frozenset(
    {
        ("no-op",),
        ("create",),
        ("read",),
        ("update",),
        ("delete", "create"),
        ("create", "delete"),
        ("delete",),
        ("forget",),
        ("create", "forget"),
    }
)
RESOURCE_LISTS = ("resource_changes", "resource_drift")


class PlanShapeError(ValueError):
    """The first place where the plan departs from the documented structure: `<JSON path>: <what is wrong>`."""


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def _got(value: Any) -> str:
    text = repr(value) if isinstance(value, str | int | float | bool) else _type_name(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _require(condition: bool, path: str, expected: str, value: Any) -> None:
    if not condition:
        raise PlanShapeError(f"{path}: expected {expected}, got {_got(value)}")


def _present(mapping: Mapping[str, Any], key: str, path: str, expected: str) -> None:
    if key not in mapping:
        raise PlanShapeError(f"{path}.{key}: missing (expected {expected})")


def _markers(value: Any, path: str) -> None:
    """A sensitivity or unknown marker: true/false, or objects and lists of them."""
    if isinstance(value, bool):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _markers(item, f"{path}.{key}")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _markers(item, f"{path}[{index}]")
        return
    _require(False, path, "a marker (true/false, or an object or list of them)", value)


def _change(change: Any, path: str) -> None:
    _require(isinstance(change, dict), path, "an object", change)
    actions = change.get("actions")
    _require(isinstance(actions, list), f"{path}.actions", "a list of actions", actions)
    for index, action in enumerate(actions):
        _require(action in ACTIONS, f"{path}.actions[{index}]", f"one of {', '.join(sorted(ACTIONS))}", action)
    _require(tuple(actions) in ACTION_LISTS, f"{path}.actions", "an action list Terraform writes", actions)
    for key in ("before", "after"):
        _present(change, key, path, "an object or null")
        _require(change[key] is None or isinstance(change[key], dict), f"{path}.{key}", "an object or null", change[key])
    for key in ("before_sensitive", "after_sensitive"):
        _present(change, key, path, "a sensitivity marker")
        _markers(change[key], f"{path}.{key}")
    if "after_unknown" in change:
        _markers(change["after_unknown"], f"{path}.after_unknown")
    replace_paths = change.get("replace_paths", [])
    _require(isinstance(replace_paths, list), f"{path}.replace_paths", "a list of attribute paths", replace_paths)
    for index, steps in enumerate(replace_paths):
        where = f"{path}.replace_paths[{index}]"
        _require(isinstance(steps, list), where, "an attribute path (a list of names and indexes)", steps)
        for step in steps:
            _require(isinstance(step, str | int) and not isinstance(step, bool), where, "names and indexes", step)
    importing = change.get("importing")
    _require(importing is None or isinstance(importing, dict), f"{path}.importing", "an object", importing)


def _resource(item: Any, path: str) -> None:
    _require(isinstance(item, dict), path, "an object", item)
    for key in ("address", "type", "name"):
        _require(isinstance(item.get(key), str) and bool(item.get(key)), f"{path}.{key}", "a non-empty string", item.get(key))
    _require(item.get("mode") in MODES, f"{path}.mode", "managed or data", item.get("mode"))
    for key in ("previous_address", "action_reason", "module_address"):
        if key in item:
            _require(isinstance(item[key], str), f"{path}.{key}", "a string", item[key])
    _present(item, "change", path, "an object")
    _change(item["change"], f"{path}.change")


def check_plan_shape(plan: Any) -> None:
    """PlanShapeError naming the first place where the plan departs from the documented structure."""
    _require(isinstance(plan, dict), "$", "an object", plan)
    version = plan.get("format_version")
    _require(isinstance(version, str) and bool(FORMAT_VERSION.fullmatch(version)), "$.format_version", '"1.x"', version)
    for key in RESOURCE_LISTS:
        items = plan.get(key, [])
        _require(isinstance(items, list), f"$.{key}", "a list", items)
        for index, item in enumerate(items):
            _resource(item, f"$.{key}[{index}]")
    for key in ("configuration", "planned_values"):
        if key in plan:
            _require(isinstance(plan[key], dict), f"$.{key}", "an object", plan[key])
    providers = plan.get("configuration", {}).get("provider_config", {})
    _require(isinstance(providers, dict), "$.configuration.provider_config", "an object", providers)
    for key in ("errored", "complete"):
        if key in plan:
            _require(isinstance(plan[key], bool), f"$.{key}", "a boolean", plan[key])
