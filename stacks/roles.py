"""Which role a synthesized stack's provider and state backend assume: the deploy role, or the read-only plan role.

`main.py` synthesizes for deploying unless AURORA_MIGRATION_ROLE=plan (`make plan`, `make drift`): then both
`assume_role` blocks name `deployment.plan_role_arn`, and nothing else in the stack changes, so a plan made for
review plans exactly the configuration a deploy applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from config.model import EnvironmentConfig

ROLE_ENV_VAR = "AURORA_MIGRATION_ROLE"
PLAN_SESSION_SUFFIX = "-plan"
_SESSION_NAME_MAX = 64  # STS RoleSessionName


class Purpose(StrEnum):
    DEPLOY = "deploy"
    PLAN = "plan"


def purpose_from(value: str | None) -> Purpose:
    """The purpose AURORA_MIGRATION_ROLE names (unset or empty: deploy); ValueError on anything else."""
    if not value:
        return Purpose.DEPLOY
    try:
        return Purpose(value)
    except ValueError:
        raise ValueError(f"{ROLE_ENV_VAR}: expected one of {[purpose.value for purpose in Purpose]}, got {value!r}") from None


@dataclass(frozen=True, kw_only=True)
class AssumedRole:
    """What the provider's and the state backend's `assume_role` blocks both say (config: `[deployment]`)."""

    role_arn: str
    session_name: str
    external_id: str | None


def purpose_problems(configs: Sequence[EnvironmentConfig], purpose: Purpose) -> list[str]:
    """One line per environment that cannot be synthesized for `purpose`."""
    if purpose is not Purpose.PLAN:
        return []
    return [
        f"{config.environment_suffix}: deployment.plan_role_arn is not set, so a plan would run as the deploy "
        f'role {config.deployment.role_arn}: set a read-only plan role (runbook, "CI roles")'
        for config in configs
        if config.deployment.plan_role_arn is None and config.deployment.role_arn is not None
    ]


def assumed_role(config: EnvironmentConfig, purpose: Purpose = Purpose.DEPLOY) -> AssumedRole | None:
    """The role the provider and the state backend assume; None: the caller's credentials as they are."""
    deployment = config.deployment
    session_name = deployment.session_name or config.stack_name
    if purpose is Purpose.PLAN:
        if deployment.plan_role_arn is None:
            if deployment.role_arn is not None:
                raise ValueError(purpose_problems([config], purpose)[0])
            return None
        session_name = session_name[: _SESSION_NAME_MAX - len(PLAN_SESSION_SUFFIX)] + PLAN_SESSION_SUFFIX
        return AssumedRole(role_arn=deployment.plan_role_arn, session_name=session_name, external_id=deployment.external_id)
    if deployment.role_arn is None:
        return None
    return AssumedRole(role_arn=deployment.role_arn, session_name=session_name, external_id=deployment.external_id)
