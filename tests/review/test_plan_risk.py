"""The plan risk report (`python -m review.plan_risk`) on fixture plans: what it lists, what it flags, its exit codes.

Kinds of dangerous change: test_plan_risk_kinds.py; acknowledgements: test_plan_risk_acknowledgements.py; the plan's
structure: test_plan_shape.py.
"""

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
from review.plan_risk.acknowledgements import load_acknowledgements
from review.plan_risk.render import MARKER
from review.plan_risk.stateful import STATEFUL
from review.plan_risk.stateless import STATELESS
from tests.review.plan_cases import (
    CLUSTER,
    DEV,
    PLANS,
    PROD,
    fixture,
    for_environment,
    line_of,
    resource_change,
    run,
    section,
    write_plan,
)

INSTANCE = "aws_rds_cluster_instance.aurora_instance-1_9808E0A1"
ALIAS = "aws_kms_alias.database-key_alias_BD853208"
TASK = "aws_dms_replication_task.dms_task_3CCA84E2"
TARGET = "aws_dms_endpoint.dms_target_1F9451F0"
DANGEROUS = (CLUSTER, INSTANCE, ALIAS, TASK, TARGET)


def test_harmless_plan_passes_and_lists_every_kind_of_change(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, fixture("harmless.json"))

    assert code == ExitCode.OK
    assert out.startswith(MARKER + "\n") and out.count(MARKER) == 1
    assert "# Plan risk: no unacknowledged dangerous changes" in out
    assert f"| {DEV} | 1 | 1 | 0 | 0 | 0 | 0 | 0 |" in out
    assert "- `aws_cloudwatch_metric_alarm.monitoring_aurora-cpu-utilization-db-1_D7F45311`: `threshold`" in out
    assert "**Created** (1)\n\n- `aws_cloudwatch_log_group.extra_1234ABCD`" in out  # creating a stateful type is fine
    assert "No dangerous change" in out
    assert "aws_rds_cluster" not in out and "data.aws_caller_identity" not in out  # no-ops and reads left out


def test_dangerous_plan_fails_naming_address_attribute_and_cost(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, fixture("dangerous.json"))

    assert code == ExitCode.FAILED
    assert "# Plan risk: 5 dangerous change(s) not acknowledged" in out
    assert f"| {DEV} | 0 | 1 | 4 | 1 | 5 | 0 | 0 |" in out
    dangerous = section(out, "Dangerous changes, not acknowledged (5)")
    cluster = line_of(dangerous, CLUSTER)
    assert "is **replaced** (destroyed first, then created)" in cluster
    assert 'forced by `database_name` (`"app"` → `"appdata"`), `master_password` (sensitive)' in cluster
    assert "all data is lost unless restored from a snapshot" in cluster and "Change: `replace`." in cluster
    assert "hunter2" not in out  # sensitive values are never shown
    assert '`cluster_identifier` (`"aurora-migration-cluster-dev"` → (known after apply))' in line_of(dangerous, INSTANCE)
    alias = line_of(dangerous, ALIAS)
    assert "(created first, then the old one destroyed)" in alias and "stop finding it" in alias
    task = line_of(dangerous, TASK)
    assert "is **destroyed**: the resource is no longer in the configuration." in task and "CDC position" in task
    assert "Change: `destroy`." in task
    # The in-place endpoint update stops a running task (test_plan_risk_kinds.py); a replaced alarm is not dangerous.
    assert "Change: `stops-replication-task`." in line_of(dangerous, TARGET)
    assert "aws_cloudwatch_metric_alarm.monitoring_dms-cpu-utilization_0E8BB6EC" not in dangerous
    assert "- `aws_cloudwatch_metric_alarm.monitoring_dms-cpu-utilization_0E8BB6EC`: forced by `alarm_name`" in out
    # How to acknowledge, ready to paste: address, stack and kind of change.
    assert f'[[acknowledge]]\naddress = "{CLUSTER}"\nstack = "{DEV}"\nchange = "replace"\nreason = ' in out
    assert f"--acknowledge '{CLUSTER}@{DEV}:replace'" in out


