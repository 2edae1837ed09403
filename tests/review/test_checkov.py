"""Gate: checkov finds nothing on any environment that review/exceptions/checkov-waivers.toml does not waive.

checkov 3.3.30 (pinned in the Pipfile) scans each synthesized cdk.tf.json with
`--framework terraform_json`; inline skip comments are not honoured in JSON, so
exceptions live in the reviewed waiver file, keyed by check id, Terraform
address and what the environment's config chooses (`when`), never by its name.
A waiver that no longer matches a finding where its `when` holds is stale and
fails the gate too.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from config import EnvironmentConfig, load_environment
from config.loader import CONFIG_DIR
from plumbing.exit_codes import ExitCode
from review.checkov_scan import Finding, evaluate, normalize_address
from review.exception_files import CheckovWaiver, ExceptionFileError, load_checkov_waivers, parse_condition
from tests.review.conftest import FEATURE_VARIANTS, CheckovRuns

CLUSTER = "aws_rds_cluster.aurora_cluster_059EF40F"


@pytest.mark.checkov
def test_every_failed_check_is_waived_and_every_waiver_still_matches(
    suffix: str, checkov_runs: CheckovRuns, waivers: tuple[CheckovWaiver, ...], environments: dict[str, EnvironmentConfig]
) -> None:
    assert checkov_runs.passed_counts[suffix] > 0, f"checkov passed nothing in {suffix}: was the file scanned?"
    gate = evaluate({suffix: checkov_runs.findings[suffix]}, waivers, environments)
    hint = (
        "\nFix the resource, or add a reviewed [[waiver]] (check_id, address, when, reason) to "
        "review/exceptions/checkov-waivers.toml; delete or narrow stale waivers."
    )
    assert gate.passed, "\n".join(gate.problems()) + hint


@pytest.mark.checkov
@pytest.mark.parametrize("variant", sorted(FEATURE_VARIANTS))
def test_feature_variant_has_no_unwaived_finding(
    variant: str, checkov_runs: CheckovRuns, waivers: tuple[CheckovWaiver, ...]
) -> None:
    """Judged by its own config; a waiver the variant does not need is not stale here."""
    base, overrides = FEATURE_VARIANTS[variant]
    assert checkov_runs.passed_counts[variant] > 0, f"checkov passed nothing in {variant}: was the file scanned?"
    config = load_environment(CONFIG_DIR / f"{base}.toml", overrides=overrides)
    gate = evaluate({variant: checkov_runs.findings[variant]}, waivers, {variant: config})
    assert not gate.unwaived, "\n".join(f"not waived: {finding.describe()}" for finding in sorted(gate.unwaived))


@pytest.mark.checkov
def test_an_unencrypted_cluster_fails_the_gate_with_check_and_address(
    checkov_runs: CheckovRuns, waivers: tuple[CheckovWaiver, ...], environments: dict[str, EnvironmentConfig]
) -> None:
    gate = evaluate({"dev": checkov_runs.probe}, waivers, environments)
    unwaived = {(finding.check_id, finding.address) for finding in gate.unwaived}
    assert ("CKV_AWS_96", checkov_runs.probe_address) in unwaived  # Aurora encrypted at rest
    assert ("CKV_AWS_327", checkov_runs.probe_address) in unwaived  # encrypted with a CMK
    assert not gate.passed
    assert f"not waived: CKV_AWS_96 {checkov_runs.probe_address} [dev]" in "\n".join(gate.problems())


def test_the_waiver_file_is_valid_and_keyed_by_config_choices_not_environment_names(
    waivers: tuple[CheckovWaiver, ...], environments: dict[str, EnvironmentConfig]
) -> None:
    assert waivers, "review/exceptions/checkov-waivers.toml has no waivers: then delete it, or did parsing lose them?"
    text = (CONFIG_DIR.parent / "review" / "exceptions" / "checkov-waivers.toml").read_text()
    assert "\nenvironments = " not in text, "waivers are keyed by what the config chooses (`when`), not by environment"
    assert all(parse_condition(condition) for waiver in waivers for condition in waiver.when)
    # Each waiver applies where its config choice is made: deletion protection off is waived in dev, not in prod.
    [deletion] = [waiver for waiver in waivers if waiver.check_id == "CKV_AWS_139"]
    assert [suffix for suffix, config in environments.items() if deletion.applies_to(config)] == [
        suffix for suffix, config in environments.items() if not config.aurora.deletion_protection
    ]


def _finding(environment: str, check_id: str = "CKV_AWS_139", address: str = CLUSTER) -> Finding:
    return Finding(environment=environment, check_id=check_id, address=address, check_name="deletion protection")


DELETION_PROTECTION_OFF = CheckovWaiver(
    check_id="CKV_AWS_139", address=CLUSTER, when=("aurora.deletion_protection == false",), reason="x" * 40
)


def test_waivers_apply_where_the_config_makes_their_choice_and_stale_ones_are_reported(
    environments: dict[str, EnvironmentConfig],
) -> None:
    configs = {"dev": environments["dev"], "prod": environments["prod"]}
    gate = evaluate({"dev": [_finding("dev")], "prod": [_finding("prod")]}, [DELETION_PROTECTION_OFF], configs)
    assert [finding.environment for finding, _ in gate.waived] == ["dev"]
    assert gate.unwaived == [_finding("prod")], "prod keeps deletion protection in its config: not waived"
    assert gate.problems() == ["not waived: CKV_AWS_139 aws_rds_cluster.aurora_cluster_059EF40F [prod]: deletion protection"]

    fixed = evaluate({"dev": [], "prod": []}, [DELETION_PROTECTION_OFF], configs)
    assert fixed.stale == [(DELETION_PROTECTION_OFF, "dev")], "stale where its `when` holds, not in prod"
    assert not fixed.passed
    assert fixed.problems() == [
        "stale waiver: CKV_AWS_139 aws_rds_cluster.aurora_cluster_059EF40F no longer fails in dev, whose config makes its "
        "`when` true (aurora.deletion_protection == false): delete it or narrow its `when`"
    ]


def test_a_new_environment_making_the_same_choice_is_covered_without_a_new_waiver(
    environments: dict[str, EnvironmentConfig],
) -> None:
    qa = environments["dev"].model_copy(update={"environment_suffix": "qa"})
    gate = evaluate({"qa": [_finding("qa")]}, [DELETION_PROTECTION_OFF], {"qa": qa})
    assert gate.passed and [finding.environment for finding, _ in gate.waived] == ["qa"]


def test_a_waiver_for_another_address_or_check_does_not_cover_a_finding(environments: dict[str, EnvironmentConfig]) -> None:
    other = CheckovWaiver(check_id="CKV_AWS_139", address="aws_rds_cluster.other_1234", reason="x" * 40)
    gate = evaluate({"dev": [_finding("dev"), _finding("dev", check_id="CKV_AWS_96")]}, [other], environments)
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
                'when = ["aurora.deletion_protection = false", "aurora.deletion_protectoin == false"]',
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
    assert (
        "waiver #1.when[0]: expected '<config field> <operator> <TOML value>' (operators ==, !=, <, <=, >, >=), like "
        "'aurora.deletion_protection == false', got 'aurora.deletion_protection = false'"
    ) in problems
    assert "waiver #1.when[1]: aurora has no field 'deletion_protectoin' (fields: " in problems
    assert "waiver #1.reason: must say why the risk is accepted (at least 40 characters), got 'ok'" in problems
    assert "waiver #2.address: required field is missing" in problems
    assert "waiver #2.addres: unknown key (allowed here: address, check_id, reason, when)" in problems
    assert "waiver #2.environments: unknown key (allowed here: address, check_id, reason, when)" in problems
    assert len(raised.value.problems) == 8 and all(line.startswith(f"{path}: waiver #") for line in raised.value.problems)


def test_two_waivers_for_one_check_and_address_are_rejected(tmp_path: Path) -> None:
    entry = "\n".join(
        [
            "[[waiver]]",
            'check_id = "CKV_AWS_139"',
            f'address = "{CLUSTER}"',
            'when = ["aurora.deletion_protection == false"]',
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


def _qa_from_dev(dev: str) -> str:
    """config/dev.toml as a new environment `qa` in its own account and VPC: what the README's steps have a user do."""
    for old, new in (
        ('environment_suffix = "dev"', 'environment_suffix = "qa"'),
        ("111111111111", "444444444444"),
        ("0a1b2c3d4e5f6", "0d1b2c3d4e5f6"),
        ("10.10.", "10.40."),
        ("-dev", "-qa"),
    ):
        assert old in dev, f"config/dev.toml no longer has {old!r}: update this test's copy"
        dev = dev.replace(old, new)
    return dev


