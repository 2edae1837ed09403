"""What the plan risk report counts as dangerous, on crafted plans (tests/review/plan_fixtures/), issue #25 boxes 1-3, 5, 6.

Each fixture passed with exit 0 (or leaked a sensitive value) before the report knew the kind of change it shows.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from plumbing.exit_codes import ExitCode
from review.plan_risk.stateful import STATEFUL
from review.plan_risk.stateless import STATELESS
from review.plan_risk.transitions import KINDS, REPLICATION_STOPS, TRANSITIONS
from review.terraform_validate import locate, offline_environment
from tests.review.plan_cases import CLUSTER, DEV, fixture, line_of, run, section

KMS_KEY = "aws_kms_key.database-key_C4D88439"
TASK = "aws_dms_replication_task.dms_task_3CCA84E2"
TARGET = "aws_dms_endpoint.dms_target_1F9451F0"
SOURCE = "aws_dms_endpoint.dms_source_6A1C2B3D"
AWS_VERSION = "5.100.0"
RESUME = "`python -m migration_ops.cutover start --env dev --resume`"
RISKY_UPDATES = {
    (CLUSTER, "deletion-protection-off"): "`deletion_protection` `true` → `false`",
    (CLUSTER, "final-snapshot-skipped"): "`skip_final_snapshot` `false` → `true`",
    (CLUSTER, "backup-retention-lowered"): "`backup_retention_period` `14` → `3`",
    ("aws_db_instance.legacy_4A1B2C3D", "deletion-protection-off"): "`deletion_protection` `true` → `false`",
    ("aws_db_instance.legacy_4A1B2C3D", "backup-retention-lowered"): "`backup_retention_period` `7` → `0`",
    (KMS_KEY, "kms-key-disabled"): "`is_enabled` `true` → `false`",
    (KMS_KEY, "kms-deletion-window-shortened"): "`deletion_window_in_days` `30` → `7`",
    ("aws_cloudwatch_log_group.dms_task-log_0ACDEAB5", "log-retention-shortened"): "`retention_in_days` `0` → `30`",
    ("aws_cloudwatch_log_group.aurora_postgresql-log_1A2B3C4D", "log-retention-shortened"): "`retention_in_days` `365` → `90`",
    ("aws_cloudwatch_log_group.aurora_postgresql-log_1A2B3C4D", "log-group-skip-destroy-off"): "`skip_destroy` `true` → `false`",
    ("aws_s3_bucket.exports_5E6F7A8B", "force-destroy-on"): "`force_destroy` `false` → `true`",
    ("aws_secretsmanager_secret.credentials_secret_E9FDEF67", "secret-recovery-window-shortened"): (
        "`recovery_window_in_days` `30` → `0`"
    ),
}


def test_in_place_updates_that_remove_a_protection_or_delete_backups_fail(capsys: pytest.CaptureFixture[str]) -> None:
    """Box 1: each row of the transition table, flagged like a replacement, with its cost and its source."""
    code, out, _ = run(capsys, fixture("risky-updates.json"))

    assert code == ExitCode.FAILED
    assert f"# Plan risk: {len(RISKY_UPDATES)} dangerous change(s) not acknowledged" in out
    dangerous = section(out, f"Dangerous changes, not acknowledged ({len(RISKY_UPDATES)})")
    for (address, kind), transition_text in RISKY_UPDATES.items():
        line = line_of(dangerous, address, kind)
        assert f"is **updated in place**: {transition_text}. Cost: " in line
        assert " Source: " in line
    assert "automated backups older than the new period are deleted" in line_of(dangerous, CLUSTER, "backup-retention-lowered")
    assert "inaccessible" in line_of(dangerous, KMS_KEY, "kms-key-disabled")
    assert "apply_immediately" not in dangerous  # decided: not a transition (transitions.py says why)


def test_protective_or_neutral_updates_pass(capsys: pytest.CaptureFixture[str]) -> None:
    """The same attributes moved the safe way, and tag-only updates of the DMS task and an endpoint, pass."""
    code, out, _ = run(capsys, fixture("protective-updates.json"))

    assert code == ExitCode.OK, out
    assert f"| {DEV} | 0 | 7 | 0 | 0 | 0 | 0 | 0 |" in out


def test_every_transition_has_a_cost_a_source_and_an_acknowledgeable_kind() -> None:
    kinds = [transition.kind for transition in TRANSITIONS]
    assert len(kinds) == len(set(kinds))
    for transition in TRANSITIONS:
        assert transition.cost and transition.source and transition.kind in KINDS
        assert transition.resource_types and transition.attribute


def test_a_delete_of_any_type_not_reviewed_as_stateless_fails(capsys: pytest.CaptureFixture[str]) -> None:
    """Box 2: an RDS instance and an S3 bucket (not in this stack) and a type nobody reviewed; a stateless one passes."""
    code, out, _ = run(capsys, fixture("unreviewed-types.json"))

    assert code == ExitCode.FAILED
    dangerous = section(out, "Dangerous changes, not acknowledged (3)")
    assert "all data is lost" in line_of(dangerous, "aws_db_instance.legacy_4A1B2C3D", "destroy")
    assert "every object and version" in line_of(dangerous, "aws_s3_bucket.exports_5E6F7A8B", "destroy")
    efs = line_of(dangerous, "aws_efs_file_system.shared_9C8D7E6F", "replace")
    assert "(unreviewed type `aws_efs_file_system`)" in efs and "cannot tell" in efs
    assert "aws_cloudwatch_metric_alarm" not in dangerous and "aws_iam_role_policy_attachment" not in dangerous


def test_moves_to_another_type_forgets_and_imports_are_listed_with_what_they_mean(capsys: pytest.CaptureFixture[str]) -> None:
    """Box 2: a `moved` block to another type (then replaced) fails; `removed` and `import` blocks are explained."""
    code, out, _ = run(capsys, fixture("moved-forget-import.json"))

    assert code == ExitCode.FAILED
    dangerous = section(out, "Dangerous changes, not acknowledged (3)")
    assert "cannot tell" in line_of(dangerous, "aws_s3_object.report_2F3E4D5C", "replace")
    moved = line_of(dangerous, "aws_s3_object.report_2F3E4D5C", "moved-to-another-type")
    assert "(`aws_s3_bucket_object` → `aws_s3_object`) is **moved from another type**" in moved
    assert "the provider converts the state" in moved
    assert "(`aws_db_instance` → `aws_rds_cluster_instance`)" in line_of(
        dangerous, "aws_rds_cluster_instance.legacy_4A1B2C3D", "moved-to-another-type"
    )
    assert "monitoring_cpu_1A1A1A1A" not in dangerous  # moved within a stateless type: listed only
    assert "- `aws_cloudwatch_metric_alarm.cpu_1A1A1A1A` → `aws_cloudwatch_metric_alarm.monitoring_cpu_1A1A1A1A`" in out
    assert "**Removed from state, kept in AWS** (1): a `removed` block" in out and "still billed" in out
    assert "- `aws_rds_cluster.old_cluster_8F7E6D5C`" in out
    assert "**Imported** (1): an `import` block" in out
    assert "- `aws_s3_bucket.imported_3C4D5E6F` (id `aurora-migration-imported-dev`, then unchanged)" in out


def test_in_place_updates_of_the_dms_task_or_an_endpoint_stop_replication(capsys: pytest.CaptureFixture[str]) -> None:
    """Box 3: the provider stops a running task to modify it and leaves it stopped; the report says how to resume."""
    code, out, _ = run(capsys, fixture("dms-updates.json"))

    assert code == ExitCode.FAILED
    dangerous = section(out, "Dangerous changes, not acknowledged (3)")
    task = line_of(dangerous, TASK, "stops-replication-task")
    assert "(DMS replication task) is **updated in place** (`replication_task_settings`)" in task
    assert "`start_replication_task = true`, which this stack leaves false" in task and RESUME in task
    assert "resourceReplicationTaskUpdate" in task
    target = line_of(dangerous, TARGET, "stops-replication-task")
    assert "`pause_replication_tasks = true`, which this stack does not set" in target and "fails part-way" in target
    assert "`cutover pause` first" in target and RESUME in target and "resourceEndpointUpdate" in target
    source = line_of(dangerous, SOURCE, "stops-replication-task")
    assert "restarts only those it stopped" in source  # pause_replication_tasks set: stopped and restarted
    assert "dms_instance_6D41EB62" not in dangerous  # a tag change sends no modify call


def test_sensitive_values_stay_hidden_in_nested_blocks_and_whole_objects(capsys: pytest.CaptureFixture[str]) -> None:
    """Box 5: the marker inside a nested block masks only that leaf; `true` for the whole object hides everything."""
    code, out, _ = run(capsys, fixture("sensitive-nested.json"))
    json_code, json_out, _ = run(capsys, "--json", fixture("sensitive-nested.json"))

    assert code == json_code == ExitCode.FAILED
    assert "hunter2" not in out and "hunter2" not in json_out
    assert '`postgres_settings` (`[{"heartbeat_enable": true, "password": "(sensitive)"}]` →' in out
    assert "forced by `secret_string` (sensitive)" in out
    assert "`deletion_protection` (sensitive) → (sensitive)" in out  # flagged, values hidden (the marker covers them)
    assert "`secret_string` ((sensitive) → (sensitive))" in section(out, "Changed outside Terraform (1)")


def test_drift_is_shown_in_its_own_section_and_stateful_drift_called_out(capsys: pytest.CaptureFixture[str]) -> None:
    """Box 6: `resource_drift` (changed outside Terraform) with what changed; a stateful resource gets a warning."""
    code, out, _ = run(capsys, fixture("drift.json"))
    drift = section(out, "Changed outside Terraform (4)")

    assert code == ExitCode.OK  # drift is called out, not an unacknowledged change of this plan
    assert f"| {DEV} | 0 | 1 | 0 | 0 | 0 | 0 | 4 |" in out
    assert "**Warning**: 1 stateful resource(s) changed outside Terraform" in drift
    assert f"- **`{CLUSTER}`** (Aurora cluster, stateful): `deletion_protection` (`true` → `false`)" in drift
    assert "- `aws_cloudwatch_metric_alarm.monitoring_aurora-cpu-utilization-db-1_D7F45311`: `threshold` (`80` → `95`)" in drift
    assert "- `aws_sns_topic_subscription.monitoring_email_4D3C2B1A`: deleted outside Terraform" in drift
    assert '`parameter` (`[{"name": "log_min_duration_statement", "value": "1000"}]` →' in drift

    _, json_out, _ = run(capsys, "--json", fixture("drift.json"))
    [plan] = json.loads(json_out)["plans"]
    assert [(entry["address"], entry["stateful"]) for entry in plan["drift"]][:2] == [
        (CLUSTER, True),
        ("aws_cloudwatch_metric_alarm.monitoring_aurora-cpu-utilization-db-1_D7F45311", False),
    ]


@pytest.mark.terraform
def test_the_tables_name_types_and_attributes_the_provider_has(tmp_path: Path) -> None:
    """Pinned against provider 5.100.0's schema: a renamed attribute would silently stop being checked."""
    toolchain = locate()
    if isinstance(toolchain, str):
        pytest.skip(f"needs terraform and the provider mirror: {toolchain}")
    (tmp_path / "main.tf.json").write_text(
        json.dumps({"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": AWS_VERSION}}}})
    )
    cli_config = tmp_path / "empty.tfrc"
    cli_config.write_text("")
    env = offline_environment(cli_config)

    def terraform(*args: str) -> str:
        done = subprocess.run(
            [str(toolchain.terraform), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    terraform("init", "-backend=false", "-input=false", "-no-color", f"-plugin-dir={toolchain.mirror}")
    schemas = json.loads(terraform("providers", "schema", "-json"))["provider_schemas"]
    resources = next(schema for name, schema in schemas.items() if name.endswith("hashicorp/aws"))["resource_schemas"]

    def attributes(resource_type: str) -> set[str]:
        return set(resources[resource_type]["block"].get("attributes", {}))

    provider_types = set(STATEFUL) | set(STATELESS) - {"terraform_data"}
    assert provider_types <= set(resources), sorted(provider_types - set(resources))
    for transition in TRANSITIONS:
        for resource_type in transition.resource_types:
            assert transition.attribute in attributes(resource_type), (transition.kind, resource_type)
    for resource_type, stop in REPLICATION_STOPS.items():
        switch = {"aws_dms_replication_task": "start_replication_task", "aws_dms_endpoint": "pause_replication_tasks"}
        assert stop.exempt - {"tags", "tags_all"} <= attributes(resource_type)
        assert switch[resource_type] in attributes(resource_type)
