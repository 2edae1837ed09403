"""Which stack a plan is for, read from the plan itself (never from its file name).

`terraform show -json` carries no backend block and no cdktf metadata (checked with Terraform 1.11.4: only
`configuration.provider_config` and the resources). What it does carry is the AWS provider's configuration, and every
stack sets `default_tags` with `project` (the name prefix) and `environment` (the suffix): the stack is
`<project>-<environment>` (contract/naming.py, `Naming.stack_name`). A saved plan also holds the configuration it was
made from (`tfconfig/m-/cdk.tf.json`), whose cdktf metadata names the stack (`//.metadata.stackName`); when both are
there they must agree (the name alone will do for a saved plan without tags). A plan that names no stack, or more
than one, cannot be judged: acknowledgements are per stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contract.naming import Naming

PROJECT_TAG = "project"
ENVIRONMENT_TAG = "environment"


class IdentityError(ValueError):
    """The plan does not say which stack it is for, or says two things."""


@dataclass(frozen=True, kw_only=True)
class StackIdentity:
    stack: str
    environment: str
    """The environment suffix (`--env` of the operations commands); "" when only the cdktf stack name is known."""


def _tag_identity(tags: Any) -> tuple[str, str] | None:
    if not isinstance(tags, dict):
        return None
    project, environment = tags.get(PROJECT_TAG), tags.get(ENVIRONMENT_TAG)
    if isinstance(project, str) and isinstance(environment, str) and project and environment:
        return project, environment
    return None


def _from_provider_config(plan: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(project, environment) of every AWS provider block's constant `default_tags`."""
    found = set()
    providers = plan.get("configuration", {}).get("provider_config", {})
    for provider in providers.values() if isinstance(providers, dict) else ():
        if not isinstance(provider, dict) or provider.get("name") != "aws":
            continue
        blocks = provider.get("expressions", {}).get("default_tags", [])
        for block in blocks if isinstance(blocks, list) else ():
            tags = block.get("tags", {}).get("constant_value") if isinstance(block, dict) else None
            identity = _tag_identity(tags)
            if identity:
                found.add(identity)
    return found


def _from_stack_config(config: Mapping[str, Any]) -> tuple[str | None, set[tuple[str, str]]]:
    """The cdktf stack name and the providers' default tags of a saved plan's `cdk.tf.json`."""
    metadata = config.get("//", {}).get("metadata", {}) if isinstance(config.get("//"), dict) else {}
    name = metadata.get("stackName") if isinstance(metadata, dict) else None
    found = set()
    providers = config.get("provider", {}).get("aws", []) if isinstance(config.get("provider"), dict) else []
    for provider in providers if isinstance(providers, list) else ():
        blocks = provider.get("default_tags", []) if isinstance(provider, dict) else []
        for block in blocks if isinstance(blocks, list) else ():
            identity = _tag_identity(block.get("tags") if isinstance(block, dict) else None)
            if identity:
                found.add(identity)
    return (name if isinstance(name, str) and name else None), found


def plan_identity(plan: Mapping[str, Any], saved_config: Mapping[str, Any] | None = None) -> StackIdentity:
    """The stack and environment the plan is for; IdentityError when the plan does not tell, or contradicts itself."""
    tagged = _from_provider_config(plan)
    metadata_name: str | None = None
    if saved_config is not None:
        metadata_name, saved_tags = _from_stack_config(saved_config)
        tagged |= saved_tags
    if len(tagged) > 1:
        named = ", ".join(f"{PROJECT_TAG}={p} {ENVIRONMENT_TAG}={e}" for p, e in sorted(tagged))
        raise IdentityError(f"the AWS providers' default_tags name more than one stack ({named})")
    if not tagged and metadata_name is not None:
        return StackIdentity(stack=metadata_name, environment="")
    if not tagged:
        raise IdentityError(
            f"cannot tell which stack the plan is for: no AWS provider in `configuration.provider_config` has constant "
            f"`default_tags` with `{PROJECT_TAG}` and `{ENVIRONMENT_TAG}` (acknowledgements are per stack)"
        )
    [(project, environment)] = tagged
    stack = Naming(prefix=project, suffix=environment).stack_name
    if metadata_name is not None and metadata_name != stack:
        raise IdentityError(f"the saved plan's cdktf stack name {metadata_name!r} differs from its default_tags ({stack!r})")
    return StackIdentity(stack=stack, environment=environment)
