"""What the environment alarms on: the alarm specs, their thresholds and the props of the Monitoring construct.

Plain data (no provider classes), so the README's alarm table (stacks/reference.py)
is generated from the same specs the construct deploys without loading the provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from contract.aurora import GIB, MIB
from contract.dms import cdc_latency_metric
from contract.naming import AURORA_CPU_ALARM, CDC_LATENCY_SIDES, Naming, cdc_latency_alarm_purpose, instance_alarm_purpose
from modules.metrics import Metric, aurora_instance, aurora_writer, dms_instance, dms_task

Comparison = Literal["GreaterThanThreshold", "LessThanThreshold"]
# How each alarm treats periods without data, chosen per alarm in `alarm_specs`:
# - "missing": health metrics of an instance. Without any data the alarm goes to INSUFFICIENT_DATA (visible on the
#   dashboard, no page): an instance that stops reporting is down or being replaced, and the RDS/DMS event
#   subscriptions already page for failure, failover and maintenance, so the metric alarm does not page twice.
# - "notBreaching": metrics whose absence is normal. CDCLatency* is only published while the task is in CDC (not
#   before it starts, not during full load, not after it stops; a failed or stopped task is reported by the
#   replication-task event subscription). Deadlocks is a rate: a gap in it (e.g. during failover, which the cluster
#   event subscription reports) is not a deadlock.
MissingData = Literal["missing", "notBreaching"]


@dataclass(frozen=True, kw_only=True)
class AlarmSpec:
    purpose: str
    metric: Metric
    comparison: Comparison
    threshold: float
    treat_missing_data: MissingData
    description: str


@dataclass(frozen=True, kw_only=True)
class AlarmThresholds:
    """When each alarm fires (the `monitoring` config table documents each value)."""

    aurora_cpu_percent: float
    aurora_freeable_memory_mib: int
    aurora_replica_lag_ms: int
    aurora_connections_percent: float
    """Share of `MonitoringProps.instance_max_connections`."""
    aurora_free_local_storage_mib: int
    aurora_deadlocks_per_second: float
    dms_cdc_latency_seconds: int
    dms_cpu_percent: float
    dms_free_storage_gib: int
    dms_freeable_memory_mib: int

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> AlarmThresholds:
        """The thresholds out of a mapping that holds them under their own names (and maybe more)."""
        return cls(**{field.name: values[field.name] for field in fields(cls)})


@dataclass(frozen=True, kw_only=True)
class Subscription:
    """One subscriber of the alarm topic."""

    protocol: Literal["email", "https"]
    endpoint: str


@dataclass(frozen=True, kw_only=True)
class MonitoringProps:
    naming: Naming
    account_id: str
    partition: str
    region: str
    """Region of the dashboard's metrics."""
    thresholds: AlarmThresholds
    period_seconds: int
    """Length of one alarm evaluation period (and the dashboard's period)."""
    evaluation_periods: int
    """Consecutive breaching periods before an alarm fires."""
    subscriptions: tuple[Subscription, ...]
    """Who the alarm topic notifies; each is a resource of its own, keyed by protocol and endpoint."""
    cluster_identifier: str
    instance_identifiers: tuple[str, ...]
    """Writer first; readers after it."""
    instance_max_connections: int
    """max_connections of one instance: the connections alarm fires at `aurora_connections_percent` of it."""
    replication_instance_identifier: str
    replication_task_identifier: str
    replication_task_resource_id: str
    """The task's resource id (last field of its ARN): CloudWatch's ReplicationTaskIdentifier dimension."""


