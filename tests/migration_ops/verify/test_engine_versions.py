"""verify's `dms.engine-versions`: the engine table against DMS DescribeEngineVersions, answered by botocore's Stubber
(moto has no describe_engine_versions; the Stubber validates each answer against the `EngineVersion` shape)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from migration_ops.results import Status
from migration_ops.verify.dms_engines import account_engine_versions, compare_engine_table
from migration_ops.verify.dms_engines import main as engine_versions_main

TODAY = dt.date(2026, 11, 29)


def version(number: str, deprecation: str | None = None, force: str | None = None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"Version": number, "ReleaseStatus": "prod", **extra}
    if deprecation:
        item["DeprecationDate"] = dt.datetime.fromisoformat(deprecation)
    if force:
        item["ForceUpgradeDate"] = dt.datetime.fromisoformat(force)
    return item


def answered(*pages: list[dict[str, Any]]) -> list[Any]:
    client = boto3.client("dms", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        for index, page in enumerate(pages):
            response: dict[str, Any] = {"EngineVersions": page}
            if index < len(pages) - 1:
                response["Marker"] = f"page-{index + 1}"
            stub.add_response("describe_engine_versions", response, {"Marker": f"page-{index}"} if index else {})
        return account_engine_versions(client)


MATCHING = [
    version("3.6.1", "2027-04-30T00:00:00", "2027-06-30T00:00:00"),
    version("3.6.0", "2026-04-27T00:00:00", "2026-06-27T00:00:00"),
]


def test_pages_are_followed_and_a_matching_table_passes() -> None:
    answer = answered(MATCHING[:1], MATCHING[1:])
    result = compare_engine_table(answer, configured="3.6.1", target_major=15, instance_exists=False, today=TODAY)
    assert result.status is Status.PASS, result
    assert "account offers 3.6.1, 3.6.0" in result.evidence


def test_a_date_that_differs_or_an_unknown_version_says_the_table_is_out_of_date() -> None:
    answer = answered([version("3.6.2"), version("3.6.1", "2027-09-15T00:00:00", "2027-06-30T00:00:00")])
    result = compare_engine_table(answer, configured="3.6.1", target_major=15, instance_exists=False, today=TODAY)
    assert result.status is Status.WARN, result
    assert "3.6.1 last_creation 2027-04-30 but the account's DeprecationDate is 2027-09-15" in result.evidence
    assert "the account offers 3.6.2, which the table does not know" in result.evidence
    assert "contract/dms_engines.py" in result.fix


def test_an_engine_the_account_no_longer_offers_fails_only_where_the_stack_creates_the_instance() -> None:
    answer = answered([version("3.6.1", "2027-04-30T00:00:00", "2027-06-30T00:00:00")])
    new = compare_engine_table(answer, configured="3.5.4", target_major=15, instance_exists=False, today=TODAY)
    assert new.status is Status.FAIL and "does not offer DMS 3.5.4" in new.evidence
    existing = compare_engine_table(answer, configured="3.5.4", target_major=15, instance_exists=True, today=TODAY)
    assert existing.status is Status.PASS, existing


def test_a_beta_engine_warns() -> None:
    answer = answered([version("3.6.1", "2027-04-30T00:00:00", "2027-06-30T00:00:00", ReleaseStatus="beta")])
    result = compare_engine_table(answer, configured="3.6.1", target_major=15, instance_exists=False, today=TODAY)
    assert result.status is Status.WARN and "beta" in result.evidence


def test_the_make_target_command_cannot_run_without_a_known_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert engine_versions_main(["--env", "nowhere"]) == 2
    assert "nowhere: no such environment" in capsys.readouterr().err