def test_json_output_carries_the_same_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--json", fixture("dangerous.json"))
    report = json.loads(out)

    assert code == ExitCode.FAILED and report["exit_code"] == ExitCode.FAILED and report["unacknowledged"] == 5
    [plan] = report["plans"]
    assert plan["stack"] == DEV and plan["environment"] == "dev"
    risks = {risk["address"]: risk for risk in plan["risks"]}
    assert set(risks) == set(DANGEROUS)
    assert risks[CLUSTER]["replace_paths"] == ["database_name", "master_password"]
    assert risks[CLUSTER]["action_reason"] == "replace_because_cannot_update"
    assert risks[CLUSTER]["change"] == "replace" and risks[TASK]["change"] == "destroy"
    assert risks[TARGET]["change"] == "stops-replication-task"
    assert risks[CLUSTER]["acknowledged"] is None
    assert [change["address"] for change in plan["destroyed"]] == [TASK]
    assert report["stale_acknowledgements"] == []


def test_delete_only_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = write_plan(
        tmp_path,
        *(
            resource_change(
                address, ["delete"], after=None, after_sensitive=False, action_reason="delete_because_no_resource_config"
            )
            for address in ("aws_kms_key.database-key_C4D88439", "aws_cloudwatch_log_group.dms_task-log_0ACDEAB5")
        ),
        resource_change(
            "aws_iam_role.aurora_monitoring-role_DB848809", ["delete"], before={"name": "aurora-migration-rds-monitoring-dev"}
        ),
        resource_change("aws_iam_role.dms_service-roles_dms-vpc-role_B21AA385", ["delete"], before={"name": "dms-vpc-role"}),
    )

    code, out, _ = run(capsys, str(plan))

    assert code == ExitCode.FAILED
    assert f"| {DEV} | 0 | 0 | 0 | 4 | 3 | 0 | 0 |" in out
    assert "becomes unreadable once it is deleted" in out and "every log event in it" in out
    assert "- **`aws_iam_role.dms_service-roles_dms-vpc-role_B21AA385`** (account-wide DMS service role) is **destroyed**" in out
    assert "**`aws_iam_role.aurora_monitoring-role_DB848809`**" not in out  # a role of this stack only: listed, not flagged
    assert "- `aws_iam_role.aurora_monitoring-role_DB848809`" in out


