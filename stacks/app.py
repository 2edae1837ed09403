"""Build the App from validated configs and synthesize it, each stack folder replaced whole."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdktf import App

from config.model import EnvironmentConfig
from contract.layout import STACK_FILE, STACKS_DIR
from plumbing.atomic_dir import replace_entries
from stacks.emulator import LocalEmulator
from stacks.migration_stack import MigrationStack
from stacks.roles import Purpose

MANIFEST_FILE = "manifest.json"
"""What cdktf writes beside stacks/: every stack's folder and files, read by `cdktf deploy/diff/destroy <stack>`."""
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


@dataclass(frozen=True, kw_only=True)
class SynthResult:
    """The stack folders of one synth: written by it, and the others found in the output (kept, or pruned)."""

    written: tuple[str, ...]
    others: tuple[str, ...]


def synth_atomically(
    configs: Sequence[EnvironmentConfig],
    *,
    outdir: Path,
    emulator: LocalEmulator | None = None,
    purpose: Purpose = Purpose.DEPLOY,
    prune: bool = False,
) -> SynthResult:
    """Synthesize into a sibling temp dir, then swap each synthesized stack folder in whole; keep the others.

    A stack folder this run does not write (a short-lived stack of an earlier `ENVIRONMENT_SUFFIX` synth, an
    environment whose file was removed) stays with its Terraform working files, and stays listed in manifest.json:
    the cdktf CLI (synth, deploy, diff, destroy) finds a stack's folder there and, after running this app, deletes
    every stack folder the manifest does not list. `prune` removes such folders instead.
    Terraform's working files in each folder synthesized again move into the new one, so a synth after
    `cdktf deploy` keeps `terraform output`, `make verify` and the next plan working.
    """
    outdir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{outdir.name}.", dir=outdir.parent) as temp:
        staging = Path(temp)
        app = build_app(configs, outdir=str(staging), emulator=emulator, purpose=purpose)
        app.synth()
        written = tuple(sorted(path.name for path in (staging / STACKS_DIR).iterdir()))
        old_manifest = _read_manifest(outdir / MANIFEST_FILE)
        new_manifest = _read_manifest(staging / MANIFEST_FILE)
        others = replace_entries(staging / STACKS_DIR, outdir / STACKS_DIR, carry=TERRAFORM_WORKING_FILES, prune=prune)
        if not prune:
            new_manifest["stacks"] = {
                **{name: entry for name in others if (entry := _manifest_entry(outdir, name, old_manifest))},
                **new_manifest.get("stacks", {}),
            }
        # Anything else cdktf writes beside stacks/ (today only manifest.json) is this run's, each a rename.
        (staging / STACKS_DIR).rmdir()
        (staging / MANIFEST_FILE).write_text(json.dumps(new_manifest, indent=2, sort_keys=True) + "\n")
        replace_entries(staging, outdir)
    return SynthResult(written=written, others=tuple(others))


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _manifest_entry(outdir: Path, name: str, manifest: Mapping[str, Any]) -> dict[str, Any] | None:
    """A kept stack's entry: the previous manifest's, else cdktf's shape for its folder; None without a readable
    cdk.tf.json (cdktf parses every listed stack's file, and removes every folder the manifest does not list)."""
    stacks = manifest.get("stacks")
    entry = stacks.get(name) if isinstance(stacks, dict) else None
    if not isinstance(entry, dict):
        folder = f"{STACKS_DIR}/{name}"
        entry = {
            "annotations": [],
            "constructPath": name,
            "dependencies": [],
            "name": name,
            "stackMetadataPath": f"{folder}/metadata.json",
            "synthesizedStackPath": f"{folder}/{STACK_FILE}",
            "workingDirectory": folder,
        }
    try:
        json.loads((outdir / str(entry.get("synthesizedStackPath"))).read_text())
    except (OSError, ValueError):
        return None
    return entry
