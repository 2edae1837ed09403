"""plumbing.atomic_dir.replace_entries: each entry replaced whole, the others kept (or pruned), working files carried."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plumbing.atomic_dir import replace_entries


def _tree(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): path.read_text() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture()
def target(tmp_path: Path) -> Path:
    target = tmp_path / "stacks"
    for name in ("dev", "pr42"):
        (target / name / ".terraform").mkdir(parents=True)
        (target / name / "cdk.tf.json").write_text(f"old {name}")
        (target / name / ".terraform" / "state").write_text(f"backend {name}")
        (target / name / "stray.txt").write_text("not carried")
    return target


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    source = tmp_path / "staging"
    (source / "dev").mkdir(parents=True)
    (source / "dev" / "cdk.tf.json").write_text("new dev")
    (source / "prod").mkdir()
    (source / "prod" / "cdk.tf.json").write_text("new prod")
    return source


def test_written_entries_are_replaced_whole_and_the_others_kept(target: Path, source: Path) -> None:
    kept = replace_entries(source, target, carry=(".terraform",))

    assert kept == ["pr42"]
    assert _tree(target) == {
        "dev/.terraform/state": "backend dev",
        "dev/cdk.tf.json": "new dev",
        "pr42/.terraform/state": "backend pr42",
        "pr42/cdk.tf.json": "old pr42",
        "pr42/stray.txt": "not carried",
        "prod/cdk.tf.json": "new prod",
    }
    assert sorted(os.listdir(target)) == ["dev", "pr42", "prod"], "no .previous left behind"
    assert list(source.iterdir()) == []


def test_prune_removes_the_others_and_names_them(target: Path, source: Path) -> None:
    assert replace_entries(source, target, prune=True) == ["pr42"]
    assert sorted(os.listdir(target)) == ["dev", "prod"]


def test_a_failed_rename_puts_the_old_entry_back(target: Path, source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.replace

    def failing(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        if Path(src) == source / "dev":
            raise OSError("disk full")
        real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError, match="disk full"):
        replace_entries(source, target, carry=(".terraform",))
    assert (target / "dev" / "cdk.tf.json").read_text() == "old dev"
    assert (target / "dev" / ".terraform" / "state").read_text() == "backend dev"
