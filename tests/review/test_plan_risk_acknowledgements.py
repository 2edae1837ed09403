"""Acknowledgements name the address, the stack and the kind of change, exactly, and go stale (issue #25 box 4).

Before: one written for a replacement silently covered a destroy of the same address, `--acknowledge ADDRESS`
covered every stack, the stack came from the plan's file name, a module address could not be acknowledged, and an
acknowledgement that matched nothing was only listed (exit 0).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from plumbing.exit_codes import ExitCode
from review.exception_files import ExceptionFileError
from review.plan_risk.acknowledgements import parse_acknowledgement
from tests.review.plan_cases import (
    CLUSTER,
    DEV,
    PLANS,
    PROD,
    REASON,
    fixture,
    resource_change,
    run,
    section,
    write_acknowledgements,
    write_plan,
)

INSTANCE = "aws_rds_cluster_instance.aurora_instance-1_9808E0A1"
ALIAS = "aws_kms_alias.database-key_alias_BD853208"
TASK = "aws_dms_replication_task.dms_task_3CCA84E2"
TARGET = "aws_dms_endpoint.dms_target_1F9451F0"
MODULE_CLUSTER = "module.database.aws_rds_cluster.main"
READER = "aws_rds_cluster_instance.reader[1]"
MODULE_ENDPOINT = 'module.dms["eu-west-1"].aws_dms_endpoint.source'


def test_acknowledged_risks_pass_and_are_shown_with_their_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    acknowledgements = write_acknowledgements(
        tmp_path / "acknowledged-risks.toml",
        (CLUSTER, DEV, "replace"),
        (INSTANCE, DEV, "replace"),
        (ALIAS, DEV, "replace"),
        (TARGET, DEV, "stops-replication-task"),
    )

    code, _, _ = run(capsys, fixture("dangerous.json"), acknowledgements=acknowledgements)
    assert code == ExitCode.FAILED  # the task's destruction is not acknowledged
    code, out, _ = run(
        capsys, fixture("dangerous.json"), "--acknowledge", f"{TASK}@{DEV}:destroy", acknowledgements=acknowledgements
    )

    assert code == ExitCode.OK, out
    assert "# Plan risk: no unacknowledged dangerous changes, 5 acknowledged" in out
    acknowledged = section(out, "Dangerous changes, acknowledged (5)")
    assert f"**`{CLUSTER}`**" in acknowledged
    assert f"Acknowledged (acknowledged-risks.toml): {REASON}" in acknowledged
    assert "Acknowledged (--acknowledge): acknowledged on the command line (--acknowledge)" in acknowledged
    assert "not acknowledged" not in out and "Stale" not in out


def test_an_acknowledgement_of_a_replacement_does_not_cover_a_destroy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    acknowledgements = write_acknowledgements(tmp_path / "ack.toml", (TASK, DEV, "replace"))

    code, out, err = run(
        capsys, fixture("dangerous.json"), f"--acknowledge={CLUSTER}@{DEV}:destroy", acknowledgements=acknowledgements
    )

    assert code == ExitCode.FAILED
    assert "# Plan risk: 5 dangerous change(s) not acknowledged, 2 stale acknowledgement(s)" in out
    assert f"- `{TASK}@{DEV}:replace` (ack.toml)" in out and f"- `{CLUSTER}@{DEV}:destroy` (--acknowledge)" in out
    assert f"stale acknowledgement {TASK}@{DEV}:replace (ack.toml): matches nothing" in err


def test_an_acknowledgement_covers_only_the_stack_the_plan_says_it_is_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acknowledgements = write_acknowledgements(tmp_path / "ack.toml", (CLUSTER, DEV, "replace"))
    dev = write_plan(tmp_path, resource_change(CLUSTER, ["delete", "create"], replace_paths=[["database_name"]]), name="a.json")
    prod = shutil.copy(PLANS / "prod-replace.json", tmp_path / f"{DEV}.json")  # the file name says dev, the plan prod

    code, out, _ = run(capsys, str(dev), str(prod), acknowledgements=acknowledgements)

    assert code == ExitCode.FAILED
    assert f"| {DEV} | 0 | 0 | 1 | 0 | 0 | 1 | 0 |" in out
    assert f"| {PROD} | 0 | 0 | 1 | 0 | 1 | 0 | 0 |" in out


def test_an_acknowledgement_that_matches_nothing_fails_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Stale acknowledgements cannot linger to cover a later change: exit 1, naming each (and why, if no plan of its stack
    was read)."""
    acknowledgements = write_acknowledgements(
        tmp_path / "ack.toml", ("aws_kms_key.database-key_C4D88439", DEV, "destroy"), (CLUSTER, PROD, "replace")
    )

    code, out, err = run(capsys, fixture("harmless.json"), acknowledgements=acknowledgements)

    assert code == ExitCode.FAILED
    assert "# Plan risk: no unacknowledged dangerous changes, 2 stale acknowledgement(s)" in out
    assert f"- `aws_kms_key.database-key_C4D88439@{DEV}:destroy` (ack.toml)\n" in out
    assert f"- `{CLUSTER}@{PROD}:replace` (ack.toml) (no plan of {PROD} was read)" in out
    assert err.count("stale acknowledgement") == 2


