"""plumbing/: the directory swap, the tool runner, the exit codes and the text helpers every layer shares."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from plumbing.atomic_dir import staged_directory
from plumbing.exit_codes import ExitCode
from plumbing.text import first_line, human_duration, human_size, listed
from plumbing.tool import ToolError, run_tool, tail


def test_the_exit_codes_are_the_documented_three() -> None:
    assert [int(code) for code in ExitCode] == [0, 1, 2]


def test_a_staged_directory_replaces_the_old_one_whole(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with staged_directory(target) as staging:
        assert staging.parent == target.parent and staging != target
        (staging / "new.txt").write_text("new")
        assert (target / "old.txt").exists(), "the old content stays until the swap"
    assert sorted(path.name for path in target.iterdir()) == ["new.txt"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"], "no staging or previous folder left behind"


def test_a_failed_build_leaves_the_old_directory_untouched(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), staged_directory(target) as staging:
        (staging / "half.txt").write_text("half")
        raise RuntimeError("synth failed")
    assert sorted(path.name for path in target.iterdir()) == ["old.txt"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]


def test_run_tool_returns_what_the_tool_printed_and_its_code() -> None:
    run = run_tool(
        [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"], timeout_seconds=30
    )
    assert (run.returncode, run.stdout.strip(), run.stderr.strip(), run.ok) == (3, "out", "err", False)
    assert run.failure().endswith("exited 3: err")


def test_run_tool_says_in_one_line_when_a_tool_is_missing_or_too_slow() -> None:
    with pytest.raises(ToolError, match="not found on PATH"):
        run_tool(["no-such-tool-anywhere"], timeout_seconds=5)
    with pytest.raises(ToolError, match=r"timed out after 0\.5 s"):
        run_tool([sys.executable, "-c", "import time; time.sleep(5)"], timeout_seconds=0.5)


def test_tail_keeps_the_end_and_marks_the_cut() -> None:
    assert tail("short") == "short"
    assert tail("x" * 10 + "END", limit=3) == "…END"


def test_text_helpers() -> None:
    assert listed(["a", "b", "c"], limit=2) == "a, b and 1 more"
    assert listed(["a"]) == "a"
    assert first_line(ValueError("first\nsecond")) == "first"
    assert first_line(ValueError()) == "ValueError"
    assert (human_size(512), human_size(1536), human_size(3 * 1024**4)) == ("512 B", "1.5 KB", "3.0 TB")
    assert (human_duration(45), human_duration(600), human_duration(9000)) == ("45 s", "10 min", "2.5 h")
