"""Classifying changes: what a plan creates, updates, replaces, destroys, forgets, moves or imports, and why.

The plan has been checked against the documented structure (schema.py) before it gets here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from review.plan_risk.values import SENSITIVE, changed_attributes, path_text, shown

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
KINDS: dict[tuple[str, ...], str] = {
    ("create",): "created",
    ("update",): "updated",
    ("delete", "create"): "replaced",
    ("create", "delete"): "replaced",
    ("create", "forget"): "replaced",
    ("delete",): "destroyed",
    ("forget",): "forgotten",
    ("no-op",): "unchanged",
}
ORDERS: dict[tuple[str, ...], str] = {
    ("create", "delete"): "created first, then the old one destroyed",
    ("delete", "create"): "destroyed first, then created",
    ("create", "forget"): "created first, then the old one forgotten (kept in AWS, unmanaged)",
}
MEANINGS = {
    "moved": "a `moved` block: the state moves to the new address, the AWS object stays as it is",
    "moved-type": "a `moved` block to another resource type: the provider converts the state (Terraform 1.8+), and from "
    "now on the new type's rules (what forces a replacement, what a destroy deletes) apply to the same AWS object",
    "imported": "an `import` block: Terraform takes an existing AWS object under management; the action listed for it "
    "applies to that object",
    "forgotten": "a `removed` block with `destroy = false`: Terraform forgets the object, which stays in AWS unmanaged "
    "(no drift detection, not deleted by `cdktf destroy`, still billed)",
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
    """created, updated, replaced, destroyed, forgotten or unchanged (kept only when moved or imported)."""
    actions: tuple[str, ...]
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    before_sensitive: Any
    after_sensitive: Any
    after_unknown: Any
    forcing: tuple[Forcing, ...] = ()
    reason: str = ""
    attributes: tuple[str, ...] = ()
    """Top-level attributes an in-place update changes."""
    previous_address: str = ""
    importing: str | None = None
    """The ID an `import` block takes over (None: not imported)."""

    @property
    def order(self) -> str:
        return ORDERS.get(self.actions, "")

    @property
    def previous_type(self) -> str:
        return resource_type_of(self.previous_address) if self.previous_address else ""

    @property
    def moved_type(self) -> bool:
        return bool(self.previous_address) and self.previous_type != self.resource_type

    @property
    def values(self) -> Mapping[str, Any]:
        """The attributes before the change (after it, for a create)."""
        return self.before or self.after

    def shown(self, attribute: str) -> tuple[str, str]:
        """The attribute's old and new value as a reviewer may see them (sensitive parts hidden)."""
        return (
            shown(self.before, self.before_sensitive, [attribute]),
            shown(self.after, self.after_sensitive, [attribute], self.after_unknown),
        )

    def forced_by(self) -> str:
        if self.forcing:
            return "forced by " + ", ".join(forcing.describe() for forcing in self.forcing)
        if self.reason:
            return f"no attribute forces it: {ACTION_REASONS.get(self.reason, self.reason)}"
        return "the plan names no attribute or reason"


def resource_type_of(address: str) -> str:
    """`module.db["a.b"].aws_rds_cluster.main[0]` -> `aws_rds_cluster` (module keys may hold dots)."""
    text, parts, depth, current = address, [], 0, ""
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    while parts and parts[0] == "module":
        parts = parts[2:]
    return parts[0] if parts else ""


def _forcing(change: Mapping[str, Any]) -> tuple[Forcing, ...]:
    return tuple(
        Forcing(
            path=path_text(steps),
            before=shown(change["before"], change["before_sensitive"], steps),
            after=shown(change["after"], change["after_sensitive"], steps, change.get("after_unknown")),
        )
        for steps in change.get("replace_paths") or []
    )


def _change(resource: Mapping[str, Any]) -> Change | None:
    change = resource["change"]
    actions = tuple(change["actions"])
    kind = KINDS.get(actions)
    moved, importing = resource.get("previous_address", ""), (change.get("importing") or {}).get("id", "")
    if kind is None or (kind == "unchanged" and not moved and "importing" not in change):
        return None
    return Change(
        address=resource["address"],
        resource_type=resource["type"],
        kind=kind,
        actions=actions,
        before=change["before"] or {},
        after=change["after"] or {},
        before_sensitive=change["before_sensitive"],
        after_sensitive=change["after_sensitive"],
        after_unknown=change.get("after_unknown") or {},
        forcing=_forcing(change) if kind == "replaced" else (),
        reason=resource.get("action_reason", ""),
        attributes=changed_attributes(change["before"], change["after"], change.get("after_unknown"))
        if kind == "updated"
        else (),
        previous_address=moved,
        importing=str(importing) if "importing" in change else None,
    )


def classify(plan: Mapping[str, Any], key: str = "resource_changes") -> list[Change]:
    """Every managed resource the plan changes, moves or imports (no-ops and data-source reads left out), in order.

    `key="resource_drift"`: what changed outside Terraform since the last apply, in the same shape."""
    changes = []
    for resource in plan.get(key, []):
        if resource["mode"] != "managed":
            continue
        change = _change(resource)
        if change is not None:
            changes.append(change)
    return changes
