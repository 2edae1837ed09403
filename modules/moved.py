"""`moved` blocks for resources whose construct id changed, so Terraform renames their state instead of
destroying and re-creating them (a re-created security group rule drops connections for a moment; a
re-created e-mail subscription waits for its confirmation again).

cdktf 0.21 can only move between two resources that both exist in the program, so the old address is
computed here with cdktf's own logical-id rule (cdktf/lib/private/unique.js, `makeUniqueId`), which
tests/stacks/test_stable_ids.py pins against cdktf itself.
"""

from __future__ import annotations

import hashlib
import re

from cdktf import TerraformResource, TerraformStack
from constructs import Construct

_HIDDEN_ID = "Default"
_HIDDEN_FROM_HUMAN_ID = "Resource"
_MAX_HUMAN_LENGTH = 240
_REGISTRY_ID = "moved-addresses"


def logical_id(components: list[str]) -> str:
    """The logical id cdktf allocates for a resource at the construct path `components` (without the stack)."""
    components = [component for component in components if component != _HIDDEN_ID]
    if len(components) == 1:
        return _allowed(components[0])
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()[:8].upper()
    human: list[str] = []
    for component in components:
        if not human or not human[-1].endswith(component):
            human.append(component)
    readable = "_".join(_allowed(part) for part in human if part != _HIDDEN_FROM_HUMAN_ID)[:_MAX_HUMAN_LENGTH]
    return f"{readable}_{digest}"


def _allowed(component: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", component)


class _MovedAddresses(Construct):
    """One per stack: collects every move and writes them as the stack's `moved` list."""

    def __init__(self, stack: TerraformStack) -> None:
        super().__init__(stack, _REGISTRY_ID)
        self.moves: list[dict[str, str]] = []

    @classmethod
    def of(cls, stack: TerraformStack) -> _MovedAddresses:
        found = stack.node.try_find_child(_REGISTRY_ID)
        return found if isinstance(found, _MovedAddresses) else cls(stack)


def moved_from(resource: TerraformResource, former_id: str) -> None:
    """Declare that `resource` was the sibling construct `former_id` before.

    A `moved` block whose old address is not in the state (new environments, or one that already applied
    the move) does nothing, so the declaration is safe to keep.
    """
    stack = TerraformStack.of(resource)
    scope_path = [part for part in resource.node.scope.node.path.split("/")[1:] if part] if resource.node.scope else []
    resource_type = resource.terraform_resource_type
    registry = _MovedAddresses.of(stack)
    registry.moves.append(
        {
            "from": f"{resource_type}.{logical_id([*scope_path, former_id])}",
            "to": f"{resource_type}.{stack.get_logical_id(resource)}",
        }
    )
    stack.add_override("moved", registry.moves)
