"""Gate: every synthesized stack satisfies AWS's API models and documented rules (review.aws_contract).

The planted cases copy a real stack, put one invalid value in it and show the
gate names the attribute and the rule: the gate can fail, across DMS, RDS,
CloudWatch, CloudWatch Logs, IAM, KMS, Secrets Manager, SNS, EC2 and the JSON
documents inside strings.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plumbing.exit_codes import ExitCode
from review.aws_contract import __main__ as cli
from review.aws_contract import api_model, documented, documents, iam_lint
from review.aws_contract.core import Stack
from review.exception_files import load_iam_waivers
from tests.conftest import REPO_ROOT
from tests.helpers import Document

Edit = Callable[[Document], None]


def _first(document: Document, resource_type: str, where: Callable[[dict[str, Any]], bool] = lambda _: True) -> dict[str, Any]:
    found = [body for body in document["resource"][resource_type].values() if where(body)]
    assert found, resource_type
    body: dict[str, Any] = found[0]
    return body


def _source_endpoint(document: Document) -> dict[str, Any]:
    return _first(document, "aws_dms_endpoint", lambda body: body["endpoint_type"] == "source")


def _edit_json(document: Document, resource_type: str, attribute: str, change: Callable[[Any], None]) -> None:
    body = _first(document, resource_type)
    parsed = json.loads(body[attribute])
    change(parsed)
    body[attribute] = json.dumps(parsed)


def _generator(document: Document) -> dict[str, Any]:
    generator: dict[str, Any] = next(iter(document["ephemeral"]["aws_secretsmanager_random_password"].values()))
    return generator


PLANTED: dict[str, tuple[Edit, str, str]] = {
    "DMS plugin name": (
        lambda d: _source_endpoint(d)["postgres_settings"].update(plugin_name="test_decoding"),
        "postgres_settings.plugin_name",
        "enum PluginNameValue: no-preference | test-decoding | pglogical",
    ),
    "DMS ssl mode": (lambda d: _source_endpoint(d).update(ssl_mode="verify_full"), "ssl_mode", "enum DmsSslModeValue"),
    "DMS migration type": (
        lambda d: _first(d, "aws_dms_replication_task").update(migration_type="full-load-cdc"),
        "migration_type",
        "enum MigrationTypeValue",
    ),
    "DMS instance identifier": (
        lambda d: _first(d, "aws_dms_replication_instance").update(replication_instance_id="replication--dev"),
        "replication_instance_id",
        "no trailing hyphen or two consecutive hyphens",
    ),
    "RDS cluster identifier": (
        lambda d: _first(d, "aws_rds_cluster").update(cluster_identifier="1-cluster"),
        "cluster_identifier",
        "first a letter",
    ),
    "RDS monitoring interval": (
        lambda d: _first(d, "aws_rds_cluster_instance").update(monitoring_interval=45),
        "monitoring_interval",
        "one of 0, 1, 5, 10, 15, 30, 60",
    ),
    "RDS Performance Insights retention": (
        lambda d: _first(d, "aws_rds_cluster_instance").update(performance_insights_retention_period=30),
        "performance_insights_retention_period",
        "7, a multiple of 31",
    ),
    "CloudWatch comparison operator": (
        lambda d: _first(d, "aws_cloudwatch_metric_alarm").update(comparison_operator="GreaterThan"),
        "comparison_operator",
        "enum ComparisonOperator",
    ),
    "CloudWatch statistic": (
        lambda d: _first(d, "aws_cloudwatch_metric_alarm").update(statistic="Max"),
        "statistic",
        "enum Statistic",
    ),
    "CloudWatch alarm name length": (
        lambda d: _first(d, "aws_cloudwatch_metric_alarm").update(alarm_name="a" * 256),
        "alarm_name",
        "AlarmName: at most 255 characters",
    ),
    "CloudWatch Logs retention": (
        lambda d: _first(d, "aws_cloudwatch_log_group").update(retention_in_days=10),
        "retention_in_days",
        "one of 1, 3, 5, 7, 14, 30",
    ),
    "IAM role name": (lambda d: _first(d, "aws_iam_role").update(name="dms secrets"), "name", "roleNameType: pattern"),
    "IAM policy action": (
        lambda d: _edit_json(d, "aws_iam_role_policy", "policy", lambda p: p["Statement"][0].update(Action="GetSecretValue")),
        "policy",
        "IAM policy: action 'GetSecretValue' as service:Action",
    ),
    "IAM unknown action (parliament)": (
        lambda d: _edit_json(
            d, "aws_iam_role_policy", "policy", lambda p: p["Statement"][0].update(Action="secretsmanager:GetSecretValu")
        ),
        "policy",
        "parliament UNKNOWN_ACTION",
    ),
    "IAM wildcard resource (parliament)": (
        lambda d: _edit_json(d, "aws_iam_role_policy", "policy", lambda p: p["Statement"][0].update(Resource="*")),
        "policy",
        "parliament RESOURCE_STAR",
    ),
    "KMS alias": (lambda d: _first(d, "aws_kms_alias").update(name="alias/aws/database"), "name", "not with 'alias/aws/'"),
    "KMS deletion window": (
        lambda d: _first(d, "aws_kms_key").update(deletion_window_in_days=3),
        "deletion_window_in_days",
        "7-30",
    ),
    "Secrets Manager recovery window": (
        lambda d: _first(d, "aws_secretsmanager_secret").update(recovery_window_in_days=3),
        "recovery_window_in_days",
        "0 (delete at once) or 7-30",
    ),
    "Secrets Manager password exclusions": (
        lambda d: _generator(d).update(exclude_characters='/"@ '),
        "exclude_characters",
        "excludes what RDS",
    ),
    "SNS topic name": (lambda d: _first(d, "aws_sns_topic").update(name="dba.alarms"), "name", "1-256 letters, digits"),
    "EC2 VPC endpoint type": (
        lambda d: _first(d, "aws_vpc_endpoint").update(vpc_endpoint_type="interface"),
        "vpc_endpoint_type",
        "enum VpcEndpointType",
    ),
    "task settings error policy": (
        lambda d: _edit_json(
            d,
            "aws_dms_replication_task",
            "replication_task_settings",
            lambda s: s["ErrorBehavior"].update(DataErrorPolicy="STOP"),
        ),
        "replication_task_settings",
        "ErrorBehavior.DataErrorPolicy one of",
    ),
    "task settings log component": (
        lambda d: _edit_json(
            d,
            "aws_dms_replication_task",
            "replication_task_settings",
            lambda s: s["Logging"]["LogComponents"][0].update(Id="SOURCE_CAPTUR"),
        ),
        "replication_task_settings",
        "Logging.LogComponents Id",
    ),
    "task settings LOB modes": (
        lambda d: _edit_json(
            d, "aws_dms_replication_task", "replication_task_settings", lambda s: s["TargetMetadata"].update(FullLobMode=True)
        ),
        "replication_task_settings",
        "FullLobMode and LimitedSizeLobMode exclude each other",
    ),
    "table mapping action": (
        lambda d: _edit_json(
            d, "aws_dms_replication_task", "table_mappings", lambda m: m["rules"][0].update(**{"rule-action": "includ"})
        ),
        "table_mappings",
        "selection rule-action one of",
    ),
    "dashboard alarm reference": (
        lambda d: _edit_json(
            d,
            "aws_cloudwatch_dashboard",
            "dashboard_body",
            lambda b: next(w for w in b["widgets"] if w["type"] == "alarm")["properties"]["alarms"].append(
                "${aws_cloudwatch_metric_alarm.gone.arn}"
            ),
        ),
        "dashboard_body",
        "not an alarm of this stack",
    ),
}


def _violations(document: Document) -> list[str]:
    return [violation.line() for violation in cli.violations(Stack(name="planted", document=document))]


@pytest.fixture(scope="module")
def dev_document(synthesized: dict[str, Document]) -> Document:
    return synthesized["dev"]


def test_every_mapped_member_exists_in_the_installed_botocore_model() -> None:
    missing = []
    for rule in api_model.MODEL_RULES:
        try:
            api_model.member_shape(rule)
        except KeyError:
            missing.append(rule.api)
    assert missing == [], "botocore renamed or dropped these members: update MODEL_RULES"


def test_every_resource_type_the_stacks_emit_has_contract_rules(synthesized: dict[str, Document]) -> None:
    covered = {rule.resource_type for rule in api_model.MODEL_RULES} | {
        rule.resource_type for rule in documented.DOCUMENTED_RULES
    }
    covered |= set(documents.POLICY_ATTRIBUTES) | {"aws_dms_replication_task", "aws_cloudwatch_dashboard"}
    # Lookups, and secret versions whose values are write-only expressions: nothing literal reaches a constrained member.
    nothing_to_check = {
        "data.aws_caller_identity", "data.aws_partition", "data.aws_iam_role", "data.aws_vpc", "data.aws_vpc_endpoint",
        "data.aws_network_interfaces", "data.aws_network_interface",
        "aws_secretsmanager_secret_version", "ephemeral.aws_secretsmanager_secret_version",
    }  # fmt: skip
    emitted = set().union(*(Stack(name=s, document=d).resource_types() for s, d in synthesized.items()))
    assert emitted - covered - nothing_to_check == set()


def test_every_environment_and_a_short_lived_stack_pass(synth_dir: Path, tmp_path: Path) -> None:
    from config import environment_files, load_environments
    from stacks.app import build_app

    assert cli.main([str(synth_dir / "stacks")]) == ExitCode.OK
    [short_lived] = [c for c in load_environments(environment_files(), ephemeral_suffix="pr7") if c.environment_suffix == "pr7"]
    app = build_app([short_lived], outdir=str(tmp_path))
    app.synth()
    assert cli.main([str(tmp_path / "stacks" / short_lived.stack_name)]) == ExitCode.OK


@pytest.mark.parametrize("case", PLANTED)
def test_a_planted_invalid_value_is_caught_with_its_attribute_and_rule(case: str, dev_document: Document) -> None:
    edit, attribute, rule = PLANTED[case]
    document = copy.deepcopy(dev_document)
    edit(document)
    lines = _violations(document)
    assert any(f".{attribute} = " in line and rule in line and "[source: " in line for line in lines), lines


def test_exit_codes_and_one_line_per_violation(
    dev_document: Document, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = copy.deepcopy(dev_document)
    PLANTED["DMS plugin name"][0](document)
    PLANTED["SNS topic name"][0](document)
    (tmp_path / "planted").mkdir()
    (tmp_path / "planted" / "cdk.tf.json").write_text(json.dumps(document))
    assert cli.main([str(tmp_path / "planted")]) == ExitCode.FAILED
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(line.startswith("planted: aws_") for line in lines), lines

    assert cli.main([str(tmp_path / "missing")]) == ExitCode.ERROR
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "cdk.tf.json").write_text("{not json")
    assert cli.main([str(tmp_path / "broken")]) == ExitCode.ERROR


def test_make_contract_runs_the_gate() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "contract: synth\n\t$(RUN) python -m review.aws_contract cdktf.out/stacks" in makefile


def test_every_iam_waiver_has_a_reason_and_still_matches_a_finding(synthesized: dict[str, Document]) -> None:
    waivers = load_iam_waivers()
    found = [
        finding
        for suffix, document in synthesized.items()
        for finding in iam_lint.findings(Stack(name=suffix, document=document))
    ]
    stale = [f"{waiver.issue} {waiver.target}" for waiver in waivers if not any(waiver.covers(finding) for finding in found)]
    assert stale == [], "delete or narrow these waivers in review/exceptions/iam-lint-waivers.toml"
    assert all(len(waiver.reason) > 40 for waiver in waivers)


def test_references_in_policies_become_arns_of_the_right_shape() -> None:
    root = "arn:${data.aws_partition.p.partition}:iam::${data.aws_caller_identity.c.account_id}:root"
    policy = json.dumps({"Resource": ["${aws_secretsmanager_secret.s.arn}", root]})
    assert json.loads(iam_lint.concrete(policy))["Resource"] == [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:placeholder-AbCdEf",
        "arn:aws:iam::123456789012:root",
    ]
