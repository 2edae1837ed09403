"""`python -m migration_ops.cutover start|status|stop` against moto in-process, finding the task like verify does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contract.layout import stack_directory
from migration_ops import cutover, dms_task
from tests.ops.helpers import needs_terraform, write_state

REGION = "eu-west-1"
INSTANCE_ID = "aurora-migration-replication-test"


@pytest.fixture
def task_arn(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
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
        task = dms.create_replication_task(
            ReplicationTaskIdentifier="aurora-migration-task-test",
            SourceEndpointArn=endpoints["source"],
            TargetEndpointArn=endpoints["target"],
            ReplicationInstanceArn=instance["ReplicationInstanceArn"],
            MigrationType="full-load-and-cdc",
            TableMappings=json.dumps(mappings),
        )["ReplicationTask"]
        yield task["ReplicationTaskArn"]


def task_state(arn: str) -> str:
    tasks = boto3.client("dms", region_name=REGION).describe_replication_tasks(
        Filters=[{"Name": "replication-task-arn", "Values": [arn]}]
    )["ReplicationTasks"]
    return str(tasks[0]["Status"])


def test_start_status_stop(task_arn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"dms_task_arn": {"sensitive": False, "type": "string", "value": task_arn}}))
    assert task_state(task_arn) != "running"

    assert cutover.main(["start", "--outputs", str(outputs), "--region", REGION]) == 0
    assert capsys.readouterr().out.strip() == f"start (start-replication) {task_arn}: running"
    assert task_state(task_arn) == "running"

    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace="AWS/DMS",
        MetricData=[
            {
                "MetricName": "CDCLatencySource",
                "Dimensions": [
                    {"Name": "ReplicationInstanceIdentifier", "Value": INSTANCE_ID},
                    {"Name": "ReplicationTaskIdentifier", "Value": task_arn.rsplit(":", 1)[-1]},
                ],
                "Timestamp": datetime.now(UTC),
                "Value": 12.0,
                "Unit": "Seconds",
            }
        ],
    )
    assert cutover.main(["status", "--task-arn", task_arn, "--region", REGION, "--json"]) == 0
    status: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert status["status"] == "running"
    assert status["identifier"] == "aurora-migration-task-test"
    assert status["migration_type"] == "full-load-and-cdc"
    assert status["latency_seconds"] == {"CDCLatencySource": 12.0, "CDCLatencyTarget": None}
    assert status["tables"] is None
    assert status["tables_note"].startswith("table statistics not available")

    assert cutover.main(["status", "--task-arn", task_arn, "--region", REGION]) == 0
    text = capsys.readouterr().out
    assert "status      running  migration_type full-load-and-cdc" in text
    assert "CDCLatencySource  12 s" in text
    assert "CDCLatencyTarget  no datapoints in the last 30 min" in text
    assert "table statistics not available" in text

    assert cutover.main(["stop", "--task-arn", task_arn, "--region", REGION]) == 0
    assert capsys.readouterr().out.strip() == f"stop {task_arn}: stopped"
    assert task_state(task_arn) == "stopped"


def test_resume_sends_resume_processing(task_arn: str) -> None:
    dms = boto3.client("dms", region_name=REGION)
    sent: list[str] = []
    dms.meta.events.register(
        "provide-client-params.dms.StartReplicationTask", lambda params, **_: sent.append(params["StartReplicationTaskType"])
    )
    dms_task.start_task(dms, task_arn, resume=False)
    dms_task.stop_task(dms, task_arn)
    assert dms_task.start_task(dms, task_arn, resume=True) == "running"
    assert sent == ["start-replication", "resume-processing"]


def test_errors_exit_2_with_a_message(task_arn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cutover.main(["stop", "--task-arn", task_arn, "--region", REGION]) == 2  # not running yet
    assert "error: stop " in capsys.readouterr().err
    missing = task_arn.rsplit(":", 1)[0] + ":NOSUCHTASK"
    assert cutover.main(["status", "--task-arn", missing, "--region", REGION]) == 2
    assert "not found" in capsys.readouterr().err
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"cluster_endpoint": {"value": "x"}}))
    assert cutover.main(["start", "--outputs", str(outputs), "--region", REGION]) == 2
    assert "no dms_task_arn output" in capsys.readouterr().err


@needs_terraform
def test_start_and_stop_find_the_stack_outputs_themselves(
    task_arn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With only --env: `terraform output -json` in cdktf.out/stacks/<stack>, as verify does; --suffix picks its stack."""
    monkeypatch.chdir(tmp_path)
    write_state(tmp_path / stack_directory("aurora-migration-pr42"), {"dms_task_arn": task_arn})

    assert cutover.main(["start", "--env", "dev", "--suffix", "pr42", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["task_arn"] == task_arn
    assert document["results"] == [
        {"name": "task.start", "status": "pass", "evidence": f"start (start-replication) {task_arn}: running", "fix": ""}
    ]
    assert task_state(task_arn) == "running"

    assert cutover.main(["stop", "--env", "dev"]) == 2  # aurora-migration-dev was never deployed here
    assert "cdktf.out/stacks/aurora-migration-dev: not a directory" in capsys.readouterr().err
    assert cutover.main(["stop", "--env", "dev", "--workdir", str(tmp_path / stack_directory("aurora-migration-pr42"))]) == 0
    assert capsys.readouterr().out.strip() == f"stop {task_arn}: stopped"
    assert task_state(task_arn) == "stopped"


def test_a_cdktf_outputs_file_without_env(task_arn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"aurora-migration-dev": {"dms_task_arn": task_arn}}))
    assert cutover.main(["status", "--outputs", str(outputs), "--region", REGION, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["arn"] == task_arn


def test_without_env_outputs_or_arn_it_says_what_to_give(task_arn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cutover.main(["status", "--region", REGION]) == 2
    assert capsys.readouterr().err == "error: give --env or --config (to find the stack's outputs), or --task-arn\n"
