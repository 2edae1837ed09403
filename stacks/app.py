"""Build the App from validated configs and synthesize it atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cdktf import App

from config.model import EnvironmentConfig
from contract.layout import STACKS_DIR
from plumbing.atomic_dir import staged_directory
from stacks.emulator import LocalEmulator
from stacks.migration_stack import MigrationStack
from stacks.roles import Purpose

# What `terraform init`/`apply` (and so `cdktf deploy`) keep beside a stack's cdk.tf.json: the provider
# installation and backend settings, the provider lock file, and local state or plans if someone made them.
TERRAFORM_WORKING_FILES = (".terraform", ".terraform.lock.hcl", "terraform.tfstate", "terraform.tfstate.backup", "*.tfplan")


def build_app(
    configs: Sequence[EnvironmentConfig],
    *,
    outdir: str,
    emulator: LocalEmulator | None = None,
    purpose: Purpose = Purpose.DEPLOY,
) -> App:
    app = App(outdir=outdir)
    for config in configs:
        MigrationStack(app, config.stack_name, config=config, emulator=emulator, purpose=purpose)
    return app


def synth_atomically(
    configs: Sequence[EnvironmentConfig],
    *,
    outdir: Path,
    emulator: LocalEmulator | None = None,
    purpose: Purpose = Purpose.DEPLOY,
) -> None:
    """Synthesize into a sibling temp dir and swap it in, so `outdir` is never half-written.

    Terraform's working files in each stack folder of the previous output move into the new one before the
    swap, so a synth after `cdktf deploy` keeps `terraform output`, `make verify` and the next plan working.
    """
    with staged_directory(outdir) as staging:
        app = build_app(configs, outdir=str(staging), emulator=emulator, purpose=purpose)
        app.synth()
        _carry_terraform_working_files(outdir / STACKS_DIR, staging / STACKS_DIR)


def _carry_terraform_working_files(old_stacks: Path, new_stacks: Path) -> None:
    """Move Terraform's own files of every stack that is synthesized again (same rename-in-place filesystem)."""
    if not old_stacks.is_dir():
        return
    for new_stack in sorted(path for path in new_stacks.iterdir() if path.is_dir()):
        old_stack = old_stacks / new_stack.name
        if not old_stack.is_dir():
            continue
        for pattern in TERRAFORM_WORKING_FILES:
            for kept in sorted(old_stack.glob(pattern)):
                os.replace(kept, new_stack / kept.name)
