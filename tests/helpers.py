"""Shared test helpers: synthesize a small scope in-process and look things up in the JSON."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from cdktf import App, TerraformStack, Testing

from modules.aws import AwsProvider

Document = dict[str, Any]


def synth_scope(build: Callable[[TerraformStack], object]) -> Document:
    """Build constructs into a fresh stack (same process, so cheap) and return the parsed JSON."""
    app = App()
    stack = TerraformStack(app, "unit")
    AwsProvider(stack, "aws", region="eu-west-1")
    build(stack)
    parsed: Document = json.loads(Testing.synth(stack))
    return parsed


def synth_props(construct: Callable[..., object], construct_id: str, props: Any, **changes: Any) -> Document:
    """One `construct` built from the dataclass `props` with `changes` (dataclasses.replace), synthesized alone."""
    changed = dataclasses.replace(props, **changes)
    return synth_scope(lambda stack: construct(stack, construct_id, props=changed))


def resources(document: Document, resource_type: str) -> dict[str, Any]:
    """All resources of one type, keyed by logical id (empty if none)."""
    found: dict[str, Any] = document.get("resource", {}).get(resource_type, {})
    return found


def only_resource(document: Document, resource_type: str) -> Any:
    found = resources(document, resource_type)
    assert len(found) == 1, f"expected exactly one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))