def test_module_and_indexed_addresses_can_be_acknowledged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, fixture("module-addresses.json"))
    assert code == ExitCode.FAILED
    assert f'address = "{MODULE_ENDPOINT.replace(chr(34), chr(92) + chr(34))}"' in out  # ready to paste, quotes escaped

    acknowledgements = write_acknowledgements(tmp_path / "ack.toml", (MODULE_CLUSTER, DEV, "replace"), (READER, DEV, "destroy"))
    code, out, _ = run(
        capsys,
        fixture("module-addresses.json"),
        "--acknowledge",
        f"{MODULE_ENDPOINT}@{DEV}:destroy",
        acknowledgements=acknowledgements,
    )
    assert code == ExitCode.OK, out
    assert "3 acknowledged" in out


@pytest.mark.parametrize(
    ("argument", "problem"),
    [
        (CLUSTER, "expected ADDRESS@STACK:KIND"),
        (f"{CLUSTER}@{DEV}", "expected ADDRESS@STACK:KIND"),
        (f"{CLUSTER}@{DEV}:replaced", "change: expected one of "),
        (f"the cluster@{DEV}:replace", "address: expected a Terraform address like"),
        (f"{CLUSTER}@dev stack:replace", "stack: expected a stack name like"),
    ],
)
def test_the_command_line_takes_the_same_three_parts(argument: str, problem: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, fixture("harmless.json"), "--acknowledge", argument)

    assert code == ExitCode.ERROR
    assert err.startswith(f"plan_risk: --acknowledge {argument!r}: ") and problem in err and err.count("\n") == 1


def test_parse_acknowledgement_splits_at_the_last_at_and_colon() -> None:
    parsed = parse_acknowledgement(f'module.x["a@b:c"].aws_s3_bucket.b@{DEV}:destroy')
    assert (parsed.address, parsed.stack, parsed.change) == ('module.x["a@b:c"].aws_s3_bucket.b', DEV, "destroy")
    with pytest.raises(ExceptionFileError):
        parse_acknowledgement(f"{CLUSTER}@{DEV}:")


def test_an_entry_in_the_old_format_is_refused_with_the_fields_now_needed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`stacks = [...]` without a kind of change (the format before #25) is refused, naming what to write instead."""
    old = tmp_path / "ack.toml"
    old.write_text(f'[[acknowledge]]\naddress = "{CLUSTER}"\nstacks = ["{DEV}"]\nreason = "{REASON}"\n')

    code, _, err = run(capsys, str(PLANS / "harmless.json"), acknowledgements=old)

    assert code == ExitCode.ERROR
    assert "acknowledge #1.stack: required field is missing" in err
    assert "acknowledge #1.change: required field is missing" in err
    assert "acknowledge #1.stacks: unknown key (allowed here: address, change, reason, stack)" in err
