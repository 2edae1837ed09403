"""The plan review artifact (`python -m review.plan_report`): counts by type and changes since the snapshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from config import EnvironmentConfig
from plumbing.exit_codes import ExitCode
from review.plan_report import main
from review.stackdiff import diff_stacks, resource_counts, snapshot_text
from tests.helpers import Document
from tests.review.plan_cases import for_environment


def _write_synth(outdir: Path, stacks: dict[str, Any]) -> Path:
    for stack, document in stacks.items():
        (outdir / "stacks" / stack).mkdir(parents=True)
        (outdir / "stacks" / stack / "cdk.tf.json").write_text(json.dumps(document))
    return outdir


def _write_snapshots(directory: Path, stacks: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for stack, document in stacks.items():
        (directory / f"{stack}.json").write_text(snapshot_text(document))
    return directory


OLD: Document = {
    "resource": {
        "aws_sns_topic": {"alarms_1": {"name": "alarms-dev", "//": {"metadata": {"path": "a"}}}},
        "aws_cloudwatch_metric_alarm": {
            "cpu_1": {"alarm_name": "aurora-cpu-utilization-dev", "threshold": 80},
            "lag_1": {"alarm_name": "dms-lag-dev", "threshold": 300},
        },
        "aws_iam_role_policy": {"p_1": {"policy": '{"Statement":[{"Action":"a:B","Resource":["x"]}]}'}},
    },
    "output": {"topic_arn": {"value": "x"}},
}
NEW: Document = {
    "resource": {
        "aws_sns_topic": {"alarms_2": {"name": "alarms-dev", "//": {"metadata": {"path": "b"}}}},
        "aws_cloudwatch_metric_alarm": {
            "cpu_1": {"alarm_name": "aurora-cpu-utilization-dev", "threshold": 90},
            "lag_1": {"alarm_name": "dms-lag-dev", "threshold": 300},
            "memory_1": {"alarm_name": "aurora-memory-dev", "threshold": 512},
        },
        "aws_iam_role_policy": {"p_1": {"policy": '{"Statement":[{"Action":"a:B","Resource":["x","y"]}]}'}},
    },
    "data": {"aws_partition": {"partition": {}}},
    "output": {"topic_arn": {"value": "y"}, "dashboard": {"value": "z"}},
}


def test_diff_names_added_removed_and_changed_attribute_paths() -> None:
    diff = diff_stacks(OLD, NEW)
    assert diff.added == ["aws_cloudwatch_metric_alarm.memory_1", "aws_sns_topic.alarms_2", "data.aws_partition.partition"]
    assert diff.removed == ["aws_sns_topic.alarms_1"]
    assert diff.changed == {
        "aws_cloudwatch_metric_alarm.cpu_1": ["threshold"],
        "aws_iam_role_policy.p_1": ["policy::Statement[0].Resource[1]"],
    }
    assert [(rename.removed, rename.added) for rename in diff.renames] == [("aws_sns_topic.alarms_1", "aws_sns_topic.alarms_2")]
    assert diff.other_added == ["output.dashboard"]
    assert diff.other_changed == {"output.topic_arn": ["value"]}
    assert diff_stacks(NEW, NEW).empty


def test_report_on_synthetic_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synth = _write_synth(tmp_path / "out", {"app-dev": NEW, "app-new": NEW})
    snapshots = _write_snapshots(tmp_path / "snapshots", {"app-dev": OLD, "app-gone": OLD})

    assert main(["--synth", str(synth), "--snapshots", str(snapshots), "--plans-dir", str(tmp_path / "no-plans")]) == 0
    report = capsys.readouterr().out

    assert "| app-dev | 5 | 1 | 3 | 1 | 2 |" in report  # resources, data sources, added, removed, changed
    assert "| `aws_cloudwatch_metric_alarm` | 3 | +1 |" in report
    assert "| `aws_sns_topic` | 1 | - |" in report
    assert "- `aws_cloudwatch_metric_alarm.cpu_1`: `threshold`" in report
    assert "- `aws_iam_role_policy.p_1`: `policy::Statement[0].Resource[1]`" in report
    assert "- `aws_sns_topic.alarms_1` → `aws_sns_topic.alarms_2`" in report
    assert "- changed `output.topic_arn`: `value`" in report
    assert "## app-new" in report and "No committed snapshot" in report
    assert "## app-gone" in report and "no longer synthesized" in report


def test_report_without_synth_output_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--synth", str(tmp_path / "missing")]) == ExitCode.ERROR
    assert "make synth" in capsys.readouterr().err


def test_report_on_the_real_synth_counts_every_type_and_shows_changes(
    synth_dir: Path, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig], tmp_path: Path
) -> None:
    """Snapshots built from this session's synth, then edited, so the result does not depend on the committed ones."""
    snapshots = {config.stack_name: synthesized[suffix] for suffix, config in environments.items()}
    dev = json.loads(json.dumps(snapshots["aurora-migration-dev"]))
    [cluster] = dev["resource"]["aws_rds_cluster"].values()
    cluster["backup_retention_period"] = 35
    [(task_name, task)] = dev["resource"]["aws_dms_replication_task"].items()
    settings = json.loads(task["replication_task_settings"])
    settings["ValidationSettings"]["ThreadCount"] = 1
    task["replication_task_settings"] = json.dumps(settings)
    certificates = dev["resource"]["aws_dms_certificate"]
    certificate_name = next(name for name, body in certificates.items() if "-source-ca-" in body["certificate_id"])
    del certificates[certificate_name]
    snapshots["aurora-migration-dev"] = dev
    output = tmp_path / "review.md"

    snapshot_dir = _write_snapshots(tmp_path / "s", snapshots)
    arguments = ["--synth", str(synth_dir), "--snapshots", str(snapshot_dir), "--plans-dir", str(tmp_path / "no-plans")]
    assert main([*arguments, "--output", str(output)]) == 0
    report = output.read_text()

    for suffix, config in environments.items():
        assert f"## {config.stack_name}" in report
        for resource_type, count in resource_counts(synthesized[suffix]).items():
            assert f"| `{resource_type}` | {count} |" in report
    [cluster_name] = synthesized["dev"]["resource"]["aws_rds_cluster"]
    assert f"- `aws_rds_cluster.{cluster_name}`: `backup_retention_period`" in report
    assert f"- `aws_dms_replication_task.{task_name}`: `replication_task_settings::ValidationSettings.ThreadCount`" in report
    assert f"**Added** (1)\n\n- `aws_dms_certificate.{certificate_name}`" in report
    assert report.count("No changes since the snapshot.") == len(environments) - 1


