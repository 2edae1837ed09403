"""`python -m migration_ops.drift`: the state copy it plans against, the issue it writes, its exit codes.

The refresh-only plan itself runs in the emulator (tests/integration/test_plan_role.py), as the plan role.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from migration_ops import drift
from plumbing.exit_codes import ExitCode


def _resource(resource_type: str, name: str, *, write_only: bool | None, mode: str = "managed", **extra: Any) -> dict[str, Any]:
    attributes = {} if write_only is None else {"has_secret_string_wo": write_only}
    return {"mode": mode, "type": resource_type, "name": name, "instances": [{"attributes": attributes}], **extra}


def test_the_state_copy_leaves_out_only_write_only_secret_versions() -> None:
    state: dict[str, Any] = {
        "version": 4,
        "serial": 7,
        "resources": [
            _resource("aws_secretsmanager_secret_version", "master", write_only=True),
            _resource("aws_secretsmanager_secret_version", "credentials", write_only=True, module="module.db"),
            _resource("aws_secretsmanager_secret_version", "plain", write_only=False),
            _resource("aws_secretsmanager_secret_version", "read", write_only=True, mode="data"),
            _resource("aws_secretsmanager_secret", "master", write_only=None),
        ],
    }
    copy, removed = drift.without_write_only_secret_versions(state)
    assert removed == ["aws_secretsmanager_secret_version.master", "module.db.aws_secretsmanager_secret_version.credentials"]
    assert [(r["type"], r["name"]) for r in copy["resources"]] == [
        ("aws_secretsmanager_secret_version", "plain"),
        ("aws_secretsmanager_secret_version", "read"),
        ("aws_secretsmanager_secret", "master"),
    ]
    assert (copy["version"], copy["serial"]) == (4, 7)
    assert len(state["resources"]) == 5, "the pulled state itself is left as it was"


@pytest.mark.parametrize("state", [{}, {"resources": {}}, {"resources": ["x"]}])
def test_a_state_without_a_list_of_resources_is_refused(state: dict[str, Any]) -> None:
    with pytest.raises(drift.DriftError, match="not a Terraform state"):
        drift.without_write_only_secret_versions(state)


def _drift(plan_text: str = "~ resource changed") -> drift.Drift:
    return drift.Drift(
        stack="aurora-migration-prod",
        drifted=("aws_rds_cluster.aurora (update)",),
        not_refreshed=("aws_secretsmanager_secret_version.master",),
        plan_text=plan_text,
    )


def test_the_issue_names_what_drifted_what_was_not_refreshed_and_the_run() -> None:
    body = drift.issue_body(_drift(), run_url="https://github.com/o/r/actions/runs/1")
    assert "`aurora-migration-prod`" in body and "- `aws_rds_cluster.aurora (update)`" in body
    assert "`aws_secretsmanager_secret_version.master`" in body and "never closed automatically" in body
    assert "([run](https://github.com/o/r/actions/runs/1))" in body
    assert "```\n~ resource changed\n```" in body


def test_a_long_plan_is_cut_to_fit_an_issue() -> None:
    body = drift.issue_body(_drift("x" * 200_000), run_url=None)
    assert len(body) <= drift.ISSUE_BODY_LIMIT
    assert "… cut here" in body and body.endswith("</details>\n")


def test_without_a_synthesized_stack_it_exits_2_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "reports" / "aurora-migration-dev.drift.md"
    stale.parent.mkdir()
    stale.write_text("yesterday's drift")
    options = drift.DriftOptions(stack_dir=tmp_path / "aurora-migration-dev", output=tmp_path / "reports")
    assert drift.run(options) == ExitCode.ERROR
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no synthesized stack (run `make plan-synth`)" in error
    assert not stale.exists(), "a report from an earlier run never survives a run that found none"


def test_a_missing_terraform_exits_2_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = tmp_path / "aurora-migration-dev"
    stack.mkdir()
    (stack / "cdk.tf.json").write_text("{}")
    options = drift.DriftOptions(stack_dir=stack, output=tmp_path, terraform=str(tmp_path / "no-terraform"))
    assert drift.run(options) == ExitCode.ERROR
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not found on PATH" in error


def test_usage_errors_exit_2() -> None:
    assert drift.main([]) == 2
