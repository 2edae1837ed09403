"""The plan JSON is checked against the documented structure (format 1.x) before it is read (issue #25 box 5).

Before, a string `actions` or `mode: "Managed"` was skipped as "no change" (exit 0) and a `resource_changes` object,
an item that is not an object or a string `change` crashed with a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plumbing.exit_codes import ExitCode
from tests.review.plan_cases import PLANS, fixture, run

MALFORMED = {
    "actions-string.json": "$.resource_changes[0].change.actions: expected a list of actions, got 'delete'",
    "mode-capitalized.json": "$.resource_changes[0].mode: expected managed or data, got 'Managed'",
    "resource-changes-object.json": "$.resource_changes: expected a list, got an object",
    "item-not-object.json": "$.resource_changes[0]: expected an object, got 'aws_rds_cluster.",
    "change-string.json": "$.resource_changes[0].change: expected an object, got 'delete'",
    "unknown-action.json": "$.resource_changes[0].change.actions[0]: expected one of create, delete, forget, no-op, read, "
    "update, got 'destroy'",
    "format-version-2.json": "$.format_version: expected \"1.x\", got '2.0'",
    "no-after-sensitive.json": "$.resource_changes[0].change.after_sensitive: missing (expected a sensitivity marker)",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_plan_off_the_documented_structure_exits_2_with_one_line(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = PLANS / "malformed" / name
    code, out, err = run(capsys, str(path))

    assert code == ExitCode.ERROR
    assert err.startswith(f"plan_risk: {path}: not the documented plan structure (format 1.x): {MALFORMED[name]}")
    assert err.count("\n") == 1 and "# Plan risk: cannot read 1 plan(s)" in out


def test_every_malformed_fixture_is_tested() -> None:
    assert {path.name for path in (PLANS / "malformed").glob("*.json")} == set(MALFORMED)


def test_output_to_a_directory_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--output", str(tmp_path), fixture("harmless.json"))

    assert code == ExitCode.ERROR and out == ""
    assert err == f"plan_risk: --output {tmp_path} is a directory: name the report file (e.g. {tmp_path}/plan-risk.md)\n"
