"""Where synthesis leaves each stack: `cdktf.out/stacks/<stack name>/`.

The synthesizer writes its `cdk.tf.json` there and `cdktf deploy` keeps Terraform's working files
beside it; the operations tools run `terraform output -json` there to find the deployed stack's outputs.
"""

from __future__ import annotations

from pathlib import Path

SYNTH_DIR = "cdktf.out"
"""Default output directory of `cdktf synth` / `make synth`, relative to the repository root."""
STACKS_DIR = "stacks"
"""Subdirectory of the output directory with one folder per stack, named after the stack."""
STACK_FILE = "cdk.tf.json"
"""The Terraform JSON of one stack, in its folder."""


def stack_directory(stack_name: str, synth_dir: Path | str = SYNTH_DIR) -> Path:
    """`cdktf.out/stacks/<stack_name>` (relative unless `synth_dir` is absolute)."""
    return Path(synth_dir) / STACKS_DIR / stack_name
