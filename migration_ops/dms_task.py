"""The DMS replication task as operators drive it at cutover: start, status, stop."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from contract.dms import cdc_latency_metric
from contract.naming import CDC_LATENCY_SIDES

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dms import DatabaseMigrationServiceClient

LATENCY_WINDOW = timedelta(minutes=30)
AwsError = (ClientError, BotoCoreError)


LATENCY_METRICS = tuple(cdc_latency_metric(side) for side in CDC_LATENCY_SIDES)


def task_resource_id(arn: str) -> str:
    """Last field of the task's ARN: CloudWatch's ReplicationTaskIdentifier dimension."""
    return arn.rsplit(":", 1)[-1]


class TaskError(Exception):
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
        return {
            "arn": self.arn,
            "identifier": self.identifier,
            "status": self.status,
            "migration_type": self.migration_type,
            "stop_reason": self.stop_reason,
            "last_failure": self.last_failure,
            "progress": self.progress,
            "latency_seconds": self.latency_seconds,
            "tables": None if self.tables is None else [table.as_dict() for table in self.tables],
            "tables_note": self.tables_note,
        }


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


def start_task(dms: DatabaseMigrationServiceClient, arn: str, *, resume: bool) -> str:
    """Start replication (or resume it after a stop); returns the task status AWS reports."""
    kind: Literal["resume-processing", "start-replication"] = "resume-processing" if resume else "start-replication"
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
    latest: dict[str, float | None] = {}
    for metric in LATENCY_METRICS:
        try:
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/DMS",
                MetricName=metric,
                Dimensions=[
                    {"Name": "ReplicationInstanceIdentifier", "Value": instance_identifier},
                    {"Name": "ReplicationTaskIdentifier", "Value": task_resource_id},
                ],
                StartTime=end - LATENCY_WINDOW,
                EndTime=end + timedelta(minutes=1),
                Period=60,
                Statistics=["Maximum"],
            )["Datapoints"]
        except AwsError:
            points = []
        newest = max(points, key=lambda point: point["Timestamp"], default=None)
        latest[metric] = None if newest is None else float(newest.get("Maximum", 0.0))
    return latest


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
