"""Cluster and instance parameter groups; the family follows the engine version in one place."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from contract.aurora import PGAUDIT_OBJECT_AUDIT_ROLE, engine_major, parameter_group_family
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


# What Aurora's default cluster parameter group preloads ("Working with extensions and foreign data wrappers":
# "the default DB cluster parameter group loads only the pg_stat_statements"; the parameter reference lists it as
# the default of shared_preload_libraries). Setting the parameter replaces the default, so it stays first:
# Performance Insights' SQL statistics need it ("SQL statistics for Aurora PostgreSQL").
DEFAULT_PRELOADED_LIBRARIES = ("pg_stat_statements",)


@dataclass(frozen=True, kw_only=True)
class DatabaseObservability:
    """Tuning and audit logging; the values are validated by the config model (`observability`)."""

    log_temp_files_kb: int
    """Log temporary files at least this large (kB); -1 off."""
    log_autovacuum_min_duration_ms: int
    """Log autovacuum runs at least this long (ms); -1 off."""
    auto_explain_min_duration_ms: int | None
    """None: auto_explain is not preloaded; otherwise its threshold (ms; -1 preloaded, logs nothing)."""
    pgaudit_log: tuple[str, ...]
    """`pgaudit.log` classes; empty: pgAudit is not preloaded."""
    pgaudit_object_audit: bool
    """Set `pgaudit.role` (object audit); needs pgAudit preloaded."""

    @property
    def preloaded_libraries(self) -> tuple[str, ...]:
        """Aurora's default first, then auto_explain and pgaudit when configured: the order never depends on input."""
        extra = (("auto_explain", self.auto_explain_min_duration_ms is not None), ("pgaudit", bool(self.pgaudit_log)))
        return DEFAULT_PRELOADED_LIBRARIES + tuple(name for name, on in extra if on)


@dataclass(frozen=True, kw_only=True)
class AuroraParameterGroupsProps:
    naming: Naming
    engine_version: str
    """The family (and so the parameter groups' names) follows its major."""
    log_min_duration_statement_ms: int
    """Statements slower than this are logged."""
    observability: DatabaseObservability
    """Preloaded libraries, plan and audit logging, temp file and autovacuum logging."""

    def cluster_parameters(self) -> tuple[Parameter, ...]:
        return self._base_cluster_parameters() + self._observability_cluster_parameters()

    def _base_cluster_parameters(self) -> tuple[Parameter, ...]:
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

    def _observability_cluster_parameters(self) -> tuple[Parameter, ...]:
        """Sources: the AWS Aurora user guide's "Amazon Aurora PostgreSQL parameters" (which group a parameter is
        in), the pgAudit pages ("Setting up the pgAudit extension", "Reference for the pgAudit extension") and the
        PostgreSQL manual (which parameters are static). Each library's settings are in the cluster group with the
        library itself, so the writer and every reader load and log the same."""
        observability = self.observability
        parameters = [
            # Cluster group, like AWS's setup of pgAudit and pg_cron. A postmaster (static) parameter: RDS refuses
            # "immediate"; it takes effect when the writer reboots (which reboots the readers: runbook).
            Parameter(
                name="shared_preload_libraries",
                value=",".join(observability.preloaded_libraries),
                apply_method="pending-reboot",
            ),
            # A cluster-level parameter only (not in the instance group); sighup, so applied without a reboot.
            Parameter(name="log_autovacuum_min_duration", value=str(observability.log_autovacuum_min_duration_ms)),
        ]
        if observability.auto_explain_min_duration_ms is not None:
            # auto_explain: superuser-settable (dynamic); -1 logs nothing. Only takes effect once the library loads.
            parameters.append(
                Parameter(name="auto_explain.log_min_duration", value=str(observability.auto_explain_min_duration_ms))
            )
        if observability.pgaudit_log:
            # pgAudit's settings are superuser-settable (dynamic); the classes are validated by the config model.
            parameters.append(Parameter(name="pgaudit.log", value=",".join(observability.pgaudit_log)))
        if observability.pgaudit_object_audit:
            parameters.append(Parameter(name="pgaudit.role", value=PGAUDIT_OBJECT_AUDIT_ROLE))
        return tuple(parameters)

    def instance_parameters(self) -> tuple[Parameter, ...]:
        return (
            Parameter(name="log_lock_waits", value="1"),
            Parameter(name="track_io_timing", value="1"),
            # An instance-level parameter (superuser-settable, dynamic): temp files live on each instance's local
            # storage, which the free-local-storage alarm watches per instance.
            Parameter(name="log_temp_files", value=str(self.observability.log_temp_files_kb)),
        )


CLUSTER_DESCRIPTION = "Aurora PostgreSQL {major} cluster parameters: TLS only, connection and slow-query logging"
INSTANCE_DESCRIPTION = "Aurora PostgreSQL {major} instance parameters: lock-wait logging, I/O timing"


def replacement_name(naming: Naming, purpose: str, *, family: str, description: str) -> str:
    """`<prefix>-<purpose>-<digest>-<suffix>`: the digest covers every argument that forces a new group.

    `name`, `family` and `description` force replacement of both group types (provider 5.x schema: ForceNew on
    each), and RDS refuses a second group under a taken name (DBParameterGroupAlreadyExists). With
    create_before_destroy the new group is created while the old one still exists, so its name must differ
    whenever the family or the description does: a fixed name per major would fail on any description edit.
    """
    digest = hashlib.sha256(f"{family}\n{description}".encode()).hexdigest()[:8]
    return naming.name(f"{purpose}-{digest}")


class AuroraParameterGroups(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: AuroraParameterGroupsProps) -> None:
        super().__init__(scope, id_)
        family = parameter_group_family(props.engine_version)
        major = engine_major(props.engine_version)
        # Groups are created before destroyed and their names change with whatever forces a new group
        # (replacement_name), so a major upgrade or a description edit swaps groups while the cluster still uses
        # the old one. RDS associates a new group at once (botocore rds ModifyDBInstance.DBParameterGroupName: "The
        # parameter group name itself is changed immediately"), so the old one is free to delete in the same apply.
        lifecycle = TerraformResourceLifecycle(create_before_destroy=True)
        cluster_description = CLUSTER_DESCRIPTION.format(major=major)
        self.cluster = RdsClusterParameterGroup(
            self,
            "cluster",
            name=replacement_name(props.naming, f"cluster-pg{major}", family=family, description=cluster_description),
            family=family,
            description=cluster_description,
            parameter=[
                RdsClusterParameterGroupParameter(name=p.name, value=p.value, apply_method=p.apply_method)
                for p in props.cluster_parameters()
            ],
            lifecycle=lifecycle,
        )
        instance_description = INSTANCE_DESCRIPTION.format(major=major)
        self.instance = DbParameterGroup(
            self,
            "instance",
            name=replacement_name(props.naming, f"instance-pg{major}", family=family, description=instance_description),
            family=family,
            description=instance_description,
            parameter=[
                DbParameterGroupParameter(name=p.name, value=p.value, apply_method=p.apply_method)
                for p in props.instance_parameters()
            ],
            lifecycle=lifecycle,
        )
        self.family = family
