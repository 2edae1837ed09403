"""The DMS replication task as operators drive it at cutover: start, status, stop, reload.

StartReplicationTaskType (botocore `dms` model, enum StartReplicationTaskTypeValue:
start-replication | resume-processing | reload-target). The API reference
(https://docs.aws.amazon.com/dms/latest/APIReference/API_StartReplicationTask.html) says
start-replication is the only valid type for a task's first run ("any other action used for the
first time ... will result in data errors"), resume-processing continues from the last stop
position, and reload-target loads every table again and then captures changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, get_args

from botocore.exceptions import BotoCoreError, ClientError

from contract.dms import cdc_latency_metric
from contract.naming import CDC_LATENCY_SIDES
from migration_ops.aws import task_resource_id
from migration_ops.errors import OpsError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dms import DatabaseMigrationServiceClient

LATENCY_WINDOW = timedelta(minutes=30)
AwsError = (ClientError, BotoCoreError)

StartType = Literal["start-replication", "resume-processing", "reload-target"]
START_TYPES: tuple[StartType, ...] = get_args(StartType)
# DescribeReplicationTasks Status of a task created and never started (botocore `dms` model, ReplicationTask.Status).
READY = "ready"
# Statuses in which StopReplicationTask leaves a task that a reload may follow.
STOPPED_STATUSES = frozenset({"stopped", "failed"})


LATENCY_METRICS = tuple(cdc_latency_metric(side) for side in CDC_LATENCY_SIDES)


class TaskError(OpsError):
    """The task is missing or AWS refused the call: exit 2 with this message."""


@dataclass(frozen=True, kw_only=True)
class TableStat:
    table: str
    state: str
    full_load_rows: int
    inserts: int
    updates: int
    deletes: int
    validation_state: str
    validation_pending: int = 0
    validation_failed: int = 0
    validation_suspended: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True, kw_only=True)
class TaskStatus:
    arn: str
    identifier: str
    status: str
    migration_type: str
    stop_reason: str
    last_failure: str
    progress: dict[str, Any] = field(default_factory=dict)
    latency_seconds: dict[str, float | None] = field(default_factory=dict)
    tables: tuple[TableStat, ...] | None = None
    tables_note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Every field, in order; the tables as dicts."""
        return {**self.__dict__, "tables": None if self.tables is None else [table.as_dict() for table in self.tables]}


def _fail(action: str, arn: str, error: Exception) -> TaskError:
    return TaskError(f"{action} {arn}: {error}")


def describe_task(dms: DatabaseMigrationServiceClient, arn: str) -> dict[str, Any]:
    try:
        tasks = dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])["ReplicationTasks"]
    except AwsError as error:
        raise _fail("describe", arn, error) from None
    if not tasks:
        raise TaskError(f"replication task {arn} not found")
    return dict(tasks[0])


def start_task(dms: DatabaseMigrationServiceClient, arn: str, *, kind: StartType) -> str:
    """StartReplicationTask of `kind`; returns the task status AWS reports. Callers check `run_history` first."""
    try:
        task = dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType=kind)["ReplicationTask"]
    except AwsError as error:
        raise _fail(f"start ({kind})", arn, error) from None
    return str(task.get("Status", "unknown"))


def stop_task(dms: DatabaseMigrationServiceClient, arn: str) -> str:
    try:
        task = dms.stop_replication_task(ReplicationTaskArn=arn)["ReplicationTask"]
    except AwsError as error:
        raise _fail("stop", arn, error) from None
    return str(task.get("Status", "unknown"))


def run_history(task: dict[str, Any], tables: tuple[TableStat, ...] | None) -> list[str]:
    """Why `task` (a DescribeReplicationTasks item) has run before; empty for a task never started.

    Any of: ReplicationTaskStartDate is set, Status is not `ready`, DescribeTableStatistics lists tables.
    """
    reasons = []
    if task.get("ReplicationTaskStartDate"):
        reasons.append(f"ReplicationTaskStartDate {task['ReplicationTaskStartDate']}")
    status = str(task.get("Status", "unknown"))
    if status != READY:
        reasons.append(f"status {status} (a task never started is {READY})")
    if tables:
        reasons.append(f"table statistics for {len(tables)} tables")
    return reasons


def tag_task(dms: DatabaseMigrationServiceClient, arn: str, tags: dict[str, str]) -> None:
    """AddTagsToResource on the task. Raises TaskError."""
    try:
        dms.add_tags_to_resource(ResourceArn=arn, Tags=[{"Key": key, "Value": value} for key, value in tags.items()])
    except (*AwsError, NotImplementedError) as error:  # NotImplementedError: an emulator without the call
        raise _fail("tag", arn, error) from None


def instance_identifier(dms: DatabaseMigrationServiceClient, task: dict[str, Any]) -> str | None:
    """ReplicationInstanceIdentifier of the task's instance (the CloudWatch dimension), None when unknown."""
    return _instance_identifier(dms, str(task.get("ReplicationInstanceArn", "")))


