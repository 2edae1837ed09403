"""CloudWatch metrics of Aurora and DMS, shared by the alarms and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Statistic = Literal["Average", "Maximum", "Minimum", "Sum"]
Role = Literal["WRITER", "READER"]

RDS = "AWS/RDS"
DMS = "AWS/DMS"


@dataclass(frozen=True, kw_only=True)
class Metric:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: Statistic = "Average"
    label: str = ""

    def as_dimensions(self) -> dict[str, str]:
        return dict(self.dimensions)

    def as_widget_entry(self) -> list[Any]:
        """One line of a dashboard metric widget: namespace, name, dimension pairs, rendering options."""
        flat = [part for pair in self.dimensions for part in pair]
        return [self.namespace, self.name, *flat, {"stat": self.statistic, "label": self.label or self.name}]


def aurora_instance(name: str, instance_id: str, *, statistic: Statistic = "Average") -> Metric:
    return Metric(
        namespace=RDS, name=name, dimensions=(("DBInstanceIdentifier", instance_id),), statistic=statistic, label=instance_id
    )


def aurora_writer(name: str, cluster_id: str, *, statistic: Statistic = "Average") -> Metric:
    """Follows the writer role across failovers."""
    return aurora_role(name, cluster_id, "WRITER", statistic=statistic)


def aurora_role(name: str, cluster_id: str, role: Role, *, statistic: Statistic = "Average") -> Metric:
    """An instance metric aggregated over every instance of `role` in the cluster, whichever instances those are now.

    Aurora user guide, "Amazon CloudWatch dimensions for Aurora": DBClusterIdentifier + Role "aggregating the metric
    by instance role (WRITER/READER)". Readers added or removed by auto scaling are included without Terraform knowing
    them, and the writer's series follows a failover. Over several readers, Average hides the busiest one: alarms on
    a role use Maximum (or Minimum for "too little free") so the worst instance decides.
    """
    return Metric(
        namespace=RDS,
        name=name,
        dimensions=(("DBClusterIdentifier", cluster_id), ("Role", role)),
        statistic=statistic,
        label=f"{cluster_id} {role.lower()}{'' if role == 'WRITER' else 's'}",
    )


def dms_instance(name: str, instance_id: str, *, statistic: Statistic = "Average") -> Metric:
    return Metric(
        namespace=DMS, name=name, dimensions=(("ReplicationInstanceIdentifier", instance_id),), statistic=statistic, label=name
    )


def dms_task(name: str, instance_id: str, task_resource_id: str, *, statistic: Statistic = "Maximum") -> Metric:
    """Task metrics are keyed by the replication instance and the task's resource id (last field of its ARN)."""
    return Metric(
        namespace=DMS,
        name=name,
        dimensions=(("ReplicationInstanceIdentifier", instance_id), ("ReplicationTaskIdentifier", task_resource_id)),
        statistic=statistic,
        label=name,
    )
