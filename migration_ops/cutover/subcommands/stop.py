"""`cutover stop`: the cutover. It stops the task only when every gate passes (gates.py, freeze.py).

--check evaluates the gates and never stops (no audit line, no record); --force --reason stops despite failed
gates, and the reason goes to stderr, the audit log, the cutover record and a tag on the task.

Order: the --compare-report, the record directory and the operator's AWS identity first (any of them missing:
exit 2, nothing changed); then the gates; then, when stopping, the audit log's intent line (fsync'ed; unwritable:
exit 2, the task keeps running), StopReplicationTask, the outcome line, and the cutover record (stop_record.py),
whose paths are printed. A refusal is recorded the same way, without the intent.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from config import EnvironmentConfig
from migration_ops import aws, catalog, cli
from migration_ops.cutover import dms_task, gates, stop_record
from migration_ops.cutover import tags as tags_text
from migration_ops.cutover.audit import DEFAULT_AUDIT_LOG, AuditLog
from migration_ops.cutover.dms_task import TaskError
from migration_ops.cutover.freeze import DEFAULT_SAMPLE_SECONDS, FreezeContext, run_freeze_checks
from migration_ops.cutover.record import (
    LatencyRecord,
    RecordError,
    RecordOptions,
    add_record_arguments,
    latency_record,
    read_wal_position,
    redact,
)
from migration_ops.cutover.stop_record import StopEvidence
from migration_ops.cutover.subcommand import (
    TaskOptions,
    add_audit_argument,
    add_dms_user_argument,
    add_task_arguments,
)
from migration_ops.cutover.task import Task, dms_users, open_task, report
from migration_ops.errors import OpsError, UsageError
from migration_ops.postgres import DatabaseConnectionError, connect
from migration_ops.results import CheckResult, Status, failed, passed, warned, worst
from plumbing.exit_codes import ExitCode
from plumbing.text import first_line, listed

NAME = "stop"
HELP = "the cutover: stop the task when every gate passes"

# Tag values are sanitised to DMS's tag character set by tags.sanitize.
FORCED_REASON_TAG = "cutover-forced-reason"
FORCED_AT_TAG = "cutover-forced-at"

COMMAND_HELP = cli.CommandHelp(
    succeeded="the task was stopped (with --force possibly despite failed gates); with --check: every gate passes",
    failed="refused: a gate failed and the task keeps running; with --check: a gate fails",
    credentials=(cli.SOURCE_CREDENTIALS, cli.SECRET_CREDENTIALS, cli.AWS_CREDENTIALS),
    needs_aws=True,
    aws="DMS (the task, its table statistics, StopReplicationTask, the tag of a forced stop), CloudWatch (CDC "
    "latency) and Secrets Manager (the DMS user's name when no --dms-user is given; --from-secret).",
)
MAX_WINDOW_MINUTES = 15 * 24 * 60
"""CloudWatch keeps 1-minute datapoints for 15 days (CloudWatch User Guide, "Metrics retention")."""
MAX_SAMPLE_SECONDS = 3600.0
"""The freeze sample holds the cutover for its whole length: an hour is already far more than any write pause."""
MAX_LATENCY_SECONDS = cli.finite_float(minimum=0)
WINDOW_MINUTES = cli.bounded_int(minimum=1, maximum=MAX_WINDOW_MINUTES)
SAMPLE_SECONDS = cli.finite_float(minimum=0, maximum=MAX_SAMPLE_SECONDS)


@dataclass(frozen=True, kw_only=True)
class StopOptions:
    task: TaskOptions
    source: cli.SourceOptions
    audit_log: Path = DEFAULT_AUDIT_LOG
    dms_users: tuple[str, ...] = ()
    check: bool = False
    force: bool = False
    reason: str = ""
    """Why --force (stripped); empty without --force."""
    max_latency_seconds: float = gates.DEFAULT_MAX_LATENCY_SECONDS
    window_minutes: int = gates.DEFAULT_WINDOW_MINUTES
    sample_seconds: float = DEFAULT_SAMPLE_SECONDS
    record: RecordOptions = field(default_factory=RecordOptions)
    """Where the cutover record goes, and the `compare --json` file it summarises."""

    def __post_init__(self) -> None:
        """The combinations argparse cannot refuse, and the ranges of an object built in code. Raises UsageError."""
        object.__setattr__(self, "reason", self.reason.strip())
        if self.force and not self.reason:
            raise UsageError('--force needs --reason "why the gates are overridden" (it is recorded)')
        if self.reason and not self.force:
            raise UsageError("--reason goes with --force")
        if self.check and self.force:
            raise UsageError("--check never stops the task: leave out --force")
        MAX_LATENCY_SECONDS.check("--max-latency-seconds", self.max_latency_seconds)
        WINDOW_MINUTES.check("--window-minutes", self.window_minutes)
        SAMPLE_SECONDS.check("--sample-seconds", self.sample_seconds)


OPTIONS = StopOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_task_arguments(parser)
    add_audit_argument(parser)
    add_dms_user_argument(parser)
    cli.add_source_arguments(parser)
    add_record_arguments(parser)
    parser.add_argument("--check", action="store_true", help="evaluate the gates only; never stop")
    parser.add_argument("--force", action="store_true", help="stop despite failed gates (needs --reason; recorded)")
    parser.add_argument("--reason", help="why --force: printed, written to the audit log, tagged on the task")
    parser.add_argument(
        "--max-latency-seconds", type=MAX_LATENCY_SECONDS, default=gates.DEFAULT_MAX_LATENCY_SECONDS, metavar="S",
        help=f"highest CDCLatencySource/Target allowed in the window (default {gates.DEFAULT_MAX_LATENCY_SECONDS:g})",
    )  # fmt: skip
    parser.add_argument(
        "--window-minutes", type=WINDOW_MINUTES, default=gates.DEFAULT_WINDOW_MINUTES, metavar="M",
        help=f"minutes of latency datapoints that must all be at or below it (default {gates.DEFAULT_WINDOW_MINUTES})",
    )  # fmt: skip
    parser.add_argument(
        "--sample-seconds", type=SAMPLE_SECONDS, default=DEFAULT_SAMPLE_SECONDS, metavar="S",
        help=f"how long the source's write counters must not move (default {DEFAULT_SAMPLE_SECONDS:g})",
    )  # fmt: skip


def latency_gate(options: StopOptions, task: Task, described: dict[str, Any]) -> tuple[CheckResult, LatencyRecord | None]:
    """gate.cdc-latency over the window ending now (FAIL when the datapoints cannot be read), and the datapoints
    seen for the record (None when there were none to read)."""
    window = gates.LatencyWindow.ending(datetime.now(UTC), minutes=options.window_minutes)
    instance = dms_task.instance_identifier(task.dms, described)
    if instance is None:
        return failed("gate.cdc-latency", "cannot find the task's replication instance (the metric's dimension)"), None
    try:
        series = dms_task.latency_datapoints(
            task.cloudwatch(),
            instance_identifier=instance,
            task_resource_id=aws.task_resource_id(task.arn),
            start=window.start,
            end=window.fetch_end,
        )
    except TaskError as error:
        return failed("gate.cdc-latency", str(error)), None
    seen = latency_record(series, window_start=window.start, window_end=window.end, max_seconds=options.max_latency_seconds)
    return gates.latency_gate(series, window, max_seconds=options.max_latency_seconds), seen


@dataclass(frozen=True, kw_only=True)
class FreezeEvidence:
    results: list[CheckResult]
    scope: list[str] | None
    """The tables in scope on the source (None when the source cannot be read)."""
    wal_position: str | None = None
    """pg_current_wal_lsn() in the same session, right after the freeze checks."""


def freeze_gates(options: StopOptions, config: EnvironmentConfig) -> FreezeEvidence:
    """The freeze.* checks on the source, the tables in scope there and the WAL position after the checks."""
    try:
        users = dms_users(options.dms_users, config, options.task.aws)
        with connect(
            cli.source_dsn(options.source, config, options.task.aws), read_only=True, statement_timeout_seconds=60
        ) as source:
            tables = tuple(catalog.scoped_tables(source, config.dms))
            context = FreezeContext(conn=source, tables=tables, dms_users=tuple(users), sample_seconds=options.sample_seconds)
            results = run_freeze_checks(context)
            try:
                wal_position: str | None = read_wal_position(source)
            except RecordError as error:
                results.append(warned("freeze.wal-position", str(error)))
                wal_position = None
            return FreezeEvidence(results=results, scope=[table.qualified for table in tables], wal_position=wal_position)
    except (DatabaseConnectionError, psycopg.Error) as error:
        cannot = failed(
            "freeze.source",
            f"cannot check the write freeze on the source: {first_line(error)}",
            fix="give --dsn-env or --from-secret (and --dms-user if the secret cannot be read)",
        )
        return FreezeEvidence(results=[cannot], scope=None)


def stop_gates(options: StopOptions, config: EnvironmentConfig, task: Task) -> StopEvidence:
    """gate.cdc-latency, gate.validation and the freeze.* checks, each FAIL when it cannot be evaluated, with what
    they saw for the record."""
    latency, seen = latency_gate(options, task, dms_task.describe_task(task.dms, task.arn))
    freeze = freeze_gates(options, config)
    tables, note = dms_task.table_statistics(task.dms, task.arn)
    return StopEvidence(
        results=[latency, gates.validation_gate(tables, note, scope=freeze.scope), *freeze.results],
        latency=seen,
        wal_position=freeze.wal_position,
        tables=tables,
        tables_note=note,
    )


def _tag_forced(task: Task, reason: str) -> CheckResult:
    """Tag the task with the reason of a forced stop; a WARN when the tag cannot be set (the audit log has it)."""
    moment = datetime.now(UTC).isoformat(timespec="seconds")
    tags = {FORCED_REASON_TAG: tags_text.sanitize(reason), FORCED_AT_TAG: tags_text.sanitize(moment)}
    try:
        dms_task.tag_task(task.dms, task.arn, tags)
    except TaskError as error:
        return warned("task.tag", f"reason not tagged on the task (it is in the audit log): {error}")
    return passed("task.tag", f"{FORCED_REASON_TAG}={tags[FORCED_REASON_TAG]}")


def _record_files(paths: tuple[Path, Path]) -> dict[str, str]:
    return {"json": str(paths[0]), "markdown": str(paths[1])}


def _say_record(paths: tuple[Path, Path], *, as_json: bool) -> None:
    if not as_json:
        print(f"cutover record: {paths[0]} and {paths[1]} (`cutover report` prints it again)")


def run(options: StopOptions) -> int:
    started = datetime.now(UTC)
    config = cli.load_config(options.task.environment)
    task = open_task(options.task, config)
    # the reason as given, except the value of a password typed into it: it is printed, logged, recorded and tagged
    arn, reason, as_json = task.arn, redact(options.reason), options.task.json
    if options.check:
        results = stop_gates(options, config, task).results
        passing = worst(results) is not Status.FAIL
        report(results, json=as_json, task_arn=arn, action="check", gates_pass=passing)
        return ExitCode.OK if passing else ExitCode.FAILED
    inputs = stop_record.prepare(options.record, config, task, started=started)
    audit = AuditLog(options.audit_log, inputs.operator)
    try:
        return _stop(options, config, task, inputs, audit, reason=reason, as_json=as_json)
    finally:
        audit.close()


def _stop(
    options: StopOptions,
    config: EnvironmentConfig,
    task: Task,
    inputs: stop_record.RecordInputs,
    audit: AuditLog,
    *,
    reason: str,
    as_json: bool,
) -> int:
    arn = task.arn
    header: dict[str, Any] = {"task_arn": arn, "action": "stop"}
    try:
        evidence = stop_gates(options, config, task)
    except OpsError as error:
        audit.write("stop", arn, outcome=f"error: {error}", forced=False)
        with contextlib.suppress(RecordError):  # the error to report is the one raised; the audit log has it too
            stop_record.write(inputs, config=config, task_arn=arn, evidence=None, results=[], outcome="error", detail=str(error))
        raise
    results = evidence.results
    gate_results = [result.as_dict() for result in results]
    passing = worst(results) is not Status.FAIL
    record = functools.partial(stop_record.write, inputs, config=config, task_arn=arn, evidence=evidence)
    if not passing and not options.force:
        audit.write("stop", arn, outcome="refused", forced=False, gates=gate_results)
        fix = "fix what failed and run `cutover stop` again; override only with --force --reason"
        results.append(failed("task.stop", "refused: not every gate passes; the task keeps running", fix=fix))
        failing = [result.name for result in results if result.status is Status.FAIL and result.name != "task.stop"]
        paths = record(results=results, outcome="refused", detail=f"refused: {listed(failing)} failed; the task keeps running")
        report(results, json=as_json, **header, stopped=False, record=_record_files(paths))
        _say_record(paths, as_json=as_json)
        return ExitCode.FAILED
    forced = options.force and not passing
    steps = (stop_record.forced_step(reason),) if forced else ()
    # the intent reaches the disk before anything changes; an AuditError here leaves the task running
    audit.write("stop", arn, intent="stopping", forced=forced, reason=reason or None, gates=gate_results)
    if forced:
        print(f"FORCED: stopping despite failed gates; reason: {reason}", file=sys.stderr)
        results.append(_tag_forced(task, reason))
    try:
        state = dms_task.stop_task(task.dms, arn)
    except TaskError as error:
        audit.write("stop", arn, outcome=f"error: {error}", forced=forced, reason=reason or None)
        with contextlib.suppress(RecordError):
            record(results=results, outcome="error", detail=f"stop failed: {error}", forced=steps)
        raise
    audit.write("stop", arn, outcome=state, forced=forced, reason=reason or None)
    evidence_text = f"stop {arn}: {state}" + (f" (FORCED despite failed gates: {reason})" if forced else "")
    results.append(passed("task.stop", evidence_text))
    paths = record(results=results, outcome="stopped", detail=f"task status {state}", forced=steps, after_stop=True)
    report(results, json=as_json, **header, stopped=True, forced=forced, reason=reason or None, record=_record_files(paths))
    _say_record(paths, as_json=as_json)
    return ExitCode.OK
