"""`cutover snapshot`: a manual Aurora cluster snapshot before the cutover, waited for until it is available.

CreateDBClusterSnapshot (tags `purpose=cutover` and the time it was asked for), then DescribeDBClusterSnapshots
every `poll_seconds` until the snapshot is `available`, a failure status, or the time limit. On the time limit the
snapshot is left in place (RDS keeps creating it) and the result says how to check it later.

AWS facts, from botocore's `rds` model (2014-10-31):
- CreateDBClusterSnapshotMessage.DBClusterSnapshotIdentifier: 1 to 63 letters, numbers or hyphens; the first
  character a letter; no trailing hyphen and no two consecutive hyphens; stored as a lowercase string.
  (The 1 to 255 of CreateDBSnapshot is the instance snapshot's limit, not the cluster snapshot's.)
- DBClusterSnapshot.Status documents `available`, `copying`, `creating`; the waiter DBClusterSnapshotAvailable
  (waiters-2.json) succeeds on `available` and fails on `deleted`, `deleting`, `failed`, `incompatible-restore`,
  `incompatible-parameters`; any other status is waited on, as the waiter does.
- Tag.Key/Tag.Value: Unicode letters, digits, white space and `_ . : / = + - @`.
- CreateDBClusterSnapshot errors: DBClusterSnapshotAlreadyExistsFault, InvalidDBClusterStateFault,
  DBClusterNotFoundFault, SnapshotQuotaExceededFault, InvalidDBClusterSnapshotStateFault. Tags on create also
  need rds:AddTagsToResource.

Exit codes: 0 the snapshot is available; 1 it failed or was not available within the time limit; 2 the command
could not run (a bad identifier or option, an AWS error: SnapshotError).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from migration_ops import cli
from migration_ops.errors import OpsError
from migration_ops.results import CheckResult, failed, passed
from plumbing.exit_codes import ExitCode
from plumbing.text import first_line, human_duration

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient

AVAILABLE = "available"
IN_PROGRESS = frozenset({"creating", "copying"})
FAILED_STATUSES = frozenset({"deleted", "deleting", "failed", "incompatible-restore", "incompatible-parameters"})
MAX_IDENTIFIER_LENGTH = 63
DEFAULT_TIMEOUT_MINUTES = 60.0
DEFAULT_POLL_SECONDS = 15.0
NOT_FOUND_TOLERANCE = 2
"""Polls that may not find the snapshot just after CreateDBClusterSnapshot (the API is eventually consistent)."""
PURPOSE_TAG = "purpose"
PURPOSE = "cutover"
REQUESTED_AT_TAG = "cutover-requested-at"
CHECK_NAME = "snapshot"

Outcome = Literal["available", "failed", "timeout"]
_AWS_ERRORS = (ClientError, BotoCoreError)
_HINTS = {
    "DBClusterSnapshotAlreadyExistsFault": "a snapshot with this id exists: give another --snapshot-id",
    "DBClusterNotFoundFault": "no such cluster: is it the stack's cluster_id output?",
    "InvalidDBClusterStateFault": "the cluster must be `available` (aws rds describe-db-clusters)",
    "SnapshotQuotaExceededFault": "the account's manual snapshot quota is used up: delete old manual snapshots",
    "AccessDenied": "needs rds:CreateDBClusterSnapshot, rds:AddTagsToResource and rds:DescribeDBClusterSnapshots",
    "AccessDeniedException": "needs rds:CreateDBClusterSnapshot, rds:AddTagsToResource and rds:DescribeDBClusterSnapshots",
}


class SnapshotError(OpsError):
    """The snapshot could not be asked for or followed (bad id, AWS error): exit 2 with this one-line message."""


def identifier_problem(text: str) -> str | None:
    """Why `text` is not a valid DB cluster snapshot identifier, or None when it is."""
    if not 1 <= len(text) <= MAX_IDENTIFIER_LENGTH:
        return f"must be 1 to {MAX_IDENTIFIER_LENGTH} characters (is {len(text)})"
    if not all(char.isascii() and (char.isalnum() or char == "-") for char in text):
        return "may hold only letters, digits and hyphens"
    if not text[0].isalpha():
        return "must start with a letter"
    if text.endswith("-"):
        return "must not end with a hyphen"
    if "--" in text:
        return "must not contain two consecutive hyphens"
    return None


def validate_snapshot_id(text: str) -> str:
    """`text` lowercased (RDS stores it so) when it is a valid identifier. Raises SnapshotError."""
    problem = identifier_problem(text)
    if problem is not None:
        raise SnapshotError(f"snapshot id {text!r}: {problem} (RDS DB cluster snapshot identifier rules)")
    return text.lower()


def default_snapshot_id(cluster_id: str, now: datetime | None = None) -> str:
    """`<cluster>-cutover-<UTC yyyymmddHHMMSS>`, the cluster part shortened when the whole would exceed 63."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d%H%M%S")
    suffix = f"-cutover-{stamp}"
    head = cluster_id.lower()[: MAX_IDENTIFIER_LENGTH - len(suffix)].rstrip("-")
    return validate_snapshot_id(head + suffix)


