"""The gates `cutover stop` passes before it stops the task: nothing may still be on its way to Aurora.

gate.cdc-latency   CDCLatencySource and CDCLatencyTarget (CloudWatch AWS/DMS, dimensions
                   ReplicationInstanceIdentifier + ReplicationTaskIdentifier = the task's resource id; DMS user
                   guide, "Replication task metrics":
                   https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Monitoring.html#CHAP_Monitoring.Metrics.Task)
                   have one-minute Maximum datapoints for every minute of the window, each at or below the
                   threshold. A minute without a datapoint fails the gate: missing data is not 0.
gate.validation    DescribeTableStatistics (https://docs.aws.amazon.com/dms/latest/APIReference/API_TableStatistics.html)
                   lists every table in scope, each with TableState `Table completed`, ValidationState
                   `Validated` and no pending, failed or suspended validation records.
freeze.*           writes on the source are frozen (freeze.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from migration_ops.cutover.dms_task import LATENCY_METRICS, TableStat
from migration_ops.results import CheckResult, failed, passed
from plumbing.text import listed

DEFAULT_MAX_LATENCY_SECONDS = 10.0
DEFAULT_WINDOW_MINUTES = 10
PERIOD = timedelta(minutes=1)
# CloudWatch shows a minute's DMS datapoint a little after the minute ends: the window ends this long before now,
# and any newer datapoint still counts against the threshold.
PUBLISH_DELAY = timedelta(minutes=2)
TABLE_COMPLETED = "Table completed"  # TableStatistics.TableState, botocore `dms` model documentation
VALIDATED = "Validated"  # TableStatistics.ValidationState, botocore `dms` model documentation


@dataclass(frozen=True, kw_only=True)
class LatencyWindow:
    """The minutes [start, end) that must each have a datapoint; `fetch_end` also covers the newest minutes."""

    start: datetime
    end: datetime
    fetch_end: datetime

    @classmethod
    def ending(cls, now: datetime, *, minutes: int) -> LatencyWindow:
        whole_minute = now.replace(second=0, microsecond=0)
        end = whole_minute - PUBLISH_DELAY
        return cls(start=end - timedelta(minutes=minutes), end=end, fetch_end=whole_minute + PERIOD)

    def minutes(self) -> list[datetime]:
        count = int((self.end - self.start) / PERIOD)
        return [self.start + PERIOD * index for index in range(count)]


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def latency_gate(
    series: Mapping[str, Sequence[tuple[datetime, float]]], window: LatencyWindow, *, max_seconds: float
) -> CheckResult:
    """Every minute of `window` has a datapoint of both metrics, and no datapoint is above `max_seconds`."""
    name = "gate.cdc-latency"
    problems: list[str] = []
    summaries: list[str] = []
    span = f"{_clock(window.start)}-{_clock(window.end)} UTC"
    for metric in LATENCY_METRICS:
        points = list(series.get(metric, ()))
        covered = {window.start + PERIOD * ((moment - window.start) // PERIOD) for moment, _ in points}
        gaps = [minute for minute in window.minutes() if minute not in covered]
        above = [f"{value:g} s at {_clock(moment)}" for moment, value in points if value > max_seconds]
        if gaps:
            problems.append(f"{metric} has no datapoint for {len(gaps)} of {len(window.minutes())} minutes "
                            f"({listed([_clock(minute) for minute in gaps])}; missing data is not 0)")  # fmt: skip
        if above:
            problems.append(f"{metric} above {max_seconds:g} s: {listed(above)}")
        if points:
            summaries.append(f"{metric} max {max(value for _, value in points):g} s")
    if problems:
        return failed(
            name,
            f"{span}: " + "; ".join(problems),
            fix="wait until the writes are frozen and DMS has caught up, then run `cutover stop` again "
            "(`cutover status` shows the newest datapoints)",
        )
    return passed(
        name,
        f"{', '.join(summaries)} over {len(window.minutes())} one-minute datapoints, {span} (threshold {max_seconds:g} s)",
    )


def validation_gate(tables: Sequence[TableStat] | None, note: str, *, scope: Sequence[str] | None = None) -> CheckResult:
    """Every table in the statistics validated and completed; with `scope` (schema.table names from the source),
    every table in scope present in the statistics."""
    name = "gate.validation"
    fix = "see `cutover status` and awsdms_validation_failures_v1 in the control schema on Aurora (runbook step 9)"
    if tables is None:
        return failed(name, f"cannot tell whether the tables are validated: {note}", fix=fix)
    if not tables:
        return failed(name, "DescribeTableStatistics lists no tables: nothing has been validated", fix=fix)
    problems = []
    for table in tables:
        issues = []
        if table.state != TABLE_COMPLETED:
            issues.append(f"state {table.state or '?'}")
        if table.validation_state != VALIDATED:
            issues.append(f"validation {table.validation_state or '?'}")
        issues += [
            f"{count} {kind} records"
            for kind, count in (
                ("pending", table.validation_pending),
                ("failed", table.validation_failed),
                ("suspended", table.validation_suspended),
            )
            if count
        ]
        if issues:
            problems.append(f"{table.table} ({', '.join(issues)})")
    in_statistics = {table.table for table in tables}
    missing = sorted(set(scope or ()) - in_statistics)
    if missing:
        problems.append(f"in scope on the source but not in the task's statistics: {listed(missing)}")
    if problems:
        return failed(name, f"{len(problems)} problems: {listed(problems)}", fix=fix)
    return passed(name, f"all {len(tables)} tables {TABLE_COMPLETED.lower()} and {VALIDATED}, no failed or suspended records")
