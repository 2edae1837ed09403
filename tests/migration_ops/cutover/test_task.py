"""`python -m migration_ops.cutover start|status|pause` against moto in-process, finding the task like verify does.

The gates of `stop` and `reload`: test_cutover_stop.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from contract.layout import stack_directory
from migration_ops.cutover import command as cutover
from migration_ops.cutover import dms_task
from tests.migration_ops.dms_fake import INSTANCE_ID, REGION, ModelAnswers, moto_task, task_state
from tests.migration_ops.helpers import needs_terraform, write_state


@pytest.fixture
def task_arn(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_task(monkeypatch) as arn:
        yield arn


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """StartReplicationTaskType of every start the commands send."""
    return ModelAnswers().install(monkeypatch).start_types


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

    pause = ["pause", "--task-arn", task_arn, "--env", "dev", "--audit-log", str(tmp_path / "audit.jsonl")]
    assert cutover.main(pause) == 0
    assert (
        capsys.readouterr()
        .out.strip()
        .splitlines()[1]
        .endswith(f"stop {task_arn}: stopped (not a cutover: continue with `cutover start --resume`)")
    )
    assert task_state(task_arn) == "stopped"


def test_start_refuses_a_task_that_has_run(task_arn: str, sent: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """start-replication only on a task never run, resume-processing only on one that has (API reference)."""
    start = ["start", "--task-arn", task_arn, "--region", REGION]
    assert cutover.main([*start, "--resume"]) == 1
    assert "refused: the task has never run" in capsys.readouterr().out
    assert cutover.main(start) == 0
    dms_task.stop_task(boto3.client("dms", region_name=REGION), task_arn)
    capsys.readouterr()

    assert cutover.main([*start, "--json"]) == 1
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "fail"
    assert result["evidence"].startswith("refused: the task has run before (ReplicationTaskStartDate ")
    assert "status stopped (a task never started is ready)" in result["evidence"]
    assert "`cutover start --resume`" in result["fix"] and "`cutover reload`" in result["fix"]
    assert cutover.main([*start, "--resume"]) == 0
    assert sent == ["start-replication", "resume-processing"]
    assert task_state(task_arn) == "running"


def test_errors_exit_2_with_a_message(task_arn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pause = ["pause", "--env", "dev", "--task-arn", task_arn, "--audit-log", str(tmp_path / "audit.jsonl")]
    assert cutover.main(pause) == 2  # not running yet
    assert "error: stop " in capsys.readouterr().err
    assert cutover.main(["stop", "--task-arn", task_arn, "--region", REGION]) == 2  # the gates need the config's scope
    assert "give --env or --config" in capsys.readouterr().err
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
    workdir = str(tmp_path / stack_directory("aurora-migration-pr42"))
    assert cutover.main(["pause", "--env", "dev", "--workdir", workdir]) == 0
    assert f"stop {task_arn}: stopped" in capsys.readouterr().out
    assert task_state(task_arn) == "stopped"


def test_a_cdktf_outputs_file_without_env(task_arn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"aurora-migration-dev": {"dms_task_arn": task_arn}}))
    assert cutover.main(["status", "--outputs", str(outputs), "--region", REGION, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["arn"] == task_arn


def test_without_env_outputs_or_arn_it_says_what_to_give(task_arn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cutover.main(["status", "--region", REGION]) == 2
    assert capsys.readouterr().err == "error: give --env or --config (to find the stack's outputs), or --task-arn\n"
