"""Terraform expressions built in Python: literals inside cdktf functions, version numbers, ephemeral block names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cdktf import App, Fn, LocalBackend, TerraformLocal, TerraformOutput, TerraformStack

from modules.expressions import ephemeral_block, hcl_literal, version_number
from tests.helpers import synth_scope

AWKWARD = 'a"b\\c ${not_a_reference} %{ if true }x%{ endif }\nline two'


@pytest.mark.terraform
def test_literals_survive_a_cdktf_function_as_terraform_evaluates_them(tmp_path: Path) -> None:
    """cdktf escapes `${` in function arguments but not quotes, backslashes, newlines or `%{`: hcl_literal must."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH")
    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "literals")
    LocalBackend(stack, path=str(tmp_path / "literals.tfstate"))  # cdktf's default writes into the working directory
    TerraformOutput(stack, "document", value=Fn.jsonencode({"value": hcl_literal(AWKWARD), "port": 5432}))
    app.synth()
    workdir = tmp_path / "stacks" / "literals"
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    for command in (["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]):
        ran = subprocess.run(
            [terraform, *command], cwd=workdir, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
    output = subprocess.run(
        [terraform, "output", "-raw", "document"], cwd=workdir, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(output.stdout) == {"value": AWKWARD, "port": 5432}


def test_a_version_number_is_a_48_bit_prefix_of_a_hash_of_every_part() -> None:
    def build(stack: TerraformStack) -> None:
        version_id = TerraformLocal(stack, "version_id", "v1").as_string
        TerraformOutput(stack, "n", value=version_number(version_id, "host"))

    document = synth_scope(build)
    assert document["output"]["n"]["value"] == '${parseint(substr(sha256(join("|", [local.version_id, "host"])), 0, 12), 16)}'


def test_ephemeral_blocks_are_named_after_their_construct_path() -> None:
    names: list[str] = []

    def build(stack: TerraformStack) -> None:
        from constructs import Construct

        for parent in ("master-password", "second-cluster"):
            names.append(
                ephemeral_block(
                    Construct(stack, parent), "aws_secretsmanager_random_password", "generator", {"password_length": 40}
                )
            )

    document = synth_scope(build)
    assert names == [
        "aws_secretsmanager_random_password.master_password_generator",
        "aws_secretsmanager_random_password.second_cluster_generator",
    ]
    assert set(document["ephemeral"]["aws_secretsmanager_random_password"]) == {
        "master_password_generator",
        "second_cluster_generator",
    }
