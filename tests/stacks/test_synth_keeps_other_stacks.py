"""A synth replaces the stack folders it writes and keeps the others (a PR stack, a removed environment's)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

TIMEOUT_SECONDS = 300
KEPT_LINE = "kept {folder}: not synthesized by this run (make clean or `make prune-stacks` removes it)"


def synth(config_dir: Path, outdir: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("ENVIRONMENT_SUFFIX", "ENVIRONMENT_BASE")}
    env.update({"AURORA_MIGRATION_CONFIG_DIR": str(config_dir), "CDKTF_OUTDIR": str(outdir), **extra_env})
    done = subprocess.run(
        [sys.executable, "main.py", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def manifest_stacks(outdir: Path) -> dict[str, dict[str, object]]:
    stacks = json.loads((outdir / "manifest.json").read_text())["stacks"]
    assert isinstance(stacks, dict)
    return stacks


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("config")
    shutil.copytree(REPO_ROOT / "config" / "certs", target / "certs")
    shutil.copy(REPO_ROOT / "config" / "dev.toml", target / "dev.toml")
    return target


def test_a_plain_synth_after_a_pr_synth_keeps_the_pr_stack(config_dir: Path, tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    stacks = outdir / "stacks"
    synth(config_dir, outdir, ENVIRONMENT_SUFFIX="pr42", ENVIRONMENT_BASE="dev")
    pr42, dev = stacks / "aurora-migration-pr42", stacks / "aurora-migration-dev"
    pr42_entry = manifest_stacks(outdir)["aurora-migration-pr42"]
    # What `cdktf deploy` leaves: Terraform's working files, here with a marker.
    for folder in (pr42, dev):
        (folder / ".terraform").mkdir()
        (folder / ".terraform" / "marker").write_text(folder.name)
    pr42_json = (pr42 / "cdk.tf.json").read_text()
    (dev / "cdk.tf.json").write_text('{"previous": true}')

    done = synth(config_dir, outdir)

    assert (pr42 / ".terraform" / "marker").read_text() == "aurora-migration-pr42"
    assert (pr42 / "cdk.tf.json").read_text() == pr42_json, "a kept stack is left as it was"
    assert KEPT_LINE.format(folder=pr42) in done.stderr.splitlines(), done.stderr
    assert (dev / ".terraform" / "marker").read_text() == "aurora-migration-dev", "Terraform's files move along"
    assert "previous" not in (dev / "cdk.tf.json").read_text(), "the synthesized stack is replaced"
    assert manifest_stacks(outdir)["aurora-migration-pr42"] == pr42_entry, "cdktf deploy/destroy still find it"
    assert sorted(manifest_stacks(outdir)) == ["aurora-migration-dev", "aurora-migration-pr42"]
    assert sorted(os.listdir(stacks)) == ["aurora-migration-dev", "aurora-migration-pr42"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no staging folder left behind"

    again = synth(config_dir, outdir, ENVIRONMENT_SUFFIX="pr42", ENVIRONMENT_BASE="dev")
    assert "kept" not in again.stderr, "a stack synthesized again is not 'kept'"
    assert (pr42 / ".terraform" / "marker").exists()

    pruned = synth(config_dir, outdir, "--prune")
    assert f"removed {pr42}: not synthesized by this run (--prune)" in pruned.stderr.splitlines()
    assert sorted(os.listdir(stacks)) == ["aurora-migration-dev"]
    assert sorted(manifest_stacks(outdir)) == ["aurora-migration-dev"]
    assert (dev / ".terraform" / "marker").exists()


def test_a_removed_environments_folder_is_kept_and_listed(config_dir: Path, tmp_path: Path) -> None:
    """A folder from before (an environment whose file is gone), without a manifest entry: listed in cdktf's shape."""
    outdir = tmp_path / "cdktf.out"
    gone = outdir / "stacks" / "aurora-migration-qa"
    gone.mkdir(parents=True)
    (gone / "cdk.tf.json").write_text("{}")

    done = synth(config_dir, outdir)

    assert KEPT_LINE.format(folder=gone) in done.stderr.splitlines(), done.stderr
    assert manifest_stacks(outdir)["aurora-migration-qa"]["synthesizedStackPath"] == "stacks/aurora-migration-qa/cdk.tf.json"
