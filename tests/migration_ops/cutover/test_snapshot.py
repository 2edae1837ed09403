"""`cutover snapshot`: CreateDBClusterSnapshot, then wait for `available`, within a time limit, with clear exit codes.

AWS: moto in-process (CreateDBClusterSnapshot, DescribeDBClusterSnapshots, ListTagsForResource). moto's snapshots
are `available` at once; the tests that wait make them start `creating` and move them on from the poll's sleep, with
a fake clock, so no test sleeps.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.rds import models as rds_models

from migration_ops import cli
from migration_ops.cutover import snapshot
from migration_ops.cutover.snapshot import SnapshotError, SnapshotOptions, take_snapshot
from migration_ops.results import Status
from plumbing.exit_codes import ExitCode
from tests.migration_ops.helpers import moto_rds

REGION = "eu-west-1"
CLUSTER = "aurora-migration-cluster-test"
SNAPSHOT = "aurora-migration-cluster-test-cutover-1"


@pytest.fixture
def rds(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An RDS client on moto with an Aurora PostgreSQL cluster CLUSTER."""
    with moto_rds(monkeypatch, region=REGION, cluster=CLUSTER) as client:
        yield client


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps; `on_sleep` runs at each sleep."""

    def __init__(self, on_sleep: Any = None) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))


def _backend_snapshot(snapshot_id: str) -> Any:
    return rds_models.rds_backends[DEFAULT_ACCOUNT_ID][REGION].cluster_snapshots[snapshot_id]


@pytest.fixture
def creating(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's new cluster snapshots start `creating`, as RDS's do."""
    original = rds_models.DBClusterSnapshot.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.status = "creating"
        self.percent_progress = 0

    monkeypatch.setattr(rds_models.DBClusterSnapshot, "__init__", init)


def test_snapshot_available_is_exit_0_and_tagged(rds: Any) -> None:
    requested = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = take_snapshot(rds, cluster_id=CLUSTER, snapshot_id=SNAPSHOT, timeout_seconds=60, now=requested)
    assert result.outcome == "available" and result.exit_code is ExitCode.OK
    check = result.result()
    assert check.status is Status.PASS and SNAPSHOT in check.evidence and CLUSTER in check.evidence
    found = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=SNAPSHOT)["DBClusterSnapshots"][0]
    tags = {tag["Key"]: tag["Value"] for tag in rds.list_tags_for_resource(ResourceName=found["DBClusterSnapshotArn"])["TagList"]}
    assert tags == {"purpose": "cutover", "cutover-requested-at": "2025-01-02T03:04:05Z"}
    assert found["SnapshotType"] == "manual"


@pytest.mark.usefixtures("creating")
def test_snapshot_is_polled_until_available(rds: Any) -> None:
    def progress(sleeps: int) -> None:
        _backend_snapshot(SNAPSHOT).percent_progress = 50
        if sleeps == 3:
            _backend_snapshot(SNAPSHOT).status = "available"

    fake = FakeTime(progress)
    seen: list[str] = []
    result = take_snapshot(
        rds, cluster_id=CLUSTER, snapshot_id=SNAPSHOT, timeout_seconds=600, poll_seconds=15,
        clock=fake.clock, sleep=fake.sleep, on_status=lambda status, _: seen.append(status),
    )  # fmt: skip
    assert result.outcome == "available"
    assert seen == ["creating", "creating", "creating", "available"]
    assert fake.sleeps == [15, 15, 15] and result.seconds == 45


@pytest.mark.usefixtures("creating")
def test_time_limit_leaves_the_snapshot_and_says_how_to_check_it(rds: Any) -> None:
    fake = FakeTime()
    result = take_snapshot(
        rds, cluster_id=CLUSTER, snapshot_id=SNAPSHOT, timeout_seconds=40, poll_seconds=15, clock=fake.clock, sleep=fake.sleep
    )
    assert result.outcome == "timeout" and result.exit_code is ExitCode.FAILED
    assert fake.sleeps == [15, 15, 10], "never sleeps past the limit"
    check = result.result()
    assert check.status is Status.FAIL
    assert "still creating, 0%" in check.evidence and "left in place" in check.evidence
    assert f"describe-db-cluster-snapshots --db-cluster-snapshot-identifier {SNAPSHOT}" in check.fix
    assert _backend_snapshot(SNAPSHOT).status == "creating", "the snapshot is not deleted"


@pytest.mark.usefixtures("creating")
def test_failed_status_is_exit_1(rds: Any) -> None:
    def fail(_: int) -> None:
        _backend_snapshot(SNAPSHOT).status = "failed"

    fake = FakeTime(fail)
    result = take_snapshot(rds, cluster_id=CLUSTER, snapshot_id=SNAPSHOT, timeout_seconds=600, clock=fake.clock, sleep=fake.sleep)
    assert result.outcome == "failed" and result.status == "failed" and result.exit_code is ExitCode.FAILED
    assert "status failed" in result.result().evidence and "describe-events" in result.result().fix
    assert len(fake.sleeps) == 1


