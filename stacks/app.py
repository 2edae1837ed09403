"""Build the App from validated configs and synthesize it atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cdktf import App

from config.model import EnvironmentConfig
from stacks.emulator import LocalEmulator
from stacks.migration_stack import MigrationStack

DEFAULT_OUTDIR = "cdktf.out"


def build_app(
    configs: Sequence[EnvironmentConfig], *, outdir: str, emulator: LocalEmulator | None = None
) -> tuple[App, dict[str, MigrationStack]]:
    app = App(outdir=outdir)
    stacks = {config.stack_name: MigrationStack(app, config.stack_name, config=config, emulator=emulator) for config in configs}
    return app, stacks


def synth_atomically(configs: Sequence[EnvironmentConfig], *, outdir: Path, emulator: LocalEmulator | None = None) -> None:
    """Synthesize into a sibling temp dir and swap it in, so `outdir` is never half-written."""
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        app, _ = build_app(configs, outdir=str(staging), emulator=emulator)
        app.synth()
        previous = outdir.with_name(f".{outdir.name}.previous")
        shutil.rmtree(previous, ignore_errors=True)
        if outdir.exists():
            os.replace(outdir, previous)
        os.replace(staging, outdir)
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
