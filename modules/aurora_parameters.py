"""Cluster and instance parameter groups; the family follows the engine version in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from contract.aurora import engine_major, parameter_group_family
from contract.naming import Naming
from modules.aws import (
    DbParameterGroup,
    DbParameterGroupParameter,
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)

ApplyMethod = Literal["immediate", "pending-reboot"]


@dataclass(frozen=True, kw_only=True)
class Parameter:
    name: str
    value: str
    apply_method: ApplyMethod = "immediate"


@dataclass(frozen=True, kw_only=True)
class AuroraParameterGroupsProps:
    naming: Naming
    engine_version: str
    """The family (and so the parameter groups' names) follows its major."""
    log_min_duration_statement_ms: int
    """Statements slower than this are logged."""

    def cluster_parameters(self) -> tuple[Parameter, ...]:
        return (
            # Static on some engine versions, so it is applied at the next reboot.
            Parameter(name="rds.force_ssl", value="1", apply_method="pending-reboot"),
            Parameter(name="log_connections", value="1"),
            Parameter(name="log_disconnections", value="1"),
            Parameter(name="log_min_duration_statement", value=str(self.log_min_duration_statement_ms)),
            # Schema changes only: logging every statement would log each row DMS applies.
            Parameter(name="log_statement", value="ddl"),
            # DMS target: full load and CDC apply run long transactions; a stuck
            # idle-in-transaction session must not hold locks for hours.
            Parameter(name="idle_in_transaction_session_timeout", value="3600000"),
        )

    def instance_parameters(self) -> tuple[Parameter, ...]:
        return (
            Parameter(name="log_lock_waits", value="1"),
            Parameter(name="track_io_timing", value="1"),
        )


class AuroraParameterGroups(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: AuroraParameterGroupsProps) -> None:
        super().__init__(scope, id_)
        family = parameter_group_family(props.engine_version)
        major = engine_major(props.engine_version)
        # The family is part of the name and groups are created before destroyed,
        # so a major upgrade can swap groups while the cluster still uses the old one.
        lifecycle = TerraformResourceLifecycle(create_before_destroy=True)
        self.cluster = RdsClusterParameterGroup(
            self,
            "cluster",
            name=props.naming.name(f"cluster-pg{major}"),
            family=family,
            description=f"Aurora PostgreSQL {major} cluster parameters: TLS only, connection and slow-query logging",
            parameter=[
                RdsClusterParameterGroupParameter(name=p.name, value=p.value, apply_method=p.apply_method)
                for p in props.cluster_parameters()
            ],
            lifecycle=lifecycle,
        )
        self.instance = DbParameterGroup(
            self,
            "instance",
            name=props.naming.name(f"instance-pg{major}"),
            family=family,
            description=f"Aurora PostgreSQL {major} instance parameters: lock-wait logging, I/O timing",
            parameter=[
                DbParameterGroupParameter(name=p.name, value=p.value, apply_method=p.apply_method)
                for p in props.instance_parameters()
            ],
            lifecycle=lifecycle,
        )
        self.family = family