def _aws_message(action: str, error: Exception) -> str:
    message = first_line(error)
    if isinstance(error, ClientError):
        hint = _HINTS.get(str(error.response.get("Error", {}).get("Code", "")))
        if hint:
            message = f"{message} ({hint})"
    return f"{action}: {message}"


def _check_later(snapshot_id: str) -> str:
    return (
        f"check it later: aws rds describe-db-cluster-snapshots --db-cluster-snapshot-identifier {snapshot_id} "
        "--query 'DBClusterSnapshots[0].[Status,PercentProgress]' "
        f"(or wait: aws rds wait db-cluster-snapshot-available --db-cluster-snapshot-identifier {snapshot_id})"
    )


@dataclass(frozen=True, kw_only=True)
class SnapshotResult:
    snapshot_id: str
    cluster_id: str
    outcome: Outcome
    status: str
    """The last Status RDS reported (`not found` when DescribeDBClusterSnapshots stopped finding it)."""
    seconds: float
    timeout_seconds: float
    arn: str = ""
    percent_progress: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "available"

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.ok else ExitCode.FAILED

    def result(self) -> CheckResult:
        what = f"cluster snapshot {self.snapshot_id} of {self.cluster_id}"
        if self.outcome == "available":
            return passed(CHECK_NAME, f"{what} available after {human_duration(self.seconds)} ({self.arn or 'no ARN'})")
        if self.outcome == "failed":
            return failed(
                CHECK_NAME,
                f"{what}: status {self.status}, not available",
                fix=f"see the RDS events (aws rds describe-events --source-type db-cluster-snapshot --source-identifier "
                f"{self.snapshot_id}); then take another (`cutover snapshot`)",
            )
        progress = "" if self.percent_progress is None else f", {self.percent_progress}%"
        return failed(
            CHECK_NAME,
            f"{what} not available within {human_duration(self.timeout_seconds)}: still {self.status}{progress}; "
            "the snapshot is left in place and RDS keeps creating it",
            fix=_check_later(self.snapshot_id),
        )

    def as_dict(self) -> dict[str, Any]:
        """Every field, in order; the seconds to the millisecond."""
        return {**self.__dict__, "seconds": round(self.seconds, 3)}


