"""What the environment alarms on: the alarm specs, their thresholds and the props of the Monitoring construct.

Plain data (no provider classes), so the alarm table of docs/reference.md (docgen/reference.py)
is generated from the same specs the construct deploys without loading the provider.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

from contract.aurora import GIB, MIB
from contract.dms import cdc_latency_metric
from contract.naming import (
    AURORA_CPU_ALARM,
    CDC_LATENCY_SIDES,
    Naming,
    cdc_latency_alarm_purpose,
    instance_alarm_purpose,
    role_alarm_purpose,
)
from modules.metrics import Metric, Role, Statistic, aurora_instance, aurora_role, aurora_writer, dms_instance, dms_task

Comparison = Literal["GreaterThanThreshold", "LessThanThreshold"]
# How each alarm treats periods without data, chosen per alarm in `alarm_specs`:
# - "missing": health metrics of an instance. Without any data the alarm goes to INSUFFICIENT_DATA (visible on the
#   dashboard, no page): an instance that stops reporting is down or being replaced, and the RDS/DMS event
#   subscriptions already page for failure, failover and maintenance, so the metric alarm does not page twice.
# - "notBreaching": metrics whose absence is normal. CDCLatency* is only published while the task is in CDC (not
#   before it starts, not during full load, not after it stops; a failed or stopped task is reported by the
#   replication-task event subscription). Deadlocks is a rate: a gap in it (e.g. during failover, which the cluster
#   event subscription reports) is not a deadlock. The other DMS task metrics (CDCIncomingChanges, CDCChangesDisk*,
#   ValidationFailedOverallCount) exist only while the task runs, like CDCLatency*. Aurora SwapUsage is published
#   for some instance classes only.
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
    """When each alarm fires (the `monitoring` config table documents each value; stacks/alarm_props.py fills it)."""

    aurora_cpu_percent: float
    aurora_freeable_memory_mib: int
    aurora_replica_lag_ms: int
    aurora_connections_percent: float
    """Share of `MonitoringProps.instance_max_connections`."""
    aurora_free_local_storage_mib: int
    aurora_deadlocks_per_second: float
    aurora_max_used_transaction_ids: int
    aurora_disk_queue_depth: float
    aurora_read_latency_ms: float
    aurora_write_latency_ms: float
    aurora_swap_usage_mib: int
    aurora_acu_utilization_percent: float
    dms_cdc_latency_seconds: int
    dms_cpu_percent: float
    dms_free_storage_gib: int
    dms_freeable_memory_mib: int
    dms_swap_usage_mib: int
    dms_cdc_incoming_changes: int
    dms_cdc_changes_on_disk: int
    dms_validation_failed_rows: int


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
    """max_connections of one instance: the connections alarm fires at `aurora_connections_percent` of it (for
    Serverless v2 derived from the maximum ACU, `contract.aurora.serverless_v2_max_connections`)."""
    serverless_max_capacity_acu: float | None
    """Maximum ACU of Aurora Serverless v2 instances (`db.serverless`); None for provisioned instance classes."""
    reader_auto_scaling: bool
    """Reader auto scaling adds and removes readers Terraform does not know: instance alarms then watch the writer
    and reader roles of the cluster instead of each instance."""
    replication_instance_identifier: str
    replication_task_identifier: str
    replication_task_resource_id: str
    """The task's resource id (last field of its ARN): CloudWatch's ReplicationTaskIdentifier dimension."""
    replication_task_arn: str
    """The task's ARN: the `resources` entry of its EventBridge events."""


# ReadLatency / WriteLatency are configured in milliseconds and published in seconds (the Unit of the CloudWatch
# datapoints; the RDS user guide's metric table says Seconds, the Aurora user guide's table heads the console column
# "Read Latency (Milliseconds)", which the console converts to). If a deployed alarm's metric shows another Unit
# (`aws cloudwatch get-metric-statistics ... --query 'Datapoints[].Unit'`), change this factor and nothing else.
LATENCY_METRIC_UNITS_PER_MS = 0.001


@dataclass(frozen=True, kw_only=True)
class _InstanceAlarm:
    """An alarm every instance gets: per instance, or per role of the cluster with reader auto scaling."""

    family: str
    metric_name: str
    comparison: Comparison
    threshold: float
    statistic: Statistic
    """Statistic of one instance's series; a role's series uses Maximum/Minimum so the worst instance decides."""
    treat_missing_data: MissingData
    describe: Callable[[str], str]
    """The description, given what is watched (an instance id, `the writer`, `a reader`)."""


