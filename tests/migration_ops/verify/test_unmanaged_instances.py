"""`python -m migration_ops.verify` in-process against moto: readers Aurora Auto Scaling added are reported as WARN
(not in Terraform, their Performance Insights state), and do not fail the Performance Insights check of Terraform's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.rds.models import DBInstance

from contract.naming import Naming
from migration_ops.verify import command as verify
from migration_ops.verify.checks import CHECKS
from tests.integration import moto_patches

REGION = "eu-west-1"
NAMING = Naming(prefix="aurora-migration", suffix="dev")
CLUSTER_ID = NAMING.cluster_identifier
INSTANCE_IDS = [NAMING.instance_identifier(number) for number in (1, 2)]
AUTO_SCALED = "application-autoscaling-61aabbcc-4e2f-4c65-b620-ab7421abc123"
CHECKED = ("aurora.performance-insights", "aurora.unmanaged-instances")


@pytest.fixture
def rds(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The dev cluster with Terraform's two instances (Performance Insights on, 7 days), in an emulated account."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    # moto 5.2 drops Performance Insights from CreateDBInstance: the emulator's own patch (tests/integration), for
    # this test only.
    monkeypatch.setattr(DBInstance, "__init__", moto_patches._keeps_performance_insights(DBInstance.__init__))
    monkeypatch.setattr(
        DBInstance, "performance_insights_enabled", property(moto_patches._performance_insights_enabled), raising=False
    )
    with mock_aws():
        client = boto3.client("rds", region_name=REGION)
        client.create_db_cluster(
            DBClusterIdentifier=CLUSTER_ID, Engine="aurora-postgresql", EngineVersion="15.12",
            MasterUsername="migration_admin", MasterUserPassword="Secret-Password-1",
        )  # fmt: skip
        for identifier in INSTANCE_IDS:
            client.create_db_instance(
                DBInstanceIdentifier=identifier, DBClusterIdentifier=CLUSTER_ID, Engine="aurora-postgresql",
                DBInstanceClass="db.r6g.large", EnablePerformanceInsights=True, PerformanceInsightsRetentionPeriod=7,
            )  # fmt: skip
        yield client


def add_auto_scaled_reader(client: object) -> None:
    """What Aurora Auto Scaling adds: its own name, the writer's class, no Performance Insights."""
    boto3.client("rds", region_name=REGION).create_db_instance(
        DBInstanceIdentifier=AUTO_SCALED, DBClusterIdentifier=CLUSTER_ID, Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large", PromotionTier=15,
        Tags=[{"Key": "application-autoscaling:resourceId", "Value": f"cluster:{CLUSTER_ID}"}],
    )  # fmt: skip


def run_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, dict[str, str]]]:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"aurora-migration-dev": {"cluster_id": CLUSTER_ID, "instance_ids": INSTANCE_IDS}}))
    skips = [f"--skip={name}" for name in CHECKS if name not in CHECKED]
    code = verify.main(["--env", "dev", "--outputs", str(outputs), "--json", *skips])
    document = json.loads(capsys.readouterr().out)
    return code, {result["name"]: result for result in document["results"]}


def test_only_terraforms_instances_pass(rds: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, results = run_verify(tmp_path, capsys)
    assert code == 0
    assert results["aurora.performance-insights"]["status"] == "pass"
    assert results["aurora.performance-insights"]["evidence"] == "enabled with 7 days retention on 2 instances"
    assert results["aurora.unmanaged-instances"]["status"] == "pass"
    assert results["aurora.unmanaged-instances"]["evidence"] == (
        f"every instance of {CLUSTER_ID} is one of Terraform's (2 in instance_ids)"
    )


def test_an_auto_scaled_reader_warns_with_the_reason_and_fails_nothing(
    rds: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_auto_scaled_reader(rds)
    code, results = run_verify(tmp_path, capsys)
    assert code == 0, results
    insights = results["aurora.performance-insights"]
    assert insights["status"] == "pass"
    assert insights["evidence"] == (
        "enabled with 7 days retention on 2 instances (1 outside Terraform: see aurora.unmanaged-instances)"
    )
    unmanaged = results["aurora.unmanaged-instances"]
    assert unmanaged["status"] == "warn"
    assert unmanaged["evidence"] == (
        f"1 instance(s) of {CLUSTER_ID} outside Terraform: {AUTO_SCALED} (added by Aurora Auto Scaling, available): "
        "not in Terraform, Performance Insights off"
    )
    assert "Reader auto scaling" in unmanaged["fix"]


def test_terraforms_own_instance_without_performance_insights_still_fails(
    rds: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_auto_scaled_reader(rds)
    boto3.client("rds", region_name=REGION).modify_db_instance(
        DBInstanceIdentifier=INSTANCE_IDS[1], EnablePerformanceInsights=False, ApplyImmediately=True
    )
    code, results = run_verify(tmp_path, capsys)
    assert code == 1
    assert results["aurora.performance-insights"]["status"] == "fail"
    assert INSTANCE_IDS[1] in results["aurora.performance-insights"]["evidence"]
    assert AUTO_SCALED not in results["aurora.performance-insights"]["evidence"]
    assert results["aurora.unmanaged-instances"]["status"] == "warn"
