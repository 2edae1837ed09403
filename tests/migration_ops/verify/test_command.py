"""`python -m migration_ops.verify` in-process against moto: the alarm checks find alarms by their contract names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contract.naming import AURORA_CPU_ALARM, CDC_LATENCY_SIDES, Naming, cdc_latency_alarm_purpose, instance_alarm_purpose
from migration_ops.verify import command as verify
from migration_ops.verify.checks import CHECKS

REGION = "eu-west-1"
NAMING = Naming(prefix="aurora-migration", suffix="dev")
TOPIC_ARN = f"arn:aws:sns:{REGION}:123456789012:aurora-migration-alarms-dev"
TASK_ARN = f"arn:aws:dms:{REGION}:123456789012:task:TASKRESOURCEID"
INSTANCE_IDS = [NAMING.instance_identifier(number) for number in (1, 2, 3)]
ALARM_CHECKS = ("alarms.aurora-cpu", "alarms.dms-cdc-latency")


@pytest.fixture
def alarms(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The alarms the dev stack creates (names from contract/naming.py), in an emulated account."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        common: dict[str, Any] = {"Period": 60, "EvaluationPeriods": 5, "Threshold": 80.0, "AlarmActions": [TOPIC_ARN]}
        names = []
        for number, instance in enumerate(INSTANCE_IDS, start=1):
            name = NAMING.alarm(instance_alarm_purpose(AURORA_CPU_ALARM, number))
            cloudwatch.put_metric_alarm(
                AlarmName=name, Namespace="AWS/RDS", MetricName="CPUUtilization", Statistic="Average",
                Dimensions=[{"Name": "DBInstanceIdentifier", "Value": instance}],
                ComparisonOperator="GreaterThanThreshold", **common,
            )  # fmt: skip
            names.append(name)
        for side in CDC_LATENCY_SIDES:
            name = NAMING.alarm(cdc_latency_alarm_purpose(side))
            cloudwatch.put_metric_alarm(
                AlarmName=name, Namespace="AWS/DMS", MetricName=f"CDCLatency{side.title()}", Statistic="Maximum",
                Dimensions=[{"Name": "ReplicationTaskIdentifier", "Value": "TASKRESOURCEID"}],
                ComparisonOperator="GreaterThanThreshold", **common,
            )  # fmt: skip
            names.append(name)
        yield names


def run_verify(tmp_path: Path, *extra: str) -> int:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {"aurora-migration-dev": {"instance_ids": INSTANCE_IDS, "alarm_topic_arn": TOPIC_ARN, "dms_task_arn": TASK_ARN}}
        )
    )
    skips = [f"--skip={name}" for name in CHECKS if name not in ALARM_CHECKS]
    return verify.main(["--env", "dev", "--outputs", str(outputs), *skips, *extra])


def test_alarms_pass_as_json(alarms: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_verify(tmp_path, "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["environment"], document["stack"], document["region"]) == ("dev", "aurora-migration-dev", REGION)
    assert document["summary"] == {"pass": 2, "warn": 0, "fail": 0, "skip": len(CHECKS) - 2}
    by_name = {result["name"]: result for result in document["results"]}
    assert list(by_name) == list(CHECKS)
    assert by_name["alarms.aurora-cpu"]["evidence"] == (
        f"3 alarms notifying the topic, one per instance: {', '.join(alarms[:3])}"
    )
    assert by_name["alarms.dms-cdc-latency"]["evidence"] == (
        "dms-cdc-latency-source-dev, dms-cdc-latency-target-dev watch task TASKRESOURCEID and notify the topic"
    )


def test_a_deleted_alarm_fails_its_check(alarms: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    boto3.client("cloudwatch", region_name=REGION).delete_alarms(AlarmNames=[alarms[1]])
    assert run_verify(tmp_path) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"verify aurora-migration-dev in {REGION}"
    assert f"FAIL alarms.aurora-cpu: {alarms[1]} missing; no CPUUtilization alarm for {INSTANCE_IDS[1]}" in out.splitlines()
    assert "PASS alarms.dms-cdc-latency: " in out
    assert out.splitlines()[-1] == f"summary: 1 passed, 0 warnings, 1 failed, {len(CHECKS) - 2} skipped"