PLANS = Path(__file__).parent / "plan_fixtures"


def test_report_says_when_no_plan_is_available(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synth = _write_synth(tmp_path / "out", {"app-dev": NEW})

    assert main(["--synth", str(synth), "--snapshots", str(tmp_path / "none"), "--plans-dir", str(tmp_path / "none")]) == 0
    captured = capsys.readouterr()

    assert "## Plan risk: no plan available" in captured.out
    assert "cannot say what would be replaced or destroyed" in captured.out
    assert "no Terraform plan available" in captured.err
    assert "<!-- plan-risk -->" not in captured.out


def test_report_combines_the_snapshot_diff_with_the_plan_risk_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synth = _write_synth(tmp_path / "out", {"aurora-migration-dev": NEW, "aurora-migration-prod": NEW})
    (synth / "stacks" / "aurora-migration-dev" / "dev.tfplan.json").write_text((PLANS / "dangerous.json").read_text())
    snapshots = _write_snapshots(tmp_path / "snapshots", {"aurora-migration-dev": OLD, "aurora-migration-prod": NEW})
    empty = tmp_path / "acknowledged-risks.toml"
    empty.write_text("")

    common = ["--synth", str(synth), "--snapshots", str(snapshots), "--acknowledgements", str(empty)]
    code = main([*common, "--plans-dir", str(tmp_path / "no-plans")])
    captured = capsys.readouterr()

    assert code == 1  # found beside the stack: aurora-migration-dev replaces its cluster without acknowledgement
    report = captured.out
    assert "## Plan risk: 5 dangerous change(s) not acknowledged" in report
    assert "No plan for aurora-migration-prod: their changes are known from the Terraform JSON only." in report
    assert (
        "### aurora-migration-dev" in report
        and "**`aws_rds_cluster.aurora_cluster_059EF40F`** (Aurora cluster) is **replaced**" in report
    )
    assert report.index("## Plan risk") < report.index("## Synthesized stacks against the committed snapshots")
    assert "- `aws_cloudwatch_metric_alarm.cpu_1`: `threshold`" in report  # the snapshot diff is still there
    assert "without acknowledgement" in captured.err

    # An explicit --plan replaces the discovery; a harmless plan passes.
    prod = for_environment(PLANS / "harmless.json", "prod", tmp_path / "harmless-prod.json")
    code = main([*common, "--plan", f"aurora-migration-prod={prod}"])
    report = capsys.readouterr().out
    assert code == 0 and "## Plan risk: no unacknowledged dangerous changes" in report
    assert "No plan for aurora-migration-dev" in report

    code = main(["--synth", str(synth), "--snapshots", str(snapshots), "--plan", str(tmp_path / "missing.json")])
    assert code == 2 and "cannot read" in capsys.readouterr().out


def test_report_finds_the_plans_make_plan_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`make plan` leaves plans/<stack>.tfplan and plans/<stack>.json: the JSON is read (no terraform needed)."""
    synth = _write_synth(tmp_path / "out", {"aurora-migration-dev": NEW, "aurora-migration-prod": NEW})
    plans = tmp_path / "plans"
    plans.mkdir()
    for_environment(PLANS / "harmless.json", "prod", plans / "aurora-migration-prod.json")
    (plans / "aurora-migration-prod.tfplan").write_bytes(b"PK\x03\x04 not read: the JSON beside it is")
    (plans / "aurora-migration-dev.json").write_text((PLANS / "dangerous.json").read_text())
    (synth / "stacks" / "aurora-migration-dev" / "old.tfplan.json").write_text("not read either: plans/ has aurora-migration-dev")
    empty = tmp_path / "acknowledged-risks.toml"
    empty.write_text("")

    common = ["--synth", str(synth), "--snapshots", str(tmp_path / "none"), "--acknowledgements", str(empty)]
    code = main([*common, "--plans-dir", str(plans)])
    report = capsys.readouterr().out

    assert code == 1
    assert "| aurora-migration-dev | 0 | 1 | 4 | 1 | 5 | 0 | 0 |" in report
    assert "| aurora-migration-prod | 1 | 1 | 0 | 0 | 0 | 0 | 0 |" in report
    assert "No plan for" not in report


def test_a_plan_filed_under_another_stack_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """plans/<stack>.json names the stack it must be for; the plan's own provider tags decide, a mismatch is exit 2."""
    synth = _write_synth(tmp_path / "out", {"aurora-migration-prod": NEW})
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "aurora-migration-prod.json").write_text((PLANS / "harmless.json").read_text())  # a dev plan

    code = main(["--synth", str(synth), "--snapshots", str(tmp_path / "none"), "--plans-dir", str(plans)])
    report = capsys.readouterr().out

    assert code == 2
    assert "is a plan of aurora-migration-dev, not of aurora-migration-prod" in report