def _latency_description(direction: str, threshold_ms: float, hint: str, subject: str) -> str:
    return f"Average disk {direction.lower()} latency of {subject} above {threshold_ms:g} ms. Check {hint}."


def _instance_alarms(props: MonitoringProps) -> list[_InstanceAlarm]:
    limits = props.thresholds
    max_connections = props.instance_max_connections
    connection_limit = round(max_connections * limits.aurora_connections_percent / 100)
    max_acu = props.serverless_max_capacity_acu
    origin = "the instance class's default" if max_acu is None else f"the default for a maximum of {max_acu:g} ACU"
    memory = (
        _InstanceAlarm(
            family="aurora-freeable-memory",
            metric_name="FreeableMemory",
            comparison="LessThanThreshold",
            threshold=limits.aurora_freeable_memory_mib * MIB,
            statistic="Minimum",
            treat_missing_data="missing",
            describe=lambda subject: (
                f"Less than {limits.aurora_freeable_memory_mib} MiB free on {subject}. Check "
                "connection count and work_mem-heavy queries in Performance Insights; the instance may swap or restart."
            ),
        )
        if max_acu is None
        # Serverless v2 sizes memory to the load, so free memory says little; how close the instance is to the
        # maximum ACU does (Aurora user guide, "Amazon CloudWatch metrics for Amazon Aurora": ACUUtilization is
        # ServerlessDatabaseCapacity divided by the maximum ACU, in percent).
        else _InstanceAlarm(
            family="aurora-acu-utilization",
            metric_name="ACUUtilization",
            comparison="GreaterThanThreshold",
            threshold=limits.aurora_acu_utilization_percent,
            statistic="Maximum",
            treat_missing_data="missing",
            describe=lambda subject: (
                f"{subject} runs above {limits.aurora_acu_utilization_percent:g}% of its maximum "
                f"{max_acu:g} ACU and cannot scale much further. Check Performance Insights top SQL and connection count; "
                "if the load is real, raise aurora.serverless_max_capacity_acu (max_connections follows after a reboot)."
            ),
        )
    )
    latency_hint = {
        "Read": "ReadIOPS and DiskQueueDepth, and Performance Insights IO:DataFileRead waits (scans missing the buffer cache)",
        "Write": "WriteIOPS and DiskQueueDepth, temporary files of large sorts and hashes (log_temp_files in the "
        "PostgreSQL log) and Performance Insights IO waits",
    }
    return [
        _InstanceAlarm(
            family=AURORA_CPU_ALARM,
            metric_name="CPUUtilization",
            comparison="GreaterThanThreshold",
            threshold=limits.aurora_cpu_percent,
            statistic="Average",
            treat_missing_data="missing",
            describe=lambda subject: (
                f"CPU of {subject} above {limits.aurora_cpu_percent:g}%. Check Performance Insights "
                "top SQL and whether the DMS full load or a batch job is running; scale the instance class if sustained."
            ),
        ),
        memory,
        _InstanceAlarm(
            family="aurora-connections",
            metric_name="DatabaseConnections",
            comparison="GreaterThanThreshold",
            threshold=connection_limit,
            statistic="Maximum",
            treat_missing_data="missing",
            describe=lambda subject: (
                f"More than {connection_limit} connections on {subject} "
                f"({limits.aurora_connections_percent:g}% of max_connections {max_connections}, {origin}). Look for "
                "connection leaks or a missing pool before new logins fail."
            ),
        ),
        _InstanceAlarm(
            family="aurora-free-local-storage",
            metric_name="FreeLocalStorage",
            comparison="LessThanThreshold",
            threshold=limits.aurora_free_local_storage_mib * MIB,
            statistic="Minimum",
            treat_missing_data="missing",
            describe=lambda subject: (
                f"Less than {limits.aurora_free_local_storage_mib} MiB local storage on {subject}. "
                "Temporary files and logs fill it: check log_temp_files output and large sorts or index builds."
            ),
        ),
        # DiskQueueDepth: Aurora PostgreSQL only (Aurora user guide, "Amazon CloudWatch metrics for Amazon Aurora").
        _InstanceAlarm(
            family="aurora-disk-queue-depth",
            metric_name="DiskQueueDepth",
            comparison="GreaterThanThreshold",
            threshold=limits.aurora_disk_queue_depth,
            statistic="Average",
            treat_missing_data="missing",
            describe=lambda subject: (
                f"More than {limits.aurora_disk_queue_depth:g} I/O requests wait for the disk on "
                f"{subject}. Check ReadIOPS/WriteIOPS and Performance Insights IO waits for the statements behind them; "
                "read and write latency follow."
            ),
        ),
        *(
            _InstanceAlarm(
                family=f"aurora-{direction.lower()}-latency",
                metric_name=f"{direction}Latency",
                comparison="GreaterThanThreshold",
                threshold=threshold_ms * LATENCY_METRIC_UNITS_PER_MS,
                statistic="Average",
                treat_missing_data="missing",
                describe=partial(_latency_description, direction, threshold_ms, latency_hint[direction]),
            )
            for direction, threshold_ms in (("Read", limits.aurora_read_latency_ms), ("Write", limits.aurora_write_latency_ms))
        ),
        # SwapUsage is published for some Aurora PostgreSQL classes only (Aurora user guide, same table): where it
        # is absent nothing swaps that CloudWatch could show, so no data is not a problem.
        _InstanceAlarm(
            family="aurora-swap-usage",
            metric_name="SwapUsage",
            comparison="GreaterThanThreshold",
            threshold=limits.aurora_swap_usage_mib * MIB,
            statistic="Maximum",
            treat_missing_data="notBreaching",
            describe=lambda subject: (
                f"{subject} uses more than {limits.aurora_swap_usage_mib} MiB of swap: memory is "
                "short. Check FreeableMemory, the connection count and work_mem/maintenance_work_mem-heavy statements."
            ),
        ),
    ]