def _instance_identifier(dms: DatabaseMigrationServiceClient, instance_arn: str) -> str | None:
    try:
        instances = dms.describe_replication_instances(Filters=[{"Name": "replication-instance-arn", "Values": [instance_arn]}])[
            "ReplicationInstances"
        ]
    except AwsError:
        return None
    return str(instances[0]["ReplicationInstanceIdentifier"]) if instances else None


def latest_latency(
    cloudwatch: CloudWatchClient, *, instance_identifier: str, task_resource_id: str, now: datetime | None = None
) -> dict[str, float | None]:
    """Newest Maximum datapoint of CDCLatencySource/Target in the last 30 minutes (None when there is none)."""
    end = now or datetime.now(UTC)
    try:
        series = latency_datapoints(
            cloudwatch,
            instance_identifier=instance_identifier,
            task_resource_id=task_resource_id,
            start=end - LATENCY_WINDOW,
            end=end + timedelta(minutes=1),
        )
    except TaskError:  # status is informational: no latency rather than no status
        series = {}
    return {metric: series[metric][-1][1] if series.get(metric) else None for metric in LATENCY_METRICS}


def latency_datapoints(
    cloudwatch: CloudWatchClient,
    *,
    instance_identifier: str,
    task_resource_id: str,
    start: datetime,
    end: datetime,
    period_seconds: int = 60,
) -> dict[str, list[tuple[datetime, float]]]:
    """Every Maximum datapoint of CDCLatencySource/Target in [start, end), oldest first. Raises TaskError.

    Dimensions ReplicationInstanceIdentifier + ReplicationTaskIdentifier (the task's resource id), namespace
    AWS/DMS (DMS user guide, "Replication task metrics"). A minute without a datapoint is simply absent here.
    """
    series: dict[str, list[tuple[datetime, float]]] = {}
    for metric in LATENCY_METRICS:
        try:
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/DMS",
                MetricName=metric,
                Dimensions=[
                    {"Name": "ReplicationInstanceIdentifier", "Value": instance_identifier},
                    {"Name": "ReplicationTaskIdentifier", "Value": task_resource_id},
                ],
                StartTime=start,
                EndTime=end,
                Period=period_seconds,
                Statistics=["Maximum"],
            )["Datapoints"]
        except AwsError as error:
            raise TaskError(f"CloudWatch {metric} of task {task_resource_id}: {error}") from None
        series[metric] = sorted(
            (point["Timestamp"], float(point["Maximum"])) for point in points if "Timestamp" in point and "Maximum" in point
        )
    return series


def table_statistics(dms: DatabaseMigrationServiceClient, arn: str) -> tuple[tuple[TableStat, ...] | None, str]:
    """Per-table progress and validation state, or (None, why) where the API is not available."""
    stats: list[TableStat] = []
    try:
        for page in dms.get_paginator("describe_table_statistics").paginate(ReplicationTaskArn=arn):
            stats.extend(
                TableStat(
                    table=f"{item.get('SchemaName', '?')}.{item.get('TableName', '?')}",
                    state=str(item.get("TableState", "")),
                    full_load_rows=int(item.get("FullLoadRows", 0)),
                    inserts=int(item.get("Inserts", 0)),
                    updates=int(item.get("Updates", 0)),
                    deletes=int(item.get("Deletes", 0)),
                    validation_state=str(item.get("ValidationState", "")),
                    validation_pending=int(item.get("ValidationPendingRecords", 0)),
                    validation_failed=int(item.get("ValidationFailedRecords", 0)),
                    validation_suspended=int(item.get("ValidationSuspendedRecords", 0)),
                )
                for item in page["TableStatistics"]
            )
    except (*AwsError, NotImplementedError) as error:
        return None, f"table statistics not available: {error}"
    return tuple(stats), ""


def task_status(dms: DatabaseMigrationServiceClient, cloudwatch: CloudWatchClient, arn: str) -> TaskStatus:
    task = describe_task(dms, arn)
    instance = _instance_identifier(dms, str(task.get("ReplicationInstanceArn", "")))
    resource_id = task_resource_id(arn)
    latency = (
        latest_latency(cloudwatch, instance_identifier=instance, task_resource_id=resource_id)
        if instance
        else dict.fromkeys(LATENCY_METRICS)
    )
    tables, note = table_statistics(dms, arn)
    return TaskStatus(
        arn=arn,
        identifier=str(task.get("ReplicationTaskIdentifier", "")),
        status=str(task.get("Status", "unknown")),
        migration_type=str(task.get("MigrationType", "")),
        stop_reason=str(task.get("StopReason", "")),
        last_failure=str(task.get("LastFailureMessage", "")),
        progress={
            key: value for key, value in dict(task.get("ReplicationTaskStats", {})).items() if not isinstance(value, datetime)
        },
        latency_seconds=latency,
        tables=tables,
        tables_note=note,
    )
