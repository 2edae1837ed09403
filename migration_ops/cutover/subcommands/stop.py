"""`cutover stop`: the cutover. It stops the task only when every gate passes (gates.py, freeze.py).

--check evaluates the gates and never stops; --force --reason stops despite failed gates, and the reason goes
to stderr, the audit log and a tag on the task.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from config import EnvironmentConfig
from migration_ops import aws, catalog, cli
from migration_ops.cutover import dms_task, gates
from migration_ops.cutover.audit import DEFAULT_AUDIT_LOG, AuditLog
from migration_ops.cutover.dms_task import TaskError
from migration_ops.cutover.freeze import DEFAULT_SAMPLE_SECONDS, FreezeContext, run_freeze_checks
from migration_ops.cutover.subcommand import (
    TaskOptions,
    add_audit_argument,
    add_dms_user_argument,
    add_task_arguments,
)
from migration_ops.cutover.task import Task, dms_users, open_task, report
from migration_ops.errors import UsageError
from migration_ops.postgres import DatabaseConnectionError, connect
from migration_ops.results import CheckResult, Status, failed, passed, warned, worst
from plumbing.exit_codes import ExitCode
from plumbing.text import first_line

NAME = "stop"
HELP = "the cutover: stop the task when every gate passes"

# DMS tag values: up to 256 Unicode letters, digits, white space and _ . : / = + - (DMS API reference, Tag).
_TAG_VALUE_UNSAFE = re.compile(r"[^\w\s.:/=+\-]")
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


def latency_gate(options: StopOptions, task: Task, described: dict[str, Any]) -> CheckResult:
    """gate.cdc-latency over the window ending now; FAIL when the datapoints cannot be read."""
    window = gates.LatencyWindow.ending(datetime.now(UTC), minutes=options.window_minutes)
    instance = dms_task.instance_identifier(task.dms, described)
    if instance is None:
        return failed("gate.cdc-latency", "cannot find the task's replication instance (the metric's dimension)")
    try:
        series = dms_task.latency_datapoints(
            task.cloudwatch(),
            instance_identifier=instance,
            task_resource_id=aws.task_resource_id(task.arn),
            start=window.start,
            end=window.fetch_end,
        )
    except TaskError as error:
        return failed("gate.cdc-latency", str(error))
    return gates.latency_gate(series, window, max_seconds=options.max_latency_seconds)


def freeze_gates(options: StopOptions, config: EnvironmentConfig) -> tuple[list[CheckResult], list[str] | None]:
    """The freeze.* checks on the source and the tables in scope there (None when the source cannot be read)."""
    try:
        users = dms_users(options.dms_users, config, options.task.aws)
        with connect(
            cli.source_dsn(options.source, config, options.task.aws), read_only=True, statement_timeout_seconds=60
        ) as source:
            tables = tuple(catalog.scoped_tables(source, config.dms))
            context = FreezeContext(conn=source, tables=tables, dms_users=tuple(users), sample_seconds=options.sample_seconds)
            return run_freeze_checks(context), [table.qualified for table in tables]
    except (DatabaseConnectionError, psycopg.Error) as error:
        cannot = failed(
            "freeze.source",
            f"cannot check the write freeze on the source: {first_line(error)}",
            fix="give --dsn-env or --from-secret (and --dms-user if the secret cannot be read)",
        )
        return [cannot], None


def stop_gates(options: StopOptions, config: EnvironmentConfig, task: Task) -> list[CheckResult]:
    """gate.cdc-latency, gate.validation and the freeze.* checks, each FAIL when it cannot be evaluated."""
    latency = latency_gate(options, task, dms_task.describe_task(task.dms, task.arn))
    freeze, scope = freeze_gates(options, config)
    tables, note = dms_task.table_statistics(task.dms, task.arn)
    return [latency, gates.validation_gate(tables, note, scope=scope), *freeze]


def _tag_value(text: str) -> str:
    return _TAG_VALUE_UNSAFE.sub("_", text)[:256]


def _tag_forced(task: Task, reason: str) -> CheckResult:
    """Tag the task with the reason of a forced stop; a WARN when the tag cannot be set (the audit log has it)."""
    tags = {FORCED_REASON_TAG: _tag_value(reason), FORCED_AT_TAG: _tag_value(datetime.now(UTC).isoformat(timespec="seconds"))}
    try:
        dms_task.tag_task(task.dms, task.arn, tags)
    except TaskError as error:
        return warned("task.tag", f"reason not tagged on the task (it is in the audit log): {error}")
    return passed("task.tag", f"{FORCED_REASON_TAG}={tags[FORCED_REASON_TAG]}")


def run(options: StopOptions) -> int:
    config = cli.load_config(options.task.environment)
    task = open_task(options.task, config)
    arn, reason, as_json = task.arn, options.reason, options.task.json
    audit = None if options.check else AuditLog(options.audit_log)
    try:
        results = stop_gates(options, config, task)
        gate_results = [result.as_dict() for result in results]
        passing = worst(results) is not Status.FAIL
        header: dict[str, Any] = {"task_arn": arn, "action": "check" if options.check else "stop"}
        if options.check:
            report(results, json=as_json, **header, gates_pass=passing)
            return ExitCode.OK if passing else ExitCode.FAILED
        assert audit is not None
        if not passing and not options.force:
            audit.write("stop", arn, outcome="refused", forced=False, gates=gate_results)
            fix = "fix what failed and run `cutover stop` again; override only with --force --reason"
            results.append(failed("task.stop", "refused: not every gate passes; the task keeps running", fix=fix))
            report(results, json=as_json, **header, stopped=False)
            return ExitCode.FAILED
        forced = options.force and not passing
        if forced:
            print(f"FORCED: stopping despite failed gates; reason: {reason}", file=sys.stderr)
            results.append(_tag_forced(task, reason))
        try:
            state = dms_task.stop_task(task.dms, arn)
        except TaskError as error:
            audit.write("stop", arn, outcome=f"error: {error}", forced=forced, reason=reason or None, gates=gate_results)
            raise
        audit.write("stop", arn, outcome=state, forced=forced, reason=reason or None, gates=gate_results)
        evidence = f"stop {arn}: {state}" + (f" (FORCED despite failed gates: {reason})" if forced else "")
        results.append(passed("task.stop", evidence))
        report(results, json=as_json, **header, stopped=True, forced=forced, reason=reason or None)
        return ExitCode.OK
    finally:
        if audit is not None:
            audit.close()
