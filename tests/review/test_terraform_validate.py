"""Gate: every synthesized stack is valid for Terraform 1.11 and the AWS provider 5.100.0, with no warnings.

Synth only checks Python types; `terraform validate` checks the JSON against
the provider schema (unknown or conflicting arguments, bad block shapes,
references to things that do not exist). Skipped, with the reason, where
terraform or the provider mirror is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from review.terraform_validate import MIRROR_ENV_VAR, Validation, describe_diagnostic, diagnostic_address, locate
from tests.review.conftest import FEATURE_VARIANTS, TerraformRuns


@pytest.mark.terraform
def test_stack_is_valid_without_warnings(suffix: str, terraform_runs: TerraformRuns) -> None:
    result = terraform_runs.stacks[suffix]
    assert result.valid and not result.diagnostics, f"terraform validate of {suffix}:\n{result.describe()}"


@pytest.mark.terraform
@pytest.mark.parametrize("variant", sorted(FEATURE_VARIANTS))
def test_feature_variant_is_valid_without_warnings(variant: str, terraform_runs: TerraformRuns) -> None:
    result = terraform_runs.stacks[variant]
    assert result.valid and not result.diagnostics, f"terraform validate of {variant}:\n{result.describe()}"


@pytest.mark.terraform
def test_an_unknown_argument_fails_with_terraforms_message_and_the_address(terraform_runs: TerraformRuns) -> None:
    probe = terraform_runs.probe
    assert not probe.valid, "validate accepted `no_such_argument` on the cluster: the gate cannot fail"
    [error] = probe.errors()
    assert 'No argument or block type is named "no_such_argument"' in error["detail"]
    assert diagnostic_address(error) == f"resource.{terraform_runs.probe_address}"
    assert terraform_runs.probe_address in probe.describe()


def test_failure_message_shows_summary_detail_and_address() -> None:
    result = Validation(
        label="dev",
        valid=False,
        diagnostics=[
            {
                "severity": "error",
                "summary": "Missing required argument",
                "detail": 'The argument "engine" is required, but no definition was found.',
                "address": "aws_rds_cluster.aurora_cluster_059EF40F",
                "range": {"filename": "cdk.tf.json", "start": {"line": 12, "column": 5}},
            }
        ],
    )
    assert result.describe() == (
        'dev: error: Missing required argument - The argument "engine" is required, but no definition was found. '
        "(at aws_rds_cluster.aurora_cluster_059EF40F) [cdk.tf.json:12:5]"
    )
    assert describe_diagnostic({"severity": "warning", "summary": "Deprecated"}) == "warning: Deprecated"


def test_missing_toolchain_gives_a_skip_reason_naming_what_is_missing(tmp_path: Path) -> None:
    reason = locate({"PATH": str(tmp_path), MIRROR_ENV_VAR: str(tmp_path / "no-mirror")})
    assert isinstance(reason, str)
    assert "no `terraform` on PATH" in reason
    assert f"{MIRROR_ENV_VAR}={tmp_path / 'no-mirror'}" in reason
