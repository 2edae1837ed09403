"""Gate: each environment's synthesized stack equals its committed snapshot in tests/review/snapshots/.

A snapshot is the stack's cdk.tf.json with sorted keys and a 2-space indent,
so a pull request shows every change to the Terraform JSON as a readable diff.
After an intended change, update and commit the snapshots with one command:

    make snapshots      # = pipenv run pytest tests/review/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import time
from pathlib import Path

import pytest

from config import EnvironmentConfig
from review.stackdiff import REPO_ROOT, diff_stacks, snapshot_path, snapshot_text
from tests.helpers import Document
from tests.review.conftest import GATE_TIMINGS

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"
"""The committed snapshots; `make review` passes the same folder to `python -m review.plan_report --snapshots`."""

UPDATE_COMMAND = "make snapshots  (= pipenv run pytest tests/review/test_snapshots.py --snapshot-update)"
MAX_DIFF_LINES = 80
MAX_SUMMARY_LINES = 30
MAX_LINE_CHARS = 160
TEST_PATH = re.compile(r"tests(/[\w.-]+)*/?")


def _relative(path: Path) -> Path:
    return path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path


def _trim(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else f"{line[:MAX_LINE_CHARS]}... ({len(line)} chars)"


def mismatch_message(stack: str, path: Path, committed: str, current: str) -> str:
    """What changed, by address and as a trimmed unified diff, and how to accept it."""
    summary = diff_stacks(json.loads(committed), json.loads(current)).summary_lines()
    if len(summary) > MAX_SUMMARY_LINES:
        hidden = len(summary) - MAX_SUMMARY_LINES
        summary = [*summary[:MAX_SUMMARY_LINES], f"... {hidden} more (python -m review.plan_report lists every change)"]
    diff = list(
        difflib.unified_diff(
            committed.splitlines(),
            current.splitlines(),
            fromfile=f"{_relative(path)} (committed)",
            tofile=f"{stack} (synthesized now)",
            n=2,
            lineterm="",
        )
    )
    shown = [_trim(line) for line in diff[:MAX_DIFF_LINES]]
    if len(diff) > MAX_DIFF_LINES:
        shown.append(f"... {len(diff) - MAX_DIFF_LINES} more diff lines (python -m review.plan_report lists every change)")
    return "\n".join(
        [
            f"{stack} differs from its snapshot {_relative(path)}:",
            *(f"  {line}" for line in summary),
            "",
            *shown,
            "",
            f"If the change is intended, update the snapshots and commit them: {UPDATE_COMMAND}",
        ]
    )


def test_synthesized_stack_matches_its_snapshot(
    suffix: str, environments: dict[str, EnvironmentConfig], synthesized: dict[str, Document], snapshot_update: bool
) -> None:
    started = time.perf_counter()
    stack = environments[suffix].stack_name
    path = snapshot_path(SNAPSHOT_DIR, stack)
    current = snapshot_text(synthesized[suffix])
    committed = path.read_text(encoding="utf-8") if path.exists() else None
    GATE_TIMINGS["snapshots (serialize + compare, all stacks)"] = (
        GATE_TIMINGS.get("snapshots (serialize + compare, all stacks)", 0.0) + time.perf_counter() - started
    )
    if snapshot_update:
        if committed != current:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(current, encoding="utf-8")
        return
    if committed is None:
        pytest.fail(f"no snapshot for {stack} at {_relative(path)}: create it with {UPDATE_COMMAND}", pytrace=False)
    if committed != current:
        pytest.fail(mismatch_message(stack, path, committed, current), pytrace=False)


def test_every_snapshot_belongs_to_an_environment(environments: dict[str, EnvironmentConfig], snapshot_update: bool) -> None:
    expected = {snapshot_path(SNAPSHOT_DIR, config.stack_name) for config in environments.values()}
    orphans = sorted(set(SNAPSHOT_DIR.glob("*.json")) - expected)
    if snapshot_update:
        for orphan in orphans:
            orphan.unlink()
        return
    assert not orphans, f"snapshots without an environment in config/: {[str(_relative(p)) for p in orphans]}; {UPDATE_COMMAND}"


def test_a_changed_attribute_fails_with_the_address_a_diff_and_the_update_command(
    synthesized: dict[str, Document],
) -> None:
    document = synthesized["dev"] if "dev" in synthesized else next(iter(synthesized.values()))
    changed = json.loads(json.dumps(document))
    [(name, cluster)] = changed["resource"]["aws_rds_cluster"].items()
    cluster["deletion_protection"] = not cluster["deletion_protection"]
    committed, current = snapshot_text(document), snapshot_text(changed)

    message = mismatch_message("aurora-migration-dev", SNAPSHOT_DIR / "aurora-migration-dev.json", committed, current)

    assert committed != current
    assert f"changed: aws_rds_cluster.{name} (deletion_protection)" in message
    assert f'-        "deletion_protection": {json.dumps(not cluster["deletion_protection"])},' in message
    assert f'+        "deletion_protection": {json.dumps(cluster["deletion_protection"])},' in message
    assert "make snapshots" in message


def test_snapshot_format_is_sorted_indented_and_newline_terminated() -> None:
    assert (
        snapshot_text({"b": 1, "a": {"d": [1], "c": "é"}})
        == '{\n  "a": {\n    "c": "é",\n    "d": [\n      1\n    ]\n  },\n  "b": 1\n}\n'
    )


def test_make_review_compares_against_these_snapshots() -> None:
    """review/ names no test path: the Makefile hands the committed snapshots to the plan report."""
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert f"python -m review.plan_report --snapshots {_relative(SNAPSHOT_DIR)} " in makefile


def _test_paths(path: Path) -> list[str]:
    """String constants in `path` (docstrings aside) that name the tests folder or a path inside it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and TEST_PATH.fullmatch(node.value)
    ]


def test_no_production_code_reads_a_test_path(tmp_path: Path) -> None:
    files = [REPO_ROOT / "main.py", *(path for init in REPO_ROOT.glob("*/__init__.py") for path in init.parent.rglob("*.py"))]
    production = [path for path in files if _relative(path).parts[0] != "tests"]
    found = sorted(f"{_relative(path)}: {value!r}" for path in production for value in _test_paths(path))
    assert not found, f"production code must not read test files (let the caller pass the path): {found}"
    # The probe: the line review/stackdiff.py had, and a plain string path, are caught; a docstring is not.
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""Compares with tests/review/snapshots/."""\n'
        'SNAPSHOT_DIR = ROOT / "tests" / "gates" / "snapshots"\n'
        'FIXTURES = "tests/review/plan_fixtures"\n'
    )
    assert sorted(_test_paths(probe)) == ["tests", "tests/review/plan_fixtures"]
