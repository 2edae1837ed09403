"""The typed model of one environment's configuration: `EnvironmentConfig` and the rules across its sections.

Every field is either required or has a documented default; the README's
configuration reference is generated from the same field descriptions
(`python -m docgen.reference`). Models are frozen and reject unknown keys so
a typo in a TOML file is an error, not a silently ignored setting.

The sections live beside this file by concern (network.py, aurora.py, dms.py,
monitoring.py, deployment.py; the shared value shapes in fields.py) and are
re-exported here, so `from config.model import DmsConfig` names them all.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, ValidationInfo, model_validator

from config.aurora import AuroraConfig, ObservabilityConfig, ReaderAutoScalingConfig
from config.deployment import DeploymentConfig, StateBackendConfig
from config.dms import DmsConfig, TableSelection
from config.fields import AccountId, EnvironmentSuffix, NamePrefix, Region, StrictModel
from config.monitoring import MonitoringConfig
from config.network import NetworkConfig, SourceDatabaseConfig
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
    repository: str = Field(default="aurora-migration-iac", description="Value of the `repository` default tag.")
    tags: dict[str, str] = Field(default_factory=dict, description="Extra tags on every resource.")
    network: NetworkConfig
    source: SourceDatabaseConfig
    aurora: AuroraConfig = Field(default_factory=AuroraConfig)
    dms: DmsConfig
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig)
    state_backend: StateBackendConfig
    deployment: DeploymentConfig = Field(default_factory=DeploymentConfig)

    @model_validator(mode="after")
    def _cross_field_rules(self, info: ValidationInfo) -> EnvironmentConfig:
        problems = []
        for field_name, subnets in (("aurora_subnets", self.network.aurora_subnets), ("dms_subnets", self.network.dms_subnets)):
            foreign = sorted({zone for zone in subnets.values() if not zone.startswith(self.aws_region)})
            if foreign:
                problems.append(f"network.{field_name}: availability zones {foreign} are not in aws_region {self.aws_region!r}")
        problems += self.aurora.problems()
        problems += self.dms.problems(
            master_username=self.aurora.master_username, application_username=self.aurora.application_username
        )
        role_account = self.deployment.role_account_id
        if role_account is not None and self.allowed_account_ids and role_account not in self.allowed_account_ids:
            problems.append(
                f"deployment.role_arn: account {role_account} is not in allowed_account_ids "
                f"{list(self.allowed_account_ids)}, got {self.deployment.role_arn!r}"
            )
        today = (info.context or {}).get("today") or dt.date.today()
        problems += [
            f"dms.engine_version: {problem}, got {self.dms.engine_version!r} (aurora.engine_version "
            f"{self.aurora.engine_version!r})"
            for problem in engine_problems(self.dms.engine_version, target_major=self.aurora.engine_major, today=today)
        ]
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def stack_name(self) -> str:
        return Naming(prefix=self.name_prefix, suffix=self.environment_suffix).stack_name