def test_aws_errors_are_one_line_snapshot_errors(rds: Any) -> None:
    with pytest.raises(SnapshotError) as missing:
        take_snapshot(rds, cluster_id="no-such-cluster", snapshot_id=SNAPSHOT, timeout_seconds=60)
    assert "DBClusterNotFoundFault" in str(missing.value) and "cluster_id output" in str(missing.value)
    take_snapshot(rds, cluster_id=CLUSTER, snapshot_id=SNAPSHOT, timeout_seconds=60)
    with pytest.raises(SnapshotError) as exists:
        take_snapshot(rds, cluster_id=CLUSTER, snapshot_id=SNAPSHOT, timeout_seconds=60)
    assert "another --snapshot-id" in str(exists.value)
    assert "\n" not in str(missing.value) + str(exists.value)


class _DescribeFails:
    """An RDS client whose snapshot is `creating` and whose DescribeDBClusterSnapshots is denied."""

    def create_db_cluster_snapshot(self, **_: Any) -> dict[str, Any]:
        return {"DBClusterSnapshot": {"Status": "creating", "DBClusterSnapshotArn": "arn:aws:rds:eu-west-1:1:cluster-snapshot:x"}}

    def describe_db_cluster_snapshots(self, **_: Any) -> dict[str, Any]:
        error = {"Error": {"Code": "AccessDenied", "Message": "not authorized"}}
        raise ClientError(error, "DescribeDBClusterSnapshots")  # type: ignore[arg-type]


def test_an_aws_error_while_waiting_names_the_snapshot_left_in_place() -> None:
    fake = FakeTime()
    with pytest.raises(SnapshotError) as raised:
        take_snapshot(_DescribeFails(), cluster_id=CLUSTER, snapshot_id=SNAPSHOT, timeout_seconds=60,  # type: ignore[arg-type]
                      clock=fake.clock, sleep=fake.sleep)  # fmt: skip
    message = str(raised.value)
    assert "AccessDenied" in message and "left in place" in message and f"--db-cluster-snapshot-identifier {SNAPSHOT}" in message


def test_run_snapshot_exit_codes(rds: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert snapshot.run_snapshot(SnapshotOptions(snapshot_id=SNAPSHOT), rds, cluster_id=CLUSTER) == ExitCode.OK
    assert "PASS" in capsys.readouterr().out
    assert snapshot.run_snapshot(SnapshotOptions(snapshot_id=SNAPSHOT), rds, cluster_id=CLUSTER) == ExitCode.ERROR
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()[1:]) == 1, "one error line after the progress line"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "1 to 63"),
        ("a" * 64, "1 to 63"),
        ("1-cutover", "start with a letter"),
        ("cutover-", "end with a hyphen"),
        ("cut--over", "two consecutive hyphens"),
        ("cut_over", "letters, digits and hyphens"),
        ("cutöver", "letters, digits and hyphens"),
    ],
)
def test_bad_snapshot_ids_are_refused(rds: Any, text: str, problem: str) -> None:
    with pytest.raises(SnapshotError, match=problem):
        take_snapshot(rds, cluster_id=CLUSTER, snapshot_id=text, timeout_seconds=60)
    assert rds.describe_db_cluster_snapshots(DBClusterIdentifier=CLUSTER, SnapshotType="manual")["DBClusterSnapshots"] == []


def test_snapshot_ids_are_stored_lowercase() -> None:
    assert snapshot.validate_snapshot_id("Before-Cutover-1") == "before-cutover-1"
    assert snapshot.validate_snapshot_id("a" * 63) == "a" * 63


def test_default_id_fits_the_identifier_rules() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (
        snapshot.default_snapshot_id("aurora-migration-cluster-dev", moment)
        == "aurora-migration-cluster-dev-cutover-20250102030405"
    )
    long = snapshot.default_snapshot_id("b" * 60, moment)
    assert long == "b" * 40 + "-cutover-20250102030405" and len(long) == 63
    cut_at_a_hyphen = snapshot.default_snapshot_id("a" * 39 + "-tail-of-a-very-long-cluster-name", moment)
    assert cut_at_a_hyphen == "a" * 39 + "-cutover-20250102030405", "no double hyphen where the name is cut"


def _parser() -> argparse.ArgumentParser:
    return snapshot.add_snapshot_arguments(argparse.ArgumentParser(prog="cutover snapshot"))


def test_arguments() -> None:
    options = cli.options_from(
        _parser().parse_args(["--snapshot-id", "Pre-Cutover", "--timeout-minutes", "1.5"]), SnapshotOptions
    )
    assert options == SnapshotOptions(snapshot_id="pre-cutover", timeout_minutes=1.5)
    assert options.timeout_seconds == 90
    assert cli.options_from(_parser().parse_args([]), SnapshotOptions) == SnapshotOptions()


@pytest.mark.parametrize("argv", [["--timeout-minutes", value] for value in ("nan", "inf", "-inf", "0", "-5", "ten")]
                         + [["--snapshot-id", "bad--id"]])  # fmt: skip
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        _parser().parse_args(argv)
    assert raised.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("cutover snapshot: error:")


@pytest.mark.parametrize("limit", [float("nan"), float("inf"), 0.0, -1.0])
def test_take_snapshot_refuses_a_bad_limit(rds: Any, limit: float) -> None:
    with pytest.raises(SnapshotError, match="finite number greater than 0"):
        take_snapshot(rds, cluster_id=CLUSTER, snapshot_id=SNAPSHOT, timeout_seconds=limit)
