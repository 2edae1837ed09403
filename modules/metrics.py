"""CloudWatch metrics of Aurora and DMS, shared by the alarms and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Statistic = Literal["Average", "Maximum", "Minimum", "Sum"]

RDS = "AWS/RDS"
DMS = "AWS/DMS"
MIB = 1024 * 1024
GIB = 1024 * MIB


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
    return Metric(
        namespace=RDS,
        name=name,
        dimensions=(("DBClusterIdentifier", cluster_id), ("Role", "WRITER")),
        statistic=statistic,
        label=f"{cluster_id} writer",
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


# Memory of the common Aurora PostgreSQL instance classes, in GiB (for the default max_connections).
_SIZES_GIB = {"large": 16, "xlarge": 32, "2xlarge": 64, "4xlarge": 128, "8xlarge": 256, "12xlarge": 384, "16xlarge": 512}
INSTANCE_MEMORY_GIB: dict[str, int] = {
    **{f"db.{family}.{size}": gib for family in ("r5", "r6g", "r6i", "r7g", "r7i", "r8g") for size, gib in _SIZES_GIB.items()},
    "db.t3.medium": 4,
    "db.t3.large": 8,
    "db.t4g.medium": 4,
    "db.t4g.large": 8,
}
MAX_CONNECTIONS_CAP = 5000
BYTES_PER_CONNECTION = 9531392


def default_max_connections(instance_class: str) -> int:
    """Aurora PostgreSQL's default: LEAST(DBInstanceClassMemory / 9531392, 5000).

    DBInstanceClassMemory is a little below the nominal memory, so this is an
    upper bound of the real limit: alarms derived from it fire slightly late.
    """
    if instance_class not in INSTANCE_MEMORY_GIB:
        known = ", ".join(sorted(INSTANCE_MEMORY_GIB))
        raise ValueError(f"instance_class: no memory size known for {instance_class!r} (known: {known})")
    return min(INSTANCE_MEMORY_GIB[instance_class] * GIB // BYTES_PER_CONNECTION, MAX_CONNECTIONS_CAP)
