"""A DMS task in moto, plus the DMS calls moto does not implement answered from the real botocore model.

moto 5 has no DescribeTableStatistics or AddTagsToResource. `ModelAnswers` answers them in a
`before-call` handler (the hook botocore's Stubber uses) on every client the commands create,
after validating each canned response against the operation's output shape in botocore's model,
as Stubber does. Every other call goes to moto.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.model import OperationModel
from botocore.validate import ParamValidator
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dms.models import dms_backends

from migration_ops import aws

REGION = "eu-west-1"
INSTANCE_ID = "aurora-migration-replication-test"
SERVICE_EVENT = "database-migration-service"


@contextmanager
def moto_task(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A `ready` full-load-and-cdc task (as DMS reports one created and never started); yields its ARN."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        dms = boto3.client("dms", region_name=REGION)
        instance = dms.create_replication_instance(
            ReplicationInstanceIdentifier=INSTANCE_ID, ReplicationInstanceClass="dms.c5.large"
        )["ReplicationInstance"]
        endpoints = {
            kind: dms.create_endpoint(
                EndpointIdentifier=f"aurora-migration-{kind}-test",
                EndpointType=kind,
                EngineName="postgres" if kind == "source" else "aurora-postgresql",
                ServerName="db.example.com",
                Port=5432,
                DatabaseName="orders",
                Username="migrator",
                Password="unused",
            )["Endpoint"]["EndpointArn"]
            for kind in ("source", "target")
        }
        mappings = {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {
            "schema-name": "public", "table-name": "%"}, "rule-action": "include"}]}  # fmt: skip
        arn = dms.create_replication_task(
            ReplicationTaskIdentifier="aurora-migration-task-test",
            SourceEndpointArn=endpoints["source"],
            TargetEndpointArn=endpoints["target"],
            ReplicationInstanceArn=instance["ReplicationInstanceArn"],
            MigrationType="full-load-and-cdc",
            TableMappings=json.dumps(mappings),
        )["ReplicationTask"]["ReplicationTaskArn"]
        dms_backends[DEFAULT_ACCOUNT_ID][REGION].replication_tasks[arn].ready()  # moto stays `creating` otherwise
        yield arn


def task_state(arn: str) -> str:
    tasks = boto3.client("dms", region_name=REGION).describe_replication_tasks(
        Filters=[{"Name": "replication-task-arn", "Values": [arn]}]
    )["ReplicationTasks"]
    return str(tasks[0]["Status"])


def table_stat(table: str, **changes: Any) -> dict[str, Any]:
    """One TableStatistics item of a table that is loaded and validated; `changes` override fields."""
    schema, name = table.split(".")
    item: dict[str, Any] = {
        "SchemaName": schema,
        "TableName": name,
        "Inserts": 3,
        "Deletes": 0,
        "Updates": 1,
        "FullLoadRows": 10,
        "TableState": "Table completed",
        "ValidationPendingRecords": 0,
        "ValidationFailedRecords": 0,
        "ValidationSuspendedRecords": 0,
        "ValidationState": "Validated",
    }
    item.update(changes)
    return item


class ModelAnswers:
    """Answers DescribeTableStatistics with `tables` and records AddTagsToResource and StartReplicationTask types."""

    def __init__(self) -> None:
        self.tables: list[dict[str, Any]] = []
        self.tags: list[dict[str, str]] = []
        self.start_types: list[str] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> ModelAnswers:
        real = aws.session

        def session(region: str | None) -> boto3.session.Session:
            created = real(region)
            # a before-call handler that returns (response, parsed) replaces the HTTP call, as in botocore's Stubber
            created.events.register(f"before-call.{SERVICE_EVENT}.DescribeTableStatistics", self._statistics)  # type: ignore[arg-type]
            created.events.register(f"before-call.{SERVICE_EVENT}.AddTagsToResource", self._tagged)  # type: ignore[arg-type]
            created.events.register(f"provide-client-params.{SERVICE_EVENT}.AddTagsToResource", self._tag)
            created.events.register(f"provide-client-params.{SERVICE_EVENT}.StartReplicationTask", self._start)
            return created

        monkeypatch.setattr(aws, "session", session)
        return self

    @staticmethod
    def _answer(model: OperationModel, response: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        assert model.output_shape is not None
        report = ParamValidator().validate(response, model.output_shape)
        if report.has_errors():
            raise AssertionError(f"{model.name} response does not match botocore's model: {report.generate_report()}")
        return AWSResponse("https://dms.test", 200, {}, None), response  # type: ignore[arg-type]

    def _statistics(self, model: OperationModel, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return self._answer(model, {"TableStatistics": self.tables})

    def _tagged(self, model: OperationModel, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return self._answer(model, {})

    def _tag(self, params: dict[str, Any], **_: Any) -> None:
        self.tags.extend(params["Tags"])

    def _start(self, params: dict[str, Any], **_: Any) -> None:
        self.start_types.append(params["StartReplicationTaskType"])


@contextmanager
def started_task(monkeypatch: pytest.MonkeyPatch, *, source_dsn: str, target_dsn: str) -> Iterator[tuple[str, ModelAnswers]]:
    """A started task (its ARN) and the installed ModelAnswers; SOURCE_DSN and TARGET_DSN name the two databases."""
    monkeypatch.setenv("SOURCE_DSN", source_dsn)
    monkeypatch.setenv("TARGET_DSN", target_dsn)
    with moto_task(monkeypatch) as arn:
        answers = ModelAnswers().install(monkeypatch)
        boto3.client("dms", region_name=REGION).start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
        yield arn, answers


def put_latency(
    arn: str, values: dict[int, float], *, metrics: tuple[str, ...] = ("CDCLatencySource", "CDCLatencyTarget")
) -> None:
    """One datapoint per metric `minutes_ago: value`, at the start of that minute."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace="AWS/DMS",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [
                    {"Name": "ReplicationInstanceIdentifier", "Value": INSTANCE_ID},
                    {"Name": "ReplicationTaskIdentifier", "Value": arn.rsplit(":", 1)[-1]},
                ],
                "Timestamp": now - timedelta(minutes=minutes_ago),
                "Value": value,
                "Unit": "Seconds",
            }
            for metric in metrics
            for minutes_ago, value in values.items()
        ],
    )


def steady_latency(seconds: float = 1.0) -> dict[int, float]:
    """A datapoint for each of the last 16 minutes, the current one included: covers the default window."""
    return dict.fromkeys(range(16), seconds)
