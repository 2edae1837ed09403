"""The plan risk report (`python -m review.plan_risk`) on fixture plans: what it lists, what it flags, its exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from plumbing.exit_codes import ExitCode
from review.exception_files import ACKNOWLEDGEMENTS_FILE, ExceptionFileError
from review.plan_risk.__main__ import main
from review.plan_risk.acknowledgements import load_acknowledgements
from review.plan_risk.render import MARKER
from review.plan_risk.stateful import STATEFUL

PLANS = Path(__file__).parent / "plan_fixtures"
CLUSTER = "aws_rds_cluster.aurora_cluster_059EF40F"
INSTANCE = "aws_rds_cluster_instance.aurora_instance-1_9808E0A1"
ALIAS = "aws_kms_alias.database-key_alias_BD853208"
TASK = "aws_dms_replication_task.dms_task_3CCA84E2"
DANGEROUS = (CLUSTER, INSTANCE, ALIAS, TASK)
REASON = "dev holds no data yet, recreated on purpose"


def _run(capsys: pytest.CaptureFixture[str], *argv: str, acknowledgements: Path | None = None) -> tuple[int, str, str]:
    """main() with an empty acknowledgement file unless one is given (the repository's file must not matter)."""
    ack = acknowledgements or Path(os.devnull)
    code = main([*argv, "--acknowledgements", str(ack)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _plan(tmp_path: Path, *changes: dict[str, Any], name: str = "plan.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"format_version": "1.2", "planned_values": {}, "resource_changes": list(changes)}))
    return path


def _change(address: str, actions: list[str], **change: Any) -> dict[str, Any]:
    resource_type, name = address.split(".", 1)
    extra = {"action_reason": change.pop("action_reason")} if "action_reason" in change else {}
    return {
        "address": address,
        "mode": "managed",
        "type": resource_type,
        "name": name,
        "change": {"actions": actions, "before": {}, "after": {}, **change},
        **extra,
    }


def test_harmless_plan_passes_and_lists_every_kind_of_change(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, f"app-dev={PLANS / 'harmless.json'}")

    assert code == ExitCode.OK
    assert out.startswith(MARKER + "\n") and out.count(MARKER) == 1
    assert "# Plan risk: no unacknowledged dangerous changes" in out
    assert "| app-dev | 1 | 1 | 0 | 0 | 0 | 0 |" in out
    assert "- `aws_cloudwatch_metric_alarm.monitoring_aurora-cpu-utilization-db-1_D7F45311`: `threshold`" in out
    assert "**Created** (1)\n\n- `aws_cloudwatch_log_group.extra_1234ABCD`" in out  # creating a stateful type is fine
    assert "No replacement or destruction of a stateful resource." in out
    assert "aws_rds_cluster" not in out and "data.aws_caller_identity" not in out  # no-ops and reads left out


def test_dangerous_plan_fails_naming_address_attribute_and_cost(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, f"app-dev={PLANS / 'dangerous.json'}")

    assert code == ExitCode.FAILED
    assert "# Plan risk: 4 dangerous change(s) not acknowledged" in out
    assert "| app-dev | 0 | 1 | 4 | 1 | 4 | 0 |" in out
    section = out.split("### Dangerous changes, not acknowledged (4)", 1)[1].split("### Changes", 1)[0]
    cluster = next(line for line in section.splitlines() if CLUSTER in line)
    assert "is **replaced** (destroyed first, then created)" in cluster
    assert 'forced by `database_name` (`"app"` → `"appdata"`), `master_password` (sensitive)' in cluster
    assert "all data is lost unless restored from a snapshot" in cluster
    assert "hunter2" not in out  # sensitive values are never shown
    instance = next(line for line in section.splitlines() if INSTANCE in line)
    assert '`cluster_identifier` (`"aurora-migration-cluster-dev"` → (known after apply))' in instance
    alias = next(line for line in section.splitlines() if ALIAS in line)
    assert "(created first, then the old one destroyed)" in alias and "stop finding it" in alias
    task = next(line for line in section.splitlines() if TASK in line)
    assert "is **destroyed**: the resource is no longer in the configuration." in task
    assert "CDC position" in task
    # A replaced alarm is listed as a replacement but is not dangerous; the in-place endpoint update is listed too.
    assert "aws_cloudwatch_metric_alarm.monitoring_dms-cpu-utilization_0E8BB6EC" not in section
    assert "- `aws_cloudwatch_metric_alarm.monitoring_dms-cpu-utilization_0E8BB6EC`: forced by `alarm_name`" in out
    assert "- `aws_dms_endpoint.dms_target_1F9451F0`: `database_name`, `server_name`" in out
    # How to acknowledge, ready to paste.
    assert f'[[acknowledge]]\naddress = "{CLUSTER}"\nstacks = ["app-dev"]' in out


def test_json_output_carries_the_same_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--json", f"app-dev={PLANS / 'dangerous.json'}")
    report = json.loads(out)

    assert code == ExitCode.FAILED and report["exit_code"] == ExitCode.FAILED and report["unacknowledged"] == 4
    [plan] = report["plans"]
    risks = {risk["address"]: risk for risk in plan["risks"]}
    assert set(risks) == set(DANGEROUS)
    assert risks[CLUSTER]["replace_paths"] == ["database_name", "master_password"]
    assert risks[CLUSTER]["action_reason"] == "replace_because_cannot_update"
    assert risks[CLUSTER]["change"] == "replaced" and risks[TASK]["change"] == "destroyed"
    assert risks[CLUSTER]["acknowledged"] is None
    assert [change["address"] for change in plan["destroyed"]] == [TASK]


def test_acknowledged_risks_pass_and_are_shown_with_their_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    acknowledgements = tmp_path / "acknowledged-risks.toml"
    acknowledgements.write_text(
        "\n".join(
            f'[[acknowledge]]\naddress = "{address}"\nstacks = ["app-dev"]\nreason = "{REASON}"\n'
            for address in (CLUSTER, INSTANCE, ALIAS)
        )
        + '[[acknowledge]]\naddress = "aws_kms_key.database-key_C4D88439"\nstacks = ["app-dev"]\n'
        'reason = "left over from an earlier pull request"\n'
    )

    code, out, _ = _run(capsys, f"app-dev={PLANS / 'dangerous.json'}", acknowledgements=acknowledgements)
    assert code == ExitCode.FAILED  # the task is not acknowledged
    code, out, _ = _run(capsys, f"app-dev={PLANS / 'dangerous.json'}", "--acknowledge", TASK, acknowledgements=acknowledgements)

    assert code == ExitCode.OK
    assert "# Plan risk: no unacknowledged dangerous changes, 4 acknowledged" in out
    acknowledged = out.split("### Dangerous changes, acknowledged (4)", 1)[1]
    assert f"**`{CLUSTER}`**" in acknowledged
    assert "Acknowledged (acknowledged-risks.toml): dev holds no data yet, recreated on purpose" in acknowledged
    assert "Acknowledged (--acknowledge): acknowledged on the command line" in acknowledged
    assert "not acknowledged" not in out
    assert "match nothing in these plans" in out and "`aws_kms_key.database-key_C4D88439` in app-dev" in out


def test_an_acknowledgement_covers_only_the_stacks_it_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    acknowledgements = tmp_path / "ack.toml"
    acknowledgements.write_text(
        f'[[acknowledge]]\naddress = "{CLUSTER}"\nstacks = ["app-dev"]\nreason = "dev holds no data yet, recreated on purpose"\n'
    )
    plan = _plan(tmp_path, _change(CLUSTER, ["delete", "create"], replace_paths=[["database_name"]]))

    code, out, _ = _run(capsys, f"app-dev={plan}", f"app-prod={plan}", acknowledgements=acknowledgements)

    assert code == ExitCode.FAILED
    assert "| app-dev | 0 | 0 | 1 | 0 | 0 | 1 |" in out
    assert "| app-prod | 0 | 0 | 1 | 0 | 1 | 0 |" in out


def test_delete_only_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan(
        tmp_path,
        *(
            _change(address, ["delete"], after=None, action_reason="delete_because_no_resource_config")
            for address in ("aws_kms_key.database-key_C4D88439", "aws_cloudwatch_log_group.dms_task-log_0ACDEAB5")
        ),
        _change(
            "aws_iam_role.aurora_monitoring-role_DB848809", ["delete"], before={"name": "aurora-migration-rds-monitoring-dev"}
        ),
        _change("aws_iam_role.dms_service-roles_dms-vpc-role_B21AA385", ["delete"], before={"name": "dms-vpc-role"}),
    )

    code, out, _ = _run(capsys, f"app-dev={plan}")

    assert code == ExitCode.FAILED
    assert "| app-dev | 0 | 0 | 0 | 4 | 3 | 0 |" in out
    assert "becomes unreadable once it is deleted" in out and "every log event in it" in out
    assert "- **`aws_iam_role.dms_service-roles_dms-vpc-role_B21AA385`** (account-wide DMS service role) is **destroyed**" in out
    assert "**`aws_iam_role.aurora_monitoring-role_DB848809`**" not in out  # a role of this stack only: listed, not flagged
    assert "- `aws_iam_role.aurora_monitoring-role_DB848809`" in out


def test_create_before_destroy_replacement_of_a_stateful_resource(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan(
        tmp_path,
        _change(
            "aws_secretsmanager_secret.credentials_secret_E9FDEF67",
            ["create", "delete"],
            before={"name": "a"},
            after={"name": "b"},
            replace_paths=[["name"]],
            action_reason="replace_because_cannot_update",
        ),
    )

    code, out, _ = _run(capsys, f"app-dev={plan}")

    assert code == ExitCode.FAILED
    assert "(Secrets Manager secret) is **replaced** (created first, then the old one destroyed)" in out
    assert 'forced by `name` (`"a"` → `"b"`)' in out and "new ARN" in out


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("replace_because_tainted", "no attribute forces it: the resource is tainted (a previous apply failed part-way)"),
        ("replace_by_request", "no attribute forces it: replacement was requested (`-replace`)"),
        (None, "the plan names no attribute or reason"),
    ],
)
def test_replacement_without_replace_paths(
    reason: str | None, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = {"action_reason": reason} if reason else {}
    plan = _plan(tmp_path, _change("aws_dms_replication_instance.dms_instance_6D41EB62", ["delete", "create"], **extra))

    code, out, _ = _run(capsys, f"app-dev={plan}")

    assert code == ExitCode.FAILED
    assert f"(DMS replication instance) is **replaced** (destroyed first, then created): {expected}." in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"\x89not json at all\xff", "neither plan JSON nor a saved plan"),
        (b"{not json", "neither plan JSON nor a saved plan"),
        (b'{"format_version": "1.0", "values": {}}', "JSON but not a plan"),
        (b'{"format_version": "1.2", "planned_values": {}, "errored": true}', "the plan is errored"),
    ],
)
def test_unreadable_plan_exits_2(content: bytes | None, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_bytes(content)

    code, out, err = _run(capsys, f"app-dev={path}", f"app-prod={PLANS / 'dangerous.json'}")

    assert code == ExitCode.ERROR  # even though the other plan has unacknowledged risks
    assert "# Plan risk: cannot read 1 plan(s)" in out and "| app-dev | plan unreadable |" in out
    assert message in out and message in err


def test_malformed_acknowledgement_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "ack.toml"
    bad.write_text(
        '[[acknowledge]]\naddress = "not an address"\nstacks = []\nreason = "short"\ncolour = "red"\n'
        f'[[acknowledge]]\naddress = "{CLUSTER}"\nstacks = ["a", "a"]\nreason = "a reason that is long enough"\n'
    )
    with pytest.raises(ExceptionFileError) as raised:
        load_acknowledgements(bad)
    problems = str(raised.value).splitlines()
    assert len(problems) == 5, problems  # address, stacks, reason, unknown key, twice

    code, _, err = _run(capsys, f"app-dev={PLANS / 'harmless.json'}", acknowledgements=bad)
    assert code == ExitCode.ERROR and "acknowledge #1.address: expected a Terraform address like" in err
    code, _, err = _run(capsys, f"app-dev={PLANS / 'harmless.json'}", "--acknowledge", "nope")
    assert code == ExitCode.ERROR and "--acknowledge 'nope'" in err
    assert load_acknowledgements(tmp_path / "missing.toml") == []


def test_the_repository_acknowledgement_file_is_valid() -> None:
    load_acknowledgements(ACKNOWLEDGEMENTS_FILE)


def test_stack_name_comes_from_the_stack_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = tmp_path / "stacks" / "aurora-migration-dev"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text("{}")
    shutil.copy(PLANS / "harmless.json", stack / "dev.tfplan.json")
    shutil.copy(PLANS / "harmless.json", tmp_path / "staging.json")

    code, out, _ = _run(capsys, str(stack / "dev.tfplan.json"), str(tmp_path / "staging.json"))

    assert code == ExitCode.OK
    assert "## aurora-migration-dev" in out and "## staging" in out


def test_every_stateful_type_exists_in_the_stack(synthesized: dict[str, dict[str, Any]]) -> None:
    """The table names types the stack really has (a renamed type would silently stop being checked)."""
    present = {resource_type for document in synthesized.values() for resource_type in document.get("resource", {})}
    assert set(STATEFUL) <= present, sorted(set(STATEFUL) - present)


@pytest.mark.terraform
def test_saved_binary_plan_is_read_with_terraform_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real saved plan (terraform_data needs no provider): read through `terraform show -json`, stale config noticed."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH")
    stack = tmp_path / "stacks" / "app-dev"
    stack.mkdir(parents=True)
    config = stack / "cdk.tf.json"
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull, "TF_IN_AUTOMATION": "1"}

    def terraform_run(*args: str) -> None:
        subprocess.run([terraform, *args, "-input=false", "-no-color"], cwd=stack, env=env, check=True, capture_output=True)

    config.write_text(json.dumps({"resource": {"terraform_data": {"a": {"input": "one", "triggers_replace": ["x"]}}}}))
    terraform_run("init")
    terraform_run("apply", "-auto-approve")
    config.write_text(json.dumps({"resource": {"terraform_data": {"a": {"input": "one", "triggers_replace": ["y"]}}}}))
    terraform_run("plan", "-out=change.tfplan")

    code, out, _ = _run(capsys, "--json", str(stack / "change.tfplan"), "--terraform", terraform)
    [plan] = json.loads(out)["plans"]
    assert code == ExitCode.OK  # terraform_data is not stateful
    assert plan["stack"] == "app-dev" and not plan["warnings"]
    assert plan["replaced"] == [
        {
            "address": "terraform_data.a",
            "type": "terraform_data",
            "actions": ["delete", "create"],
            "replace_paths": ["triggers_replace"],
            "action_reason": "replace_because_cannot_update",
        }
    ]

    config.write_text(json.dumps({"resource": {"terraform_data": {"a": {"input": "two"}}}}))  # synthesized again
    code, out, _ = _run(capsys, str(stack / "change.tfplan"), "--terraform", terraform)
    assert code == ExitCode.OK and "made from another `cdk.tf.json`" in out

    code, out, err = _run(capsys, str(stack / "change.tfplan"), "--terraform", str(tmp_path / "no-terraform"))
    assert code == ExitCode.ERROR and "cannot run" in err and "terraform show -json" in err