def _positive_finite(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise SnapshotError(f"{name} must be a finite number greater than 0, not {value!r}")


def take_snapshot(
    rds: RDSClient,
    *,
    cluster_id: str,
    snapshot_id: str,
    timeout_seconds: float,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_status: Callable[[str, int | None], None] | None = None,
    now: datetime | None = None,
) -> SnapshotResult:
    """Create the manual cluster snapshot `snapshot_id` of `cluster_id` and wait until it is available.

    A failure status or the time limit is a result (exit 1); a bad id, a bad limit or an AWS error raises
    SnapshotError (exit 2). `on_status(status, percent)` hears every status seen while waiting.
    """
    snapshot_id = validate_snapshot_id(snapshot_id)
    _positive_finite("the time limit", timeout_seconds)
    _positive_finite("the poll interval", poll_seconds)
    requested_at = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    started = clock()
    try:
        created = rds.create_db_cluster_snapshot(
            DBClusterSnapshotIdentifier=snapshot_id,
            DBClusterIdentifier=cluster_id,
            Tags=[{"Key": PURPOSE_TAG, "Value": PURPOSE}, {"Key": REQUESTED_AT_TAG, "Value": requested_at}],
        )["DBClusterSnapshot"]
    except _AWS_ERRORS as error:
        raise SnapshotError(_aws_message(f"create cluster snapshot {snapshot_id} of {cluster_id}", error)) from None
    arn = str(created.get("DBClusterSnapshotArn", ""))
    status = str(created.get("Status", "unknown"))
    percent: int | None = created.get("PercentProgress")
    not_found = 0

    def finished(outcome: Outcome) -> SnapshotResult:
        return SnapshotResult(
            snapshot_id=snapshot_id,
            cluster_id=cluster_id,
            outcome=outcome,
            status=status,
            seconds=clock() - started,
            timeout_seconds=timeout_seconds,
            arn=arn,
            percent_progress=percent,
        )

    while True:
        if on_status is not None:
            on_status(status, percent)
        if status == AVAILABLE:
            return finished("available")
        if status in FAILED_STATUSES:
            return finished("failed")
        remaining = started + timeout_seconds - clock()
        if remaining <= 0:
            return finished("timeout")
        sleep(min(poll_seconds, remaining))
        try:
            found = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot_id)["DBClusterSnapshots"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "DBClusterSnapshotNotFoundFault":
                raise SnapshotError(_describe_failed(snapshot_id, error)) from None
            found = []
        except BotoCoreError as error:
            raise SnapshotError(_describe_failed(snapshot_id, error)) from None
        if not found:
            not_found += 1
            if not_found > NOT_FOUND_TOLERANCE:
                status = "not found"
                return finished("failed")
            continue
        not_found = 0
        status = str(found[0].get("Status", "unknown"))
        percent = found[0].get("PercentProgress")


def _describe_failed(snapshot_id: str, error: Exception) -> str:
    return (
        _aws_message(f"describe cluster snapshot {snapshot_id}", error)
        + f"; the snapshot was asked for and is left in place: {_check_later(snapshot_id)}"
    )


# --- command line -----------------------------------------------------------------------------


COMMAND_HELP = cli.CommandHelp(
    succeeded="the cluster snapshot is available",
    failed="the snapshot failed, or was not available within --timeout-minutes (it is left in place either way)",
    credentials=(cli.AWS_CREDENTIALS,),
    needs_aws=True,
    aws="RDS: CreateDBClusterSnapshot and DescribeDBClusterSnapshots on the stack's cluster.",
)
TIMEOUT_MINUTES = cli.finite_float(strictly_above=0)


@dataclass(frozen=True, kw_only=True)
class SnapshotOptions:
    """--snapshot-id and --timeout-minutes (fields named as their dests: `cli.options_from` builds it)."""

    snapshot_id: str | None = None
    """None: `default_snapshot_id(cluster)`."""
    timeout_minutes: float = DEFAULT_TIMEOUT_MINUTES

    def __post_init__(self) -> None:
        TIMEOUT_MINUTES.check("--timeout-minutes", self.timeout_minutes)

    @property
    def timeout_seconds(self) -> float:
        return self.timeout_minutes * 60


def _snapshot_id_argument(text: str) -> str:
    try:
        return validate_snapshot_id(text)
    except SnapshotError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_snapshot_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """--snapshot-id ID, --timeout-minutes M (finite, > 0); returns `parser`."""
    parser.add_argument(
        "--snapshot-id", type=_snapshot_id_argument, metavar="ID",
        help="cluster snapshot identifier (default <cluster>-cutover-<UTC yyyymmddHHMMSS>)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout-minutes", type=TIMEOUT_MINUTES, default=DEFAULT_TIMEOUT_MINUTES, metavar="M",
        help=f"wait at most this long for `available` (default {DEFAULT_TIMEOUT_MINUTES:g}); the snapshot stays either way",
    )  # fmt: skip
    return parser


def _progress(status: str, percent: int | None) -> None:
    shown = "" if percent is None else f" {percent}%"
    print(f"  {status}{shown}", file=sys.stderr, flush=True)


def run_snapshot(
    options: SnapshotOptions,
    rds: RDSClient,
    *,
    cluster_id: str,
    json_output: bool = False,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
) -> int:
    """Take the snapshot and print the result (a table line or `--json`); 0 available, 1 not, 2 could not run."""
    try:
        snapshot_id = options.snapshot_id or default_snapshot_id(cluster_id)
        if not json_output:
            print(
                f"cluster snapshot {snapshot_id} of {cluster_id}: waiting up to "
                f"{human_duration(options.timeout_seconds)} for `available`",
                file=sys.stderr,
                flush=True,
            )
        outcome = take_snapshot(
            rds,
            cluster_id=cluster_id,
            snapshot_id=snapshot_id,
            timeout_seconds=options.timeout_seconds,
            poll_seconds=poll_seconds,
            on_status=None if json_output else _progress,
        )
    except SnapshotError as error:
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.ERROR
    result = outcome.result()
    if json_output:
        print(json.dumps({"snapshot": outcome.as_dict(), "results": [result.as_dict()]}, indent=2))
    else:
        print(cli.render_table([result]))
    return outcome.exit_code
