"""The reviewed-exception files (review/exception_files.py): one loader, one line per problem, unknown keys refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.exception_files import (
    ACKNOWLEDGEMENTS_FILE,
    CHECKOV_WAIVERS_FILE,
    EXCEPTIONS_DIR,
    IAM_WAIVERS_FILE,
    AcknowledgementFile,
    CheckovWaiverFile,
    ExceptionFileError,
    ExceptionModel,
    IamWaiverFile,
    load_exception_file,
)
from review.plan_risk.transitions import KINDS
from tests.conftest import REPO_ROOT

CLUSTER = "aws_rds_cluster.aurora_cluster_059EF40F"
LONG_REASON = "Dev is short-lived and torn down with cdktf destroy, by design."
GOOD = {
    CheckovWaiverFile: (
        f'[[waiver]]\ncheck_id = "CKV_AWS_139"\naddress = "{CLUSTER}"\nwhen = ["aurora.deletion_protection == false"]\n'
        f'reason = "{LONG_REASON}"\n'
    ),
    AcknowledgementFile: (
        f'[[acknowledge]]\naddress = "{CLUSTER}"\nstack = "aurora-migration-dev"\nchange = "replace"\nreason = "{LONG_REASON}"\n'
    ),
    IamWaiverFile: f'[[waiver]]\nissue = "RESOURCE_STAR"\ntarget = "aws_kms_key.policy"\nreason = "{LONG_REASON}"\n',
}
# One bad field per kind, and the whole line it must give: file, entry, field, what is allowed, the bad value.
MALFORMED: list[tuple[type[ExceptionModel], str, str, str]] = [
    (
        CheckovWaiverFile,
        'when = ["aurora.deletion_protection == false"]',
        'when = "aurora.deletion_protection == false"',
        "waiver #1.when: expected an array, got 'aurora.deletion_protection == false'",
    ),
    (
        CheckovWaiverFile,
        'check_id = "CKV_AWS_139"',
        'check_id = "CKV-AWS-139"',
        "waiver #1.check_id: expected a checkov id like 'CKV_AWS_139' or 'CKV2_AWS_8', got 'CKV-AWS-139'",
    ),
    (
        AcknowledgementFile,
        'stack = "aurora-migration-dev"',
        "stack = 1",
        "acknowledge #1.stack: expected a valid string, got 1",
    ),
    (
        AcknowledgementFile,
        'change = "replace"',
        'change = "replaced"',
        f"acknowledge #1.change: expected one of {', '.join(sorted(KINDS))}, got 'replaced'",
    ),
    (
        AcknowledgementFile,
        f'address = "{CLUSTER}"',
        "address = 'module.db[\"a\"].aws_rds_cluster'",
        f"acknowledge #1.address: expected a Terraform address like {CLUSTER!r}, got 'module.db[\"a\"].aws_rds_cluster'",
    ),
    (
        AcknowledgementFile,
        f'address = "{CLUSTER}"',
        'address = "the cluster"',
        f"acknowledge #1.address: expected a Terraform address like {CLUSTER!r}, got 'the cluster'",
    ),
    (
        IamWaiverFile,
        f'reason = "{LONG_REASON}"',
        'reason = "   "',
        "waiver #1.reason: must not be empty, got '   '",
    ),
    (
        IamWaiverFile,
        'issue = "RESOURCE_STAR"',
        "issue = true",
        "waiver #1.issue: expected a valid string, got True",
    ),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exceptions.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path, model: type[ExceptionModel]) -> tuple[str, ...]:
    with pytest.raises(ExceptionFileError) as raised:
        load_exception_file(path, model)
    return raised.value.problems


@pytest.mark.parametrize(
    ("model", "good", "bad", "line"), MALFORMED, ids=[f"{model.__name__}-{bad.split(' =')[0]}" for model, _, bad, _ in MALFORMED]
)
def test_a_malformed_entry_gives_one_line_naming_file_entry_field_value_and_what_is_allowed(
    model: type[ExceptionModel], good: str, bad: str, line: str, tmp_path: Path
) -> None:
    assert good in GOOD[model]
    path = _write(tmp_path, GOOD[model].replace(good, bad))
    assert _problems(path, model) == (f"{path}: {line}",)


@pytest.mark.parametrize("model", list(GOOD), ids=lambda model: model.__name__)
def test_unknown_keys_are_refused_with_the_keys_allowed(model: type[ExceptionModel], tmp_path: Path) -> None:
    [table] = model.model_fields
    [entry_model] = model.model_fields[table].annotation.__args__[:1]  # type: ignore[union-attr]
    allowed = ", ".join(sorted(entry_model.model_fields))
    path = _write(tmp_path, GOOD[model] + 'colour = "red"\n\n[extra]\nkey = 1\n')
    assert _problems(path, model) == (
        f"{path}: {table} #1.colour: unknown key (allowed here: {allowed})",
        f"{path}: extra: unknown key (allowed here: {table})",
    )


@pytest.mark.parametrize("model", list(GOOD), ids=lambda model: model.__name__)
def test_a_good_entry_loads_and_its_reason_is_kept(model: type[ExceptionModel], tmp_path: Path) -> None:
    loaded = load_exception_file(_write(tmp_path, GOOD[model]), model)
    [entry] = getattr(loaded, next(iter(model.model_fields)))
    assert entry.reason == LONG_REASON
    with pytest.raises(ValueError, match="frozen"):
        entry.reason = "changed"


def test_not_toml_and_a_missing_file(tmp_path: Path) -> None:
    broken = _write(tmp_path, "[[waiver]\n")
    [problem] = _problems(broken, CheckovWaiverFile)
    assert problem.startswith(f"{broken}: not valid TOML: ")
    assert _problems(tmp_path / "missing.toml", IamWaiverFile) == (f"{tmp_path / 'missing.toml'}: file not found",)
    assert load_exception_file(tmp_path / "missing.toml", AcknowledgementFile, missing_ok=True) == AcknowledgementFile()


def test_a_table_instead_of_an_array_of_tables(tmp_path: Path) -> None:
    path = _write(tmp_path, "[waiver]\nissue = 'x'\n")
    assert _problems(path, IamWaiverFile) == (f"{path}: waiver: expected an array of tables ([[waiver]]), got {{'issue': 'x'}}",)


def test_the_three_files_live_in_one_folder_and_are_valid() -> None:
    assert {CHECKOV_WAIVERS_FILE.parent, ACKNOWLEDGEMENTS_FILE.parent, IAM_WAIVERS_FILE.parent} == {EXCEPTIONS_DIR}
    assert EXCEPTIONS_DIR == REPO_ROOT / "review" / "exceptions"
    assert load_exception_file(CHECKOV_WAIVERS_FILE, CheckovWaiverFile).waiver
    assert load_exception_file(IAM_WAIVERS_FILE, IamWaiverFile).waiver
    load_exception_file(ACKNOWLEDGEMENTS_FILE, AcknowledgementFile)
    assert not (REPO_ROOT / "security").exists()
