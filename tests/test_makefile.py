"""What the Makefile passes on: ENV and SUFFIX (a short-lived stack), the *_ARGS of each tool, the tools' exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

TIMEOUT_SECONDS = 120
SELECTION = ("ENVIRONMENT_SUFFIX", "ENVIRONMENT_BASE", "AURORA_MIGRATION_CONFIG_DIR", "SUFFIX", "ENV")


def make(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """`make` in the repository, with this interpreter's venv first on PATH and RUN empty (no pipenv needed)."""
    tool = shutil.which("make")
    if tool is None:
        pytest.skip("make is not on PATH")
    skip = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", *SELECTION}
    env = {key: value for key, value in os.environ.items() if key not in skip}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [tool, "--no-print-directory", "RUN=", *args], cwd=REPO_ROOT, env={**env, **environ},
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False,
    )  # fmt: skip


def dry_run(target: str, *args: str) -> str:
    """The recipe line of `target` that runs a tool (make -n prints install's steps before it), spaces collapsed."""
    done = make("-n", target, *args)
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.strip().splitlines()[-1].split()).replace("$( ", "$(")


STACK_PROBE = 'stack-probe: ; @$(STACK_NAME) && echo "$$ENVIRONMENT_SUFFIX/$$ENVIRONMENT_BASE"'


@pytest.mark.parametrize(
    ("args", "environ", "stack", "synth_sees"),
    [
        (["ENV=dev"], {}, "aurora-migration-dev", "/"),
        (["ENV=dev", "SUFFIX=pr42"], {}, "aurora-migration-pr42", "pr42/dev"),
        (["ENV=pr42", "ENVIRONMENT_SUFFIX=pr42", "ENVIRONMENT_BASE=dev"], {}, "aurora-migration-pr42", "pr42/dev"),
        (["ENV=pr42"], {"ENVIRONMENT_SUFFIX": "pr42", "ENVIRONMENT_BASE": "dev"}, "aurora-migration-pr42", "pr42/dev"),
    ],
    ids=["plain", "suffix", "synth-variables", "synth-variables-exported"],
)
def test_stack_name_is_the_short_lived_stack_synth_writes(
    args: list[str], environ: dict[str, str], stack: str, synth_sees: str
) -> None:
    """deploy/diff/destroy/plan/drift take STACK_NAME; cdktf's own synth must see the same stack (the exports)."""
    done = make(f"--eval={STACK_PROBE}", "stack-probe", *args, **environ)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [stack, synth_sees]


def test_an_env_without_its_suffix_fails_before_cdktf_with_the_way_to_name_it() -> None:
    done = make(f"--eval={STACK_PROBE}", "stack-probe", "ENV=pr42")
    assert done.returncode == 2
    assert "pr42: no such environment" in done.stderr and "make ENV=<base> SUFFIX=pr42" in done.stderr


def test_stack_name_reads_aurora_migration_config_dir(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config" / "certs", folder / "certs")
    dev = (REPO_ROOT / "config" / "dev.toml").read_text()
    (folder / "qa.toml").write_text(dev.replace('environment_suffix = "dev"', 'environment_suffix = "qa"'))
    done = make(f"--eval={STACK_PROBE}", "stack-probe", "ENV=qa", "SUFFIX=pr5", AURORA_MIGRATION_CONFIG_DIR=str(folder))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["aurora-migration-pr5", "pr5/qa"]


@pytest.mark.parametrize(
    ("target", "args", "command"),
    [
        ("preflight", ["PREFLIGHT_ARGS=--strict --json"], "python -m migration_ops.preflight --env dev --strict --json"),
        ("verify", ["VERIFY_ARGS=--strict", "SUFFIX=pr42"], "python -m migration_ops.verify --env dev --suffix pr42 --strict"),
        (
            "compare",
            ["COMPARE_ARGS=--sample 10", "ENV=staging"],
            "python -m migration_ops.compare --env staging --target-dsn-env TARGET_DSN --sample 10",
        ),
        ("cutover", ["CUTOVER_ARGS=stop --check"], "python -m migration_ops.cutover stop --check --env dev"),
        ("cutover", ["CUTOVER_ARGS=status", "SUFFIX=pr42"], "python -m migration_ops.cutover status --env dev --suffix pr42"),
        ("cutover", ["CUTOVER_ARGS=report record.json"], "python -m migration_ops.cutover report record.json"),
        ("engine-versions", ["SUFFIX=pr42"], "python -m migration_ops.verify.dms_engines --env dev --suffix pr42"),
    ],
)
def test_each_tool_target_passes_env_suffix_and_its_args(target: str, args: list[str], command: str) -> None:
    line = dry_run(target, *args)
    assert line.startswith(f"{command} ||"), line


def test_deploy_diff_destroy_name_the_short_lived_stack() -> None:
    for target in ("deploy", "diff", "destroy"):
        line = dry_run(target, "ENV=dev", "SUFFIX=pr42")
        assert line.startswith("stack=$(python -m config stack-name dev --suffix pr42) && "), line
        assert f'cdktf {target} "$stack"' in line


def test_cutover_without_its_args_says_what_to_give() -> None:
    done = make("-n", "cutover")
    assert done.returncode == 2
    assert 'CUTOVER_ARGS names the subcommand and its options, e.g. CUTOVER_ARGS="stop --check"' in done.stderr


@pytest.mark.parametrize("status", [1, 2])
def test_a_failing_tool_names_its_own_exit_code_before_make_exits_2(status: int) -> None:
    """make turns any failing recipe into 2; the line before it keeps the tool's 1 (checks failed) or 2 (could not run)."""
    done = make(f"--eval=status-probe: ; @sh -c 'exit {status}' $(TOOL_STATUS)", "status-probe")
    assert done.returncode == 2
    assert f"make status-probe: the command exited {status} (1: a check failed or was refused, 2: it could not run)" in (
        done.stderr
    )
