"""Gate: checkov finds nothing on any environment that review/exceptions/checkov-waivers.toml does not waive.

checkov 3.3.30 (pinned in the Pipfile) scans each synthesized cdk.tf.json with
`--framework terraform_json`; inline skip comments are not honoured in JSON, so
exceptions live in the reviewed waiver file, keyed by check id and Terraform
address, per environment. A waiver that no longer matches a finding is stale
and fails the gate too.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from config import EnvironmentConfig
from review.checkov_scan import Finding, evaluate, normalize_address, unknown_environments
from review.exception_files import CheckovWaiver, ExceptionFileError, load_checkov_waivers
from tests.review.conftest import FEATURE_VARIANTS, CheckovRuns

CLUSTER = "aws_rds_cluster.aurora_cluster_059EF40F"


@pytest.mark.checkov
def test_every_failed_check_is_waived_and_every_waiver_still_matches(
    suffix: str, checkov_runs: CheckovRuns, waivers: tuple[CheckovWaiver, ...]
) -> None:
    assert checkov_runs.passed_counts[suffix] > 0, f"checkov passed nothing in {suffix}: was the file scanned?"
    gate = evaluate({suffix: checkov_runs.findings[suffix]}, waivers)
    hint = (
        "\nFix the resource, or add a reviewed [[waiver]] (check_id, address, environments, reason) to "
        "review/exceptions/checkov-waivers.toml; delete or narrow stale waivers."
    )
    assert gate.passed, "\n".join(gate.problems()) + hint


@pytest.mark.checkov
@pytest.mark.parametrize("variant", sorted(FEATURE_VARIANTS))
def test_feature_variant_has_no_unwaived_finding(
    variant: str, checkov_runs: CheckovRuns, waivers: tuple[CheckovWaiver, ...]
) -> None:
    """Judged with its base environment's waivers; a base waiver the variant does not need is not stale here."""
    base = FEATURE_VARIANTS[variant][0]
    assert checkov_runs.passed_counts[variant] > 0, f"checkov passed nothing in {variant}: was the file scanned?"
    findings = [replace(finding, environment=base) for finding in checkov_runs.findings[variant]]
    gate = evaluate({base: findings}, waivers)
    assert not gate.unwaived, "\n".join(f"not waived: {finding.describe()}" for finding in sorted(gate.unwaived))


@pytest.mark.checkov
def test_an_unencrypted_cluster_fails_the_gate_with_check_and_address(
    checkov_runs: CheckovRuns, waivers: tuple[CheckovWaiver, ...]
) -> None:
    gate = evaluate({"dev": checkov_runs.probe}, waivers)
    unwaived = {(finding.check_id, finding.address) for finding in gate.unwaived}
    assert ("CKV_AWS_96", checkov_runs.probe_address) in unwaived  # Aurora encrypted at rest
    assert ("CKV_AWS_327", checkov_runs.probe_address) in unwaived  # encrypted with a CMK
    assert not gate.passed
    assert f"not waived: CKV_AWS_96 {checkov_runs.probe_address} [dev]" in "\n".join(gate.problems())


def test_waiver_file_is_valid_and_names_only_known_environments(
    waivers: tuple[CheckovWaiver, ...], environments: dict[str, EnvironmentConfig]
) -> None:
    assert waivers, "review/exceptions/checkov-waivers.toml has no waivers: then delete it, or did parsing lose them?"
    assert unknown_environments(waivers, list(environments)) == []


def _finding(environment: str, check_id: str = "CKV_AWS_139", address: str = CLUSTER) -> Finding:
    return Finding(environment=environment, check_id=check_id, address=address, check_name="deletion protection")


def test_waivers_apply_only_to_their_environments_and_stale_ones_are_reported() -> None:
    dev_only = CheckovWaiver(check_id="CKV_AWS_139", address=CLUSTER, environments=("dev",), reason="x" * 40)
    gate = evaluate({"dev": [_finding("dev")], "prod": [_finding("prod")]}, [dev_only])
    assert [finding.environment for finding, _ in gate.waived] == ["dev"]
    assert gate.unwaived == [_finding("prod")]
    assert gate.problems() == ["not waived: CKV_AWS_139 aws_rds_cluster.aurora_cluster_059EF40F [prod]: deletion protection"]

    fixed = evaluate({"dev": []}, [dev_only])
    assert fixed.stale == [(dev_only, "dev")]
    assert not fixed.passed
    assert "stale waiver: CKV_AWS_139 aws_rds_cluster.aurora_cluster_059EF40F no longer fails in dev" in fixed.problems()[0]


def test_a_waiver_for_another_address_or_check_does_not_cover_a_finding() -> None:
    other = CheckovWaiver(check_id="CKV_AWS_139", address="aws_rds_cluster.other_1234", environments=("dev",), reason="x" * 40)
    gate = evaluate({"dev": [_finding("dev"), _finding("dev", check_id="CKV_AWS_96")]}, [other])
    assert len(gate.unwaived) == 2
    assert gate.stale == [(other, "dev")]


def test_bad_waiver_entries_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "waivers.toml"
    path.write_text(
        "\n".join(
            [
                "[[waiver]]",
                'check_id = "deletion-protection"',
                'address = "aurora cluster"',
                "environments = []",
                'reason = "ok"',
                "[[waiver]]",
                'check_id = "CKV_AWS_139"',
                'addres = "aws_rds_cluster.aurora_cluster_059EF40F"',
                'environments = ["dev"]',
                'reason = "Dev is short-lived and torn down with cdktf destroy, by design."',
            ]
        )
    )
    with pytest.raises(ExceptionFileError) as raised:
        load_checkov_waivers(path)
    problems = "\n".join(raised.value.problems)
    assert "waiver #1.check_id: expected a checkov id like 'CKV_AWS_139' or 'CKV2_AWS_8', got 'deletion-protection'" in problems
    assert "waiver #1.address: expected a Terraform address like 'aws_rds_cluster.aurora_cluster_059EF40F'" in problems
    assert "waiver #1.environments: must not be empty, got []" in problems
    assert "waiver #1.reason: must say why the risk is accepted (at least 40 characters), got 'ok'" in problems
    assert "waiver #2.address: required field is missing" in problems
    assert "waiver #2.addres: unknown key (allowed here: address, check_id, environments, reason)" in problems
    assert len(raised.value.problems) == 6 and all(line.startswith(f"{path}: waiver #") for line in raised.value.problems)


def test_two_waivers_for_one_check_and_address_are_rejected(tmp_path: Path) -> None:
    entry = "\n".join(
        [
            "[[waiver]]",
            'check_id = "CKV_AWS_139"',
            f'address = "{CLUSTER}"',
            'environments = ["dev"]',
            'reason = "Dev is short-lived and torn down with cdktf destroy, by design."',
        ]
    )
    path = tmp_path / "waivers.toml"
    path.write_text(f"{entry}\n{entry}\n")
    with pytest.raises(ExceptionFileError, match="waiver #2: second waiver for CKV_AWS_139"):
        load_checkov_waivers(path)


def test_resource_check_addresses_get_their_type_back() -> None:
    document: dict[str, Any] = {"resource": {"aws_cloudwatch_log_group": {"aurora_postgresql-log_9EAD7001": {}}}}
    assert normalize_address("resource.aurora_postgresql-log_9EAD7001", document) == (
        "aws_cloudwatch_log_group.aurora_postgresql-log_9EAD7001"
    )
    assert normalize_address(CLUSTER, document) == CLUSTER  # graph checks already report the type
    assert normalize_address("resource.unknown_1", document) == "resource.unknown_1"