def alarm_specs(props: MonitoringProps) -> list[AlarmSpec]:
    """Every alarm of the environment, in a stable order."""
    limits = props.thresholds
    max_connections = props.instance_max_connections
    connection_limit = round(max_connections * limits.aurora_connections_percent / 100)
    specs: list[AlarmSpec] = []
    for number, instance in enumerate(props.instance_identifiers, start=1):
        specs += [
            AlarmSpec(
                purpose=instance_alarm_purpose(AURORA_CPU_ALARM, number),
                metric=aurora_instance("CPUUtilization", instance),
                comparison="GreaterThanThreshold",
                threshold=limits.aurora_cpu_percent,
                treat_missing_data="missing",
                description=f"CPU of {instance} above {limits.aurora_cpu_percent:g}%. Check Performance Insights top SQL and "
                "whether the DMS full load or a batch job is running; scale the instance class if sustained.",
            ),
            AlarmSpec(
                purpose=instance_alarm_purpose("aurora-freeable-memory", number),
                metric=aurora_instance("FreeableMemory", instance, statistic="Minimum"),
                comparison="LessThanThreshold",
                threshold=limits.aurora_freeable_memory_mib * MIB,
                treat_missing_data="missing",
                description=f"Less than {limits.aurora_freeable_memory_mib} MiB free on {instance}. Check connection count and "
                "work_mem-heavy queries in Performance Insights; the instance may swap or restart.",
            ),
            AlarmSpec(
                purpose=instance_alarm_purpose("aurora-connections", number),
                metric=aurora_instance("DatabaseConnections", instance, statistic="Maximum"),
                comparison="GreaterThanThreshold",
                threshold=connection_limit,
                treat_missing_data="missing",
                description=f"More than {connection_limit} connections on {instance} ({limits.aurora_connections_percent:g}% of "
                f"max_connections {max_connections}). Look for connection leaks or a missing pool before new logins fail.",
            ),
            AlarmSpec(
                purpose=instance_alarm_purpose("aurora-free-local-storage", number),
                metric=aurora_instance("FreeLocalStorage", instance, statistic="Minimum"),
                comparison="LessThanThreshold",
                threshold=limits.aurora_free_local_storage_mib * MIB,
                treat_missing_data="missing",
                description=f"Less than {limits.aurora_free_local_storage_mib} MiB local storage on {instance}. Temporary files "
                "and logs fill it: check log_temp_files output and large sorts or index builds.",
            ),
        ]
    specs += [
        # Reader ids change roles on failover (a reader becomes the writer); AuroraReplicaLagMaximum is published
        # by the writer for all of its readers (Aurora user guide, "Amazon CloudWatch metrics for Amazon Aurora"),
        # and the Role=WRITER dimension follows whichever instance is the writer.
        AlarmSpec(
            purpose="aurora-replica-lag",
            metric=aurora_writer("AuroraReplicaLagMaximum", props.cluster_identifier, statistic="Maximum"),
            comparison="GreaterThanThreshold",
            threshold=limits.aurora_replica_lag_ms,
            treat_missing_data="missing",
            description=f"A reader lags the writer by more than {limits.aurora_replica_lag_ms} ms (the largest lag of any "
            "reader, measured on whichever instance is the writer, so it survives failovers). Readers may serve stale "
            "data; check the writer's write volume and each reader's CPU (dashboard, per-instance replica lag).",
        ),
        AlarmSpec(
            purpose="aurora-deadlocks",
            metric=aurora_writer("Deadlocks", props.cluster_identifier),
            comparison="GreaterThanThreshold",
            threshold=limits.aurora_deadlocks_per_second,
            treat_missing_data="notBreaching",
            description="Deadlocks on the writer. Read the PostgreSQL log (log_lock_waits) for the statements involved; "
            "during the migration also check that applications are not writing to Aurora before cutover.",
        ),
        *(
            AlarmSpec(
                purpose=cdc_latency_alarm_purpose(side),
                metric=dms_task(
                    cdc_latency_metric(side), props.replication_instance_identifier, props.replication_task_resource_id
                ),
                comparison="GreaterThanThreshold",
                threshold=limits.dms_cdc_latency_seconds,
                treat_missing_data="notBreaching",
                description=f"DMS replication lag ({'reading the source' if side == 'source' else 'applying to Aurora'}) above "
                f"{limits.dms_cdc_latency_seconds} s. {hint} Cutover must wait until it is near 0.",
            )
            for side, hint in zip(
                CDC_LATENCY_SIDES,
                (
                    "Check the source's WAL volume, the network path and the replication slot.",
                    "Check Aurora writer CPU/locks and the task's apply errors in the task log.",
                ),
                strict=True,
            )
        ),
        AlarmSpec(
            purpose="dms-cpu-utilization",
            metric=dms_instance("CPUUtilization", props.replication_instance_identifier),
            comparison="GreaterThanThreshold",
            threshold=limits.dms_cpu_percent,
            treat_missing_data="missing",
            description=f"Replication instance CPU above {limits.dms_cpu_percent:g}%. Latency will follow: consider a larger "
            "dms.replication_instance_class or fewer parallel full-load subtasks.",
        ),
        AlarmSpec(
            purpose="dms-free-storage",
            metric=dms_instance("FreeStorageSpace", props.replication_instance_identifier, statistic="Minimum"),
            comparison="LessThanThreshold",
            threshold=limits.dms_free_storage_gib * GIB,
            treat_missing_data="missing",
            description=f"Less than {limits.dms_free_storage_gib} GiB free on the replication instance. Swapped changes and "
            "task logs fill it when the target falls behind; raise dms.allocated_storage_gib.",
        ),
        AlarmSpec(
            purpose="dms-freeable-memory",
            metric=dms_instance("FreeableMemory", props.replication_instance_identifier, statistic="Minimum"),
            comparison="LessThanThreshold",
            threshold=limits.dms_freeable_memory_mib * MIB,
            treat_missing_data="missing",
            description=f"Less than {limits.dms_freeable_memory_mib} MiB free on the replication instance. Large transactions "
            "or LOBs are buffered in memory; check the task's memory settings or use a larger class.",
        ),
    ]
    return specs
