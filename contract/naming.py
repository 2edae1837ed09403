"""Physical names: the stack, resources (`<prefix>-<purpose>-<suffix>`), alarms and log groups.

Constructs name what they create with these builders, and the operations
tools find what was deployed with the same builders, so a name is written once.
"""

from __future__ import annotations

from dataclasses import dataclass

# Alarm families the operations tools look up by name (migration_ops/verify/alarms.py).
AURORA_CPU_ALARM = "aurora-cpu-utilization"
DMS_CDC_LATENCY_ALARM = "dms-cdc-latency"
CDC_LATENCY_SIDES = ("source", "target")


@dataclass(frozen=True, kw_only=True)
class Naming:
    prefix: str
    """`name_prefix` of the environment: the start of every physical name."""
    suffix: str
    """`environment_suffix`: the end of every physical name."""

    @property
    def stack_name(self) -> str:
        """`<prefix>-<suffix>`: the stack, its directory under cdktf.out/stacks and its dashboard."""
        return f"{self.prefix}-{self.suffix}"

    def name(self, purpose: str) -> str:
        """Physical name of a resource, e.g. `aurora-migration-cluster-dev` for purpose `cluster`."""
        return f"{self.prefix}-{purpose}-{self.suffix}"

    def alarm(self, purpose: str) -> str:
        """Alarm names lead with what is measured so on-call can filter them: `aurora-cpu-utilization-db-1-dev`."""
        return f"{purpose}-{self.suffix}"

    @property
    def cluster_identifier(self) -> str:
        return self.name("cluster")

    def instance_identifier(self, number: int) -> str:
        """Aurora instance `number` (1 is created as the writer): `aurora-migration-db-1-dev`."""
        return self.name(f"db-{number}")

    @property
    def replication_instance_identifier(self) -> str:
        return self.name("replication")

    @property
    def replication_task_identifier(self) -> str:
        return self.name("task")

    @property
    def dms_target_secret_name(self) -> str:
        """The secret of the dedicated DMS target user (`dms.target_user = "dedicated"`): `aurora-migration-dms-target-dev`."""
        return self.name("dms-target")

    @property
    def application_secret_name(self) -> str:
        """The secret of the application's database user (not the master user): `aurora-migration-app-dev`."""
        return self.name("app")


def instance_alarm_purpose(family: str, instance_number: int) -> str:
    """Per-instance alarms are numbered like the instances: `aurora-cpu-utilization-db-2`."""
    return f"{family}-db-{instance_number}"


def cdc_latency_alarm_purpose(side: str) -> str:
    return f"{DMS_CDC_LATENCY_ALARM}-{side}"


def postgresql_log_group(cluster_identifier: str) -> str:
    """The log group RDS exports the cluster's PostgreSQL log to (fixed by RDS)."""
    return f"/aws/rds/cluster/{cluster_identifier}/postgresql"


def dms_task_log_group(replication_instance_identifier: str) -> str:
    """The log group DMS writes task logs of a replication instance to (fixed by DMS)."""
    return f"dms-tasks-{replication_instance_identifier}"


def role_alarm_purpose(family: str, role: str) -> str:
    """Alarms on a role of the cluster instead of one instance (reader auto scaling): `aurora-cpu-utilization-writer`,
    `aurora-cpu-utilization-readers`."""
    return f"{family}-writer" if role == "WRITER" else f"{family}-readers"