@dataclass(frozen=True, kw_only=True)
class _Watched:
    """One instance (`number`, `instance`) or one role of the cluster (`role`) that instance alarms watch."""

    cluster: str
    subject: str
    """How the description names it: the instance id, `the writer`, `a reader`."""
    number: int = 0
    instance: str = ""
    role: Role | None = None

    def purpose(self, family: str) -> str:
        return instance_alarm_purpose(family, self.number) if self.role is None else role_alarm_purpose(family, self.role)

    def metric(self, name: str, statistic: Statistic) -> Metric:
        if self.role is None:
            return aurora_instance(name, self.instance, statistic=statistic)
        return aurora_role(name, self.cluster, self.role, statistic=statistic)


def _watched(props: MonitoringProps) -> list[_Watched]:
    cluster = props.cluster_identifier
    if props.reader_auto_scaling:
        # Auto scaling adds and removes readers Terraform does not know: an alarm bound to one of them would watch
        # nothing after a scale-in, and the readers it adds would have none. The role series cover whatever
        # instances hold the role (Aurora user guide, "Amazon CloudWatch dimensions for Aurora").
        return [
            _Watched(cluster=cluster, subject="the writer", role="WRITER"),
            _Watched(cluster=cluster, subject="a reader", role="READER"),
        ]
    return [
        _Watched(cluster=cluster, subject=instance, number=number, instance=instance)
        for number, instance in enumerate(props.instance_identifiers, start=1)
    ]