def test_create_before_destroy_replacement_of_a_stateful_resource(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = write_plan(
        tmp_path,
        resource_change(
            "aws_secretsmanager_secret.credentials_secret_E9FDEF67",
            ["create", "delete"],
            before={"name": "a"},
            after={"name": "b"},
            replace_paths=[["name"]],
            action_reason="replace_because_cannot_update",
        ),
    )

    code, out, _ = run(capsys, str(plan))

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
    plan = write_plan(
        tmp_path, resource_change("aws_dms_replication_instance.dms_instance_6D41EB62", ["delete", "create"], **extra)
    )

    code, out, _ = run(capsys, str(plan))

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

    code, out, err = run(capsys, f"{DEV}={path}", fixture("dangerous.json"))

    assert code == ExitCode.ERROR  # even though the other plan has unacknowledged risks
    assert "# Plan risk: cannot read 1 plan(s)" in out and f"| {DEV} | plan unreadable |" in out
    assert message in out and message in err


def test_malformed_acknowledgement_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "ack.toml"
    bad.write_text(
        '[[acknowledge]]\naddress = "not an address"\nstack = ""\nchange = "replaced"\nreason = "short"\ncolour = "red"\n'
        f'[[acknowledge]]\naddress = "{CLUSTER}"\nstack = "{DEV}"\nchange = "replace"\nreason = "a reason that is long enough"\n'
        f'[[acknowledge]]\naddress = "{CLUSTER}"\nstack = "{DEV}"\nchange = "replace"\nreason = "a reason that is long enough"\n'
    )
    with pytest.raises(ExceptionFileError) as raised:
        load_acknowledgements(bad)
    problems = str(raised.value).splitlines()
    assert len(problems) == 5, problems  # address, stack, change, reason, unknown key (the file rule waits for them)

    code, _, err = run(capsys, fixture("harmless.json"), acknowledgements=bad)
    assert code == ExitCode.ERROR and "acknowledge #1.address: expected a Terraform address like" in err
    assert "acknowledge #1.change: expected one of " in err and "got 'replaced'" in err
    assert load_acknowledgements(tmp_path / "missing.toml") == []


def test_the_repository_acknowledgement_file_is_valid() -> None:
    load_acknowledgements(ACKNOWLEDGEMENTS_FILE)


def test_the_stack_comes_from_the_plan_not_its_file_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A dev plan saved as `aurora-migration-prod.json` is still dev's; a name or folder that disagrees is refused."""
    misnamed = Path(shutil.copy(PLANS / "harmless.json", tmp_path / f"{PROD}.json"))
    prod = for_environment(PLANS / "harmless.json", "prod", tmp_path / "dev.json")

    code, out, _ = run(capsys, str(misnamed), str(prod))
    assert code == ExitCode.OK
    assert f"## {DEV}\n\nPlan: `{misnamed}`" in out and f"## {PROD}\n\nPlan: `{prod}`" in out

    code, out, err = run(capsys, f"{PROD}={misnamed}")
    assert code == ExitCode.ERROR and f"is a plan of {DEV}, not of {PROD}" in err

    folder = tmp_path / "stacks" / PROD
    folder.mkdir(parents=True)
    (folder / "cdk.tf.json").write_text(json.dumps({"//": {"metadata": {"stackName": PROD}}}))
    code, _, err = run(capsys, str(shutil.copy(misnamed, folder / "plan.tfplan.json")))
    assert code == ExitCode.ERROR and f"is a plan of {DEV}, not of {PROD} as its name or folder says" in err


def test_a_plan_that_names_no_stack_cannot_be_judged(capsys: pytest.CaptureFixture[str]) -> None:
    """Without the provider's default tags nothing says which stack's acknowledgements apply: exit 2, not a guess."""
    code, _, err = run(capsys, f"{DEV}={fixture('no-identity.json')}")

    assert code == ExitCode.ERROR
    assert "cannot tell which stack the plan is for" in err and err.count("\n") == 1


def test_a_plan_whose_providers_name_two_stacks_cannot_be_judged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = json.loads((PLANS / "harmless.json").read_text())
    other = for_environment(PLANS / "harmless.json", "prod", tmp_path / "prod.json")
    plan["configuration"]["provider_config"]["aws.replica"] = json.loads(other.read_text())["configuration"]["provider_config"][
        "aws"
    ]
    path = tmp_path / "two.json"
    path.write_text(json.dumps(plan))

    code, _, err = run(capsys, str(path))

    assert code == ExitCode.ERROR and "default_tags name more than one stack" in err


def test_every_type_the_stack_synthesizes_is_reviewed(synthesized: dict[str, dict[str, Any]]) -> None:
    """Each type is on the stateful table or the reviewed stateless list (a new type would fail every plan risk report)."""
    present = {resource_type for document in synthesized.values() for resource_type in document.get("resource", {})}
    reviewed = set(STATEFUL) | set(STATELESS)
    assert present <= reviewed, sorted(present - reviewed)
    assert set(STATEFUL) - present <= {"aws_db_instance", "aws_s3_bucket"}  # the table names no renamed type


@pytest.mark.terraform
def test_saved_binary_plan_is_read_with_terraform_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real saved plan (terraform_data needs no provider): read through `terraform show -json`, its stack from the
    cdktf metadata the saved plan carries, stale config noticed."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH")
    stack = tmp_path / "stacks" / DEV
    stack.mkdir(parents=True)
    config = stack / "cdk.tf.json"
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull, "TF_IN_AUTOMATION": "1"}

    def terraform_run(*args: str) -> None:
        subprocess.run([terraform, *args, "-input=false", "-no-color"], cwd=stack, env=env, check=True, capture_output=True)

    def write_config(trigger: str, value: str = "one") -> None:
        resource = {"terraform_data": {"a": {"input": value, "triggers_replace": [trigger]}}}
        config.write_text(json.dumps({"//": {"metadata": {"stackName": DEV}}, "resource": resource}))

    write_config("x")
    terraform_run("init")
    terraform_run("apply", "-auto-approve")
    write_config("y")
    terraform_run("plan", "-out=change.tfplan")
    saved = shutil.copy(stack / "change.tfplan", tmp_path / "elsewhere.tfplan")

    code, out, _ = run(capsys, "--json", str(saved), "--stack-dir", str(stack), "--terraform", terraform)
    [plan] = json.loads(out)["plans"]
    assert code == ExitCode.OK  # terraform_data is on the stateless list
    assert plan["stack"] == DEV and not plan["warnings"]
    assert plan["replaced"] == [
        {
            "address": "terraform_data.a",
            "type": "terraform_data",
            "actions": ["delete", "create"],
            "replace_paths": ["triggers_replace"],
            "action_reason": "replace_because_cannot_update",
        }
    ]

    write_config("y", value="two")  # synthesized again
    code, out, _ = run(capsys, str(stack / "change.tfplan"), "--terraform", terraform)
    assert code == ExitCode.OK and "made from another `cdk.tf.json`" in out

    code, out, err = run(capsys, str(stack / "change.tfplan"), "--terraform", str(tmp_path / "no-terraform"))
    assert code == ExitCode.ERROR and "cannot run" in err and "terraform show -json" in err