@pytest.mark.checkov
def test_a_new_environment_is_one_file_that_passes_the_scan_and_the_contract_gate_without_a_new_waiver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy of config/ plus qa.toml; qa and a short-lived stack from it (pr42) synthesized once and scanned once."""
    from config.__main__ import environment_names
    from review.aws_contract.__main__ import main as aws_contract
    from review.checkov_scan import checkov_missing, synthesized_configs
    from review.checkov_scan import main as checkov_scan
    from stacks.app import build_app
    from tests.environments import environment_suffixes

    missing = checkov_missing()
    if missing:
        pytest.skip(missing)
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (config_dir / "qa.toml").write_text(_qa_from_dev((CONFIG_DIR / "dev.toml").read_text()))
    assert "qa" in environment_suffixes(config_dir) and "qa" in environment_names(config_dir), "tests and workflow matrix"

    monkeypatch.setenv("ENVIRONMENT_SUFFIX", "pr42")
    monkeypatch.setenv("ENVIRONMENT_BASE", "qa")
    known = synthesized_configs(config_dir)
    stacks = [known["aurora-migration-qa"], known["aurora-migration-pr42"]]
    assert not stacks[0].aurora.deletion_protection and not stacks[1].dms.multi_az
    outdir = tmp_path / "cdktf.out"
    build_app(stacks, outdir=str(outdir)).synth()

    assert aws_contract([str(outdir / "stacks")]) == ExitCode.OK
    capsys.readouterr()
    assert checkov_scan(["--synth", str(outdir), "--config-dir", str(config_dir)]) == ExitCode.OK, capsys.readouterr().out
    report = capsys.readouterr().out
    assert re.search(r"^qa: \d+ passed, \d+ failed \(\d+ waived\)$", report, flags=re.MULTILINE), report
    assert re.search(r"^pr42: \d+ passed, \d+ failed \(\d+ waived\)$", report, flags=re.MULTILINE), report
    assert "not waived" not in report and "stale" not in report and "not scanned" not in report