def alarm_specs(props: MonitoringProps) -> list[AlarmSpec]:
    """Every alarm of the environment, in a stable order."""
    limits = props.thresholds
    role_based = props.reader_auto_scaling
    specs: list[AlarmSpec] = []
    for watched in _watched(props):
        for alarm in _instance_alarms(props):
            worst: Statistic = "Maximum" if alarm.comparison == "GreaterThanThreshold" else "Minimum"
            specs.append(
                AlarmSpec(
                    purpose=watched.purpose(alarm.family),
                    metric=watched.metric(alarm.metric_name, worst if role_based else alarm.statistic),
                    comparison=alarm.comparison,
                    threshold=alarm.threshold,
                    treat_missing_data=alarm.treat_missing_data,
                    description=alarm.describe(watched.subject),
                )
            )
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
        # MaximumUsedTransactionIDs (Aurora PostgreSQL, instance level; Aurora user guide, "Amazon CloudWatch metrics
        # for Amazon Aurora"): the age of the oldest unvacuumed transaction ID; at 2,146,483,648 the database refuses
        # writes. The horizon belongs to the cluster's one storage volume and only the writer vacuums it, so the
        # writer's series is the one to watch, and Role=WRITER follows failovers.
        AlarmSpec(
            purpose="aurora-max-used-transaction-ids",
            metric=aurora_writer("MaximumUsedTransactionIDs", props.cluster_identifier, statistic="Maximum"),
            comparison="GreaterThanThreshold",
            threshold=limits.aurora_max_used_transaction_ids,
            treat_missing_data="missing",
            description=f"The oldest unvacuumed transaction ID is more than {limits.aurora_max_used_transaction_ids:,} "
            "transactions old; at about 2.1 billion Aurora stops accepting writes (wraparound). Check first what holds "
            "the xmin horizon: long-running or idle-in-transaction sessions, prepared transactions, replication slots "
            "on Aurora; then VACUUM (FREEZE) the tables with the largest age(relfrozenxid).",
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
        # Task metrics below: DMS user guide, "Monitoring AWS DMS tasks", "Replication task metrics" (CDCIncomingChanges,
        # CDCChangesDiskSource, CDCChangesDiskTarget), and "AWS DMS data validation", "Replication task statistics with
        # Amazon CloudWatch" (ValidationFailedOverallCount). Like CDC latency they exist only while the task runs.
        AlarmSpec(
            purpose="dms-cdc-incoming-changes",
            metric=dms_task("CDCIncomingChanges", props.replication_instance_identifier, props.replication_task_resource_id),
            comparison="GreaterThanThreshold",
            threshold=limits.dms_cdc_incoming_changes,
            treat_missing_data="notBreaching",
            description=f"More than {limits.dms_cdc_incoming_changes:,} change events wait to be applied to Aurora: DMS "
            "does not keep up. Check CDCLatencyTarget, the Aurora writer (CPU, locks, write latency) and apply errors in "
            "the task log; cutover waits until the backlog drains.",
        ),
        *(
            AlarmSpec(
                purpose=f"dms-cdc-changes-disk-{side}",
                metric=dms_task(
                    f"CDCChangesDisk{side.capitalize()}",
                    props.replication_instance_identifier,
                    props.replication_task_resource_id,
                ),
                comparison="GreaterThanThreshold",
                threshold=limits.dms_cdc_changes_on_disk,
                treat_missing_data="notBreaching",
                description=f"More than {limits.dms_cdc_changes_on_disk:,} rows {hint}",
            )
            for side, hint in zip(
                CDC_LATENCY_SIDES,
                (
                    "from the source wait on the replication instance's disk for their transaction to commit. Check the "
                    "SOURCE for long-running or idle-in-transaction sessions (pg_stat_activity) and large transactions.",
                    "wait on the replication instance's disk to be committed to Aurora: the task's memory is full. Check "
                    "CDCLatencyTarget and Aurora writer load, then the task's ChangeProcessingTuning memory limits.",
                ),
                strict=True,
            )
        ),
        AlarmSpec(
            purpose="dms-validation-failures",
            metric=dms_task(
                "ValidationFailedOverallCount", props.replication_instance_identifier, props.replication_task_resource_id
            ),
            comparison="GreaterThanThreshold",
            threshold=limits.dms_validation_failed_rows,
            treat_missing_data="notBreaching",
            description=f"More than {limits.dms_validation_failed_rows:,} rows differ between the source and Aurora after "
            "migration (DMS validation). Read awsdms_validation_failures_v1 in the DMS control schema on Aurora for the "
            "tables and keys; no cutover while rows mismatch.",
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
        # DMS user guide, "Replication instance metrics": FreeableMemory near zero together with rising SwapUsage means
        # the replication instance is overloaded.
        AlarmSpec(
            purpose="dms-swap-usage",
            metric=dms_instance("SwapUsage", props.replication_instance_identifier, statistic="Maximum"),
            comparison="GreaterThanThreshold",
            threshold=limits.dms_swap_usage_mib * MIB,
            treat_missing_data="missing",
            description=f"The replication instance uses more than {limits.dms_swap_usage_mib} MiB of swap. Check "
            "FreeableMemory and how many tasks and full-load subtasks run on it; use a larger class if it persists.",
        ),
    ]
    return specs
