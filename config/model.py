"""The typed model of one environment's configuration: `EnvironmentConfig` and the rules across its sections.

Every field is either required or has a documented default; docs/reference.md's
configuration reference is generated from the same field descriptions
(`python -m docgen.reference`). Models are frozen and reject unknown keys so
a typo in a TOML file is an error, not a silently ignored setting.

The sections live beside this file by concern (network.py, aurora.py, dms.py,
monitoring.py, deployment.py, short_lived.py; the shared value shapes in fields.py) and are
re-exported here, so `from config.model import DmsConfig` names them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pydantic import Field, ValidationInfo, model_validator

from config.aurora import AURORA_RULES, AuroraConfig, ObservabilityConfig, ReaderAutoScalingConfig
from config.deployment import DeploymentConfig, StateBackendConfig
from config.dms import DmsConfig, TableSelection
from config.fields import AccountId, EnvironmentSuffix, NamePrefix, Region, StrictModel, TagKey, TagValue
from config.monitoring import MonitoringConfig
from config.network import NetworkConfig, SourceDatabaseConfig
from config.short_lived import ShortLivedConfig
from contract.dms_engines import engine_problems
from contract.naming import Naming

__all__ = [
    "AuroraConfig",
    "DeploymentConfig",
    "DmsConfig",
    "EnvironmentConfig",
    "MonitoringConfig",
    "NetworkConfig",
    "ObservabilityConfig",
    "ReaderAutoScalingConfig",
    "ShortLivedConfig",
    "SourceDatabaseConfig",
    "StateBackendConfig",
    "TableSelection",
]


class EnvironmentConfig(StrictModel):
    """One deployable environment: one file under config/, one stack."""

    environment_suffix: EnvironmentSuffix = Field(
        description="Short environment name (2-12 lowercase letters/digits); ends every physical name."
    )
    name_prefix: NamePrefix = Field(
        default="aurora-migration", description="Start of every physical name: `<prefix>-<purpose>-<suffix>`."
    )
    aws_region: Region = Field(description="Region of the stack.")
    allowed_account_ids: tuple[AccountId, ...] = Field(
        default=(), description="If set, Terraform refuses to run against any other account."
    )
    repository: TagValue = Field(default="aurora-migration-iac", description="Value of the `repository` default tag.")
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict,
        description="Extra tags on every resource: keys 1-128 and values 1-256 characters (letters, digits, spaces, "
        "`_ . : / = + - @`), no `aws:` or `rds:` prefix (RDS `Tag`).",
    )
    network: NetworkConfig
    source: SourceDatabaseConfig
    aurora: AuroraConfig = Field(default_factory=AuroraConfig)
    dms: DmsConfig
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig)
    state_backend: StateBackendConfig
    deployment: DeploymentConfig = Field(default_factory=DeploymentConfig)
    short_lived: ShortLivedConfig = Field(default_factory=ShortLivedConfig)

    @model_validator(mode="after")
    def _cross_field_rules(self, info: ValidationInfo) -> EnvironmentConfig:
        today = (info.context or {}).get("today") or dt.date.today()
        problems = cross_field_problems(self, today=today)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def stack_name(self) -> str:
        return Naming(prefix=self.name_prefix, suffix=self.environment_suffix).stack_name


def _zone_problems(config: EnvironmentConfig, _: dt.date) -> list[str]:
    problems = []
    for field_name, subnets in (("aurora_subnets", config.network.aurora_subnets), ("dms_subnets", config.network.dms_subnets)):
        foreign = sorted({zone for zone in subnets.values() if not zone.startswith(config.aws_region)})
        if foreign:
            problems.append(f"network.{field_name}: availability zones {foreign} are not in aws_region {config.aws_region!r}")
    return problems


def _role_account_problems(config: EnvironmentConfig, _: dt.date) -> list[str]:
    deployment = config.deployment
    return [
        f"deployment.{key}: account {account} is not in allowed_account_ids {list(config.allowed_account_ids)}, got {arn!r}"
        for key, account, arn in (
            ("role_arn", deployment.role_account_id, deployment.role_arn),
            ("plan_role_arn", deployment.plan_role_account_id, deployment.plan_role_arn),
        )
        if account is not None and config.allowed_account_ids and account not in config.allowed_account_ids
    ]


def _engine_problems(config: EnvironmentConfig, today: dt.date) -> list[str]:
    return [
        f"dms.engine_version: {problem}, got {config.dms.engine_version!r} (aurora.engine_version "
        f"{config.aurora.engine_version!r})"
        for problem in engine_problems(
            config.dms.engine_version,
            target_major=config.aurora.engine_major,
            today=today,
            instance_exists=config.dms.replication_instance_exists,
        )
    ]


def _aurora_rule(rule: Callable[[AuroraConfig], list[str]]) -> Callable[[EnvironmentConfig, dt.date], list[str]]:
    return lambda config, _: rule(config.aurora)


Rule = tuple[tuple[str, ...], Callable[[EnvironmentConfig, dt.date], list[str]]]
# Every rule across fields, with the dotted fields it reads. The model runs them all on a valid file; the loader
# runs each one whose fields are valid on a file with errors elsewhere (config/loader.py), so a single run names
# every problem.
CROSS_FIELD_RULES: tuple[Rule, ...] = (
    (("aws_region", "network.aurora_subnets", "network.dms_subnets"), _zone_problems),
    *((tuple(f"aurora.{name}" for name in fields), _aurora_rule(rule)) for fields, rule in AURORA_RULES),
    (("dms.include", "dms.exclude"), lambda config, _: config.dms.selection_problems()),
    (
        ("dms.target_user", "dms.target_username", "dms.capture_ddl", "aurora.master_username", "aurora.application_username"),
        lambda config, _: config.dms.target_user_problems(
            master_username=config.aurora.master_username, application_username=config.aurora.application_username
        ),
    ),
    (("deployment.role_arn", "deployment.plan_role_arn", "allowed_account_ids"), _role_account_problems),
    (("dms.engine_version", "dms.replication_instance_exists", "aurora.engine_version"), _engine_problems),
)


def cross_field_problems(
    config: EnvironmentConfig, *, today: dt.date, valid: Callable[[str], bool] = lambda _: True
) -> list[str]:
    """The problems of every rule whose fields are all `valid` (on a partial config: only those fields are set)."""
    return [
        problem for fields, rule in CROSS_FIELD_RULES if all(valid(field) for field in fields) for problem in rule(config, today)
    ]
