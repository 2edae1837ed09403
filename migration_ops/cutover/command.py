"""Cutover commands: drive the DMS task, freeze writes, reset sequences on Aurora.

    python -m migration_ops.cutover start  [--resume]
    python -m migration_ops.cutover status [--json]
    python -m migration_ops.cutover stop   [--check] [--force --reason TEXT] [--max-latency-seconds S]
                                           [--window-minutes M] [--sample-seconds S] [--dms-user U ...]
                                           [--dsn-env VAR | --from-secret] [--audit-log FILE]
    python -m migration_ops.cutover pause  [--reason TEXT] [--audit-log FILE]
    python -m migration_ops.cutover reload --truncate-target-dsn-env VAR [--yes-truncate] [--audit-log FILE]
        task: (--env ENV | --config PATH) [--suffix S] [--outputs FILE | --workdir DIR | --task-arn ARN]
              [--region R] [--endpoint-url URL]   (--env/--config optional for start and status)
    python -m migration_ops.cutover freeze-sql (--env ENV | --config PATH) --app-role ROLE ... [--dms-user U ...]
    python -m migration_ops.cutover sequences (--env ENV | --config PATH)
        [--dsn-env VAR] [--from-secret] [--apply-dsn-env VAR] [--margin N] [--json]

The task is the stack's `dms_task_arn` output, found like verify finds outputs:
`terraform output -json` in cdktf.out/stacks/<stack> (or --workdir), or a saved
--outputs file; --task-arn names it directly.

`start` sends start-replication only to a task that has never run, and
resume-processing (--resume) only to one that has. `stop` is the cutover: it
stops the task only when every gate passes (CDC latency, validation, write
freeze: migration_ops/cutover_gates.py, write_freeze.py); --force --reason
stops despite failed gates and records the reason. `pause` stops the task for
a change during replication (no gates; continue with `start --resume`).
`reload` truncates the in-scope tables on the TARGET and starts reload-target.
`freeze-sql` prints the write-freeze SQL for the application roles and its
rollback. `sequences` reads every sequence in scope from the SOURCE; with
--apply-dsn-env (a variable holding the TARGET's libpq URI) it sets each
target sequence to the source's value + margin.

Exit codes: 0 done (stop: the task was stopped, with --force possibly despite
failed gates; stop --check: every gate passes); 1 refused: a gate failed, the
task is in the wrong state for the command, or reload lacks --yes-truncate
(nothing was changed); 2 the command could not run (usage, configuration,
outputs, AWS or database errors).
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from config import EnvironmentConfig
from contract.outputs import Output
from migration_ops import aws, cli
from migration_ops.cutover import dms_task
from migration_ops.cutover import freeze as write_freeze
from migration_ops.cutover import gates as cutover_gates
from migration_ops.cutover.dms_task import STOPPED_STATUSES, StartType, TaskError, TaskStatus
from migration_ops.cutover.gates import LatencyWindow
from migration_ops.cutover.sequence_reset import DEFAULT_MARGIN, SequenceResetError, apply_sequences, read_sequences
from migration_ops.postgres import (
    SourceConnectionError,
    connect,
    describe_dsn,
    dsn_from_env,
    secret_credentials,
)
from migration_ops.results import CheckResult, Status, failed, passed, warned, worst

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dms import DatabaseMigrationServiceClient

DEFAULT_AUDIT_LOG = Path("cutover-audit.jsonl")
TARGET_LOCK_TIMEOUT = "10s"
# DMS tag values: up to 256 Unicode letters, digits, white space and _ . : / = + - (DMS API reference, Tag).
_TAG_VALUE_UNSAFE = re.compile(r"[^\w\s.:/=+\-]")
FORCED_REASON_TAG = "cutover-forced-reason"
FORCED_AT_TAG = "cutover-forced-at"


class ReloadError(Exception):
    """The target tables could not be truncated: exit 2 with this message."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    cli.add_environment_arguments(common, required=False)
    cli.add_aws_arguments(common)
    cli.add_json_argument(common)

    task = argparse.ArgumentParser(add_help=False, parents=[common])
    cli.add_output_arguments(task).add_argument("--task-arn", help="ARN of the replication task (instead of the outputs)")

    audited = argparse.ArgumentParser(add_help=False)
    audited.add_argument(
        "--audit-log", type=Path, default=DEFAULT_AUDIT_LOG, help=f"JSON lines of every decision (default {DEFAULT_AUDIT_LOG})"
    )
    dms_users = argparse.ArgumentParser(add_help=False)
    dms_users.add_argument(
        "--dms-user", action="append", default=[], metavar="ROLE",
        help="the source role DMS connects as (repeatable; default: username in source.credentials_secret_arn)",
    )  # fmt: skip

    parser = argparse.ArgumentParser(prog="python -m migration_ops.cutover", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", parents=[task], help="start replication (full load, then CDC) on a task never run")
    start.add_argument("--resume", action="store_true", help="resume a stopped task (resume-processing)")
    commands.add_parser("status", parents=[task], help="task status, CDC latency, table statistics")
    stop = commands.add_parser(
        "stop", parents=[task, audited, dms_users], help="the cutover: stop the task when every gate passes"
    )
    cli.add_source_arguments(stop)
    stop.add_argument("--check", action="store_true", help="evaluate the gates only; never stop")
    stop.add_argument("--force", action="store_true", help="stop despite failed gates (needs --reason; recorded)")
    stop.add_argument("--reason", help="why --force: printed, written to the audit log, tagged on the task")
    stop.add_argument(
        "--max-latency-seconds", type=float, default=cutover_gates.DEFAULT_MAX_LATENCY_SECONDS,
        help=f"highest CDCLatencySource/Target allowed in the window (default {cutover_gates.DEFAULT_MAX_LATENCY_SECONDS:g})",
    )  # fmt: skip
    stop.add_argument(
        "--window-minutes", type=int, default=cutover_gates.DEFAULT_WINDOW_MINUTES,
        help=f"minutes of latency datapoints that must all be at or below it (default {cutover_gates.DEFAULT_WINDOW_MINUTES})",
    )  # fmt: skip
    stop.add_argument(
        "--sample-seconds", type=float, default=write_freeze.DEFAULT_SAMPLE_SECONDS,
        help=f"how long the source's write counters must not move (default {write_freeze.DEFAULT_SAMPLE_SECONDS:g})",
    )  # fmt: skip
    pause = commands.add_parser("pause", parents=[task, audited], help="stop the task for a change, not a cutover (no gates)")
    pause.add_argument("--reason", help="recorded in the audit log")
    reload = commands.add_parser(
        "reload", parents=[task, audited], help="truncate the in-scope TARGET tables, then start reload-target"
    )
    reload.add_argument(
        "--truncate-target-dsn-env", metavar="VAR", required=True, help="variable holding the TARGET (Aurora) libpq URI"
    )
    reload.add_argument("--yes-truncate", action="store_true", help="really truncate; without it only the plan is printed")
    freeze = commands.add_parser("freeze-sql", parents=[common, dms_users], help="print the write-freeze SQL and its rollback")
    cli.add_source_arguments(freeze)
    freeze.add_argument("--app-role", action="append", required=True, metavar="ROLE", help="an application role (repeatable)")
    sequences = commands.add_parser("sequences", parents=[common], help="read source sequences; --apply-dsn-env resets them")
    cli.add_source_arguments(sequences)
    sequences.add_argument("--apply-dsn-env", metavar="VAR", help="variable holding the TARGET libpq URI: apply setval there")
    sequences.add_argument("--margin", type=int, default=DEFAULT_MARGIN, help=f"added to each value (default {DEFAULT_MARGIN})")
    return parser.parse_args(argv)


def task_arn(args: argparse.Namespace, config: EnvironmentConfig | None) -> str:
    """--task-arn, else the stack's dms_task_arn output (--outputs, --workdir or cdktf.out/stacks/<stack>)."""
    if args.task_arn:
        return str(args.task_arn)
    if config is None and args.outputs is None and args.workdir is None:
        raise cli.UsageError("give --env or --config (to find the stack's outputs), or --task-arn")
    outputs = cli.stack_outputs(args, config.stack_name if config else None)
    return cli.required_output(outputs, Output.DMS_TASK_ARN)


def render_status(status: TaskStatus) -> str:
    lines = [
        f"task        {status.identifier} ({status.arn})",
        f"status      {status.status}  migration_type {status.migration_type}",
    ]
    if status.stop_reason:
        lines.append(f"stop reason {status.stop_reason}")
    if status.last_failure:
        lines.append(f"last error  {status.last_failure}")
    if status.progress:
        lines.append("progress    " + ", ".join(f"{key}={value}" for key, value in sorted(status.progress.items())))
    for metric, value in status.latency_seconds.items():
        lines.append(f"{metric:<17} " + ("no datapoints in the last 30 min" if value is None else f"{value:g} s"))
    if status.tables is None:
        lines.append(status.tables_note)
    else:
        row = "{:<40} {:<22} {:>10} {:>8} {:>8} {:>8}  {}"
        lines.append(row.format("TABLE", "STATE", "FULL_LOAD", "INS", "UPD", "DEL", "VALIDATION"))
        lines.extend(
            row.format(t.table, t.state, t.full_load_rows, t.inserts, t.updates, t.deletes, t.validation_state)
            for t in status.tables
        )
    return "\n".join(lines)


def run_task_command(args: argparse.Namespace) -> int:
    config = cli.optional_config(args) if args.command in ("start", "status") else cli.load_config(args)
    arn = task_arn(args, config)
    session = aws.session(args.region or (config.aws_region if config else None))
    if session.region_name is None:
        raise cli.UsageError("no AWS region: give --region (or --env)")
    settings = aws.client_settings()
    dms = session.client("dms", endpoint_url=args.endpoint_url, config=settings)
    if args.command == "status":
        cloudwatch = session.client("cloudwatch", endpoint_url=args.endpoint_url, config=settings)
        status = dms_task.task_status(dms, cloudwatch, arn)
        print(json.dumps(status.as_dict(), indent=2, default=str) if args.json else render_status(status))
        return cli.EXIT_OK
    if args.command == "start":
        return run_start(args, dms, arn)
    assert config is not None
    if args.command == "stop":
        cloudwatch = session.client("cloudwatch", endpoint_url=args.endpoint_url, config=settings)
        return run_stop(args, config, dms, cloudwatch, arn)
    if args.command == "pause":
        return run_pause(args, dms, arn)
    return run_reload(args, config, dms, arn)


def _report(args: argparse.Namespace, results: list[CheckResult], **header: Any) -> None:
    if args.json:
        print(cli.render_json(results, **header))
    else:
        print(cli.render_table(results))


def run_start(args: argparse.Namespace, dms: DatabaseMigrationServiceClient, arn: str) -> int:
    """start-replication only on a task never run; resume-processing only on one that has (API reference,
    StartReplicationTask: any other type on a first run "will result in data errors")."""
    kind: StartType = "resume-processing" if args.resume else "start-replication"
    what = f"start ({kind}) {arn}"
    tables, _ = dms_task.table_statistics(dms, arn)
    history = dms_task.run_history(dms_task.describe_task(dms, arn), tables)
    refusal = None
    if kind == "start-replication" and history:
        refusal = failed(
            "task.start",
            f"refused: the task has run before ({'; '.join(history)}); start-replication would load every table "
            "again into tables that already hold rows (TargetTablePrepMode DO_NOTHING)",
            fix="continue where it stopped: `cutover start --resume`; load everything again: `cutover reload` "
            "(truncates the target tables first)",
        )
    elif kind == "resume-processing" and not history:
        refusal = failed(
            "task.start",
            "refused: the task has never run; resume-processing is only for a task that has",
            fix="`cutover start` (start-replication)",
        )
    if refusal is not None:
        _report(args, [refusal], task_arn=arn)
        return cli.EXIT_FAILED
    if not args.json:
        print(f"{what}: ", end="", flush=True)
    state = dms_task.start_task(dms, arn, kind=kind)
    result = passed("task.start", f"{what}: {state}")
    print(cli.render_json([result], task_arn=arn) if args.json else state)
    return cli.EXIT_OK


def dms_users(args: argparse.Namespace, config: EnvironmentConfig) -> list[str]:
    """--dms-user, else the username in the secret the DMS source endpoint reads. Raises SourceConnectionError."""
    if args.dms_user:
        return list(args.dms_user)
    region = args.region or config.aws_region
    credentials = secret_credentials(config.source.credentials_secret_arn, region=region, endpoint_url=args.endpoint_url)
    return [credentials.username]


def stop_gates(
    args: argparse.Namespace,
    config: EnvironmentConfig,
    dms: DatabaseMigrationServiceClient,
    cloudwatch: CloudWatchClient,
    arn: str,
) -> list[CheckResult]:
    """gate.cdc-latency, gate.validation and the freeze.* checks, each FAIL when it cannot be evaluated."""
    task = dms_task.describe_task(dms, arn)
    window = LatencyWindow.ending(datetime.now(UTC), minutes=args.window_minutes)
    instance = dms_task.instance_identifier(dms, task)
    if instance is None:
        latency = failed("gate.cdc-latency", "cannot find the task's replication instance (the metric's dimension)")
    else:
        try:
            series = dms_task.latency_datapoints(
                cloudwatch,
                instance_identifier=instance,
                task_resource_id=aws.task_resource_id(arn),
                start=window.start,
                end=window.fetch_end,
            )
        except TaskError as error:
            latency = failed("gate.cdc-latency", str(error))
        else:
            latency = cutover_gates.latency_gate(series, window, max_seconds=args.max_latency_seconds)
    scope: list[str] | None = None
    try:
        users = dms_users(args, config)
        with connect(cli.source_dsn(args, config), read_only=True, statement_timeout_seconds=60) as source:
            freeze = write_freeze.freeze_checks(source, config.dms, dms_users=users, sample_seconds=args.sample_seconds)
            scope = [f"{table.schema}.{table.name}" for table in write_freeze.scoped_tables(source, config.dms)]
    except (SourceConnectionError, psycopg.Error) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        freeze = [
            failed(
                "freeze.source",
                f"cannot check the write freeze on the source: {message}",
                fix="give --dsn-env or --from-secret (and --dms-user if the secret cannot be read)",
            )
        ]
    tables, note = dms_task.table_statistics(dms, arn)
    return [latency, cutover_gates.validation_gate(tables, note, scope=scope), *freeze]


class AuditLog:
    """JSON lines appended to --audit-log; opened before anything is changed, so an unwritable log stops the command."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._handle: IO[str] = path.open("a", encoding="utf-8")
        except OSError as error:
            raise cli.UsageError(f"--audit-log {path}: cannot append ({error.strerror})") from None

    def write(self, action: str, arn: str, **fields: Any) -> None:
        record = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "action": action, "task_arn": arn}
        record.update(operator=getpass.getuser(), **fields)
        self._handle.write(json.dumps(record, default=str) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def _tag_value(text: str) -> str:
    return _TAG_VALUE_UNSAFE.sub("_", text)[:256]


def _stop_reason(args: argparse.Namespace) -> str:
    """The --reason of a --force, after checking the stop options. Raises UsageError."""
    reason = str(args.reason or "").strip()
    if args.force and not reason:
        raise cli.UsageError('--force needs --reason "why the gates are overridden" (it is recorded)')
    if args.reason is not None and not args.force:
        raise cli.UsageError("--reason goes with --force")
    if args.check and args.force:
        raise cli.UsageError("--check never stops the task: leave out --force")
    if args.window_minutes < 1 or args.max_latency_seconds < 0 or args.sample_seconds < 0:
        raise cli.UsageError("--window-minutes must be >= 1, --max-latency-seconds and --sample-seconds >= 0")
    return reason


def _tag_forced(dms: DatabaseMigrationServiceClient, arn: str, reason: str) -> CheckResult:
    """Tag the task with the reason of a forced stop; a WARN when the tag cannot be set (the audit log has it)."""
    tags = {FORCED_REASON_TAG: _tag_value(reason), FORCED_AT_TAG: _tag_value(datetime.now(UTC).isoformat(timespec="seconds"))}
    try:
        dms_task.tag_task(dms, arn, tags)
    except TaskError as error:
        return warned("task.tag", f"reason not tagged on the task (it is in the audit log): {error}")
    return passed("task.tag", f"{FORCED_REASON_TAG}={tags[FORCED_REASON_TAG]}")


def run_stop(
    args: argparse.Namespace,
    config: EnvironmentConfig,
    dms: DatabaseMigrationServiceClient,
    cloudwatch: CloudWatchClient,
    arn: str,
) -> int:
    reason = _stop_reason(args)
    audit = None if args.check else AuditLog(args.audit_log)
    try:
        results = stop_gates(args, config, dms, cloudwatch, arn)
        gates = [result.as_dict() for result in results]
        passing = worst(results) is not Status.FAIL
        header: dict[str, Any] = {"task_arn": arn, "action": "check" if args.check else "stop"}
        if args.check:
            _report(args, results, **header, gates_pass=passing)
            return cli.EXIT_OK if passing else cli.EXIT_FAILED
        assert audit is not None
        if not passing and not args.force:
            audit.write("stop", arn, outcome="refused", forced=False, gates=gates)
            fix = "fix what failed and run `cutover stop` again; override only with --force --reason"
            results.append(failed("task.stop", "refused: not every gate passes; the task keeps running", fix=fix))
            _report(args, results, **header, stopped=False)
            return cli.EXIT_FAILED
        forced = args.force and not passing
        if forced:
            print(f"FORCED: stopping despite failed gates; reason: {reason}", file=sys.stderr)
            results.append(_tag_forced(dms, arn, reason))
        try:
            state = dms_task.stop_task(dms, arn)
        except TaskError as error:
            audit.write("stop", arn, outcome=f"error: {error}", forced=forced, reason=reason or None, gates=gates)
            raise
        audit.write("stop", arn, outcome=state, forced=forced, reason=reason or None, gates=gates)
        evidence = f"stop {arn}: {state}" + (f" (FORCED despite failed gates: {reason})" if forced else "")
        results.append(passed("task.stop", evidence))
        _report(args, results, **header, stopped=True, forced=forced, reason=reason or None)
        return cli.EXIT_OK
    finally:
        if audit is not None:
            audit.close()


def run_pause(args: argparse.Namespace, dms: DatabaseMigrationServiceClient, arn: str) -> int:
    audit = AuditLog(args.audit_log)
    try:
        state = dms_task.stop_task(dms, arn)
        audit.write("pause", arn, outcome=state, reason=args.reason)
    finally:
        audit.close()
    result = passed("task.pause", f"stop {arn}: {state} (not a cutover: continue with `cutover start --resume`)")
    _report(args, [result], task_arn=arn)
    return cli.EXIT_OK


def run_reload(args: argparse.Namespace, config: EnvironmentConfig, dms: DatabaseMigrationServiceClient, arn: str) -> int:
    """The documented reload: the task is stopped; TRUNCATE the in-scope target tables; StartReplicationTask
    reload-target. TargetTablePrepMode is DO_NOTHING (contract/dms.py; DMS user guide, "Full-load task settings":
    "Data and metadata of the existing target table aren't affected"), so DMS itself would load on top of the rows."""
    dsn = dsn_from_env(args.truncate_target_dsn_env)
    status = str(dms_task.describe_task(dms, arn).get("Status", "unknown"))
    with connect(dsn, read_only=not args.yes_truncate) as target:
        tables = [table for table in write_freeze.scoped_tables(target, config.dms) if table.schema != config.dms.control_schema]
        if not tables:
            raise ReloadError(f"no tables in scope on the target {describe_dsn(dsn)}: is it the right database?")
        statement = sql.SQL("TRUNCATE TABLE {}").format(sql.SQL(", ").join(table.identifier for table in tables))
        text = statement.as_string(target)
        plan = f"{len(tables)} tables on the TARGET {describe_dsn(dsn)}: {text}; then StartReplicationTask reload-target"
        if status not in STOPPED_STATUSES:
            result = failed("task.reload", f"refused: the task is {status}; {plan}",
                            fix="stop it first (`cutover pause`); a task never started needs `cutover start`")  # fmt: skip
            _report(args, [result], task_arn=arn)
            return cli.EXIT_FAILED
        if not args.yes_truncate:
            result = failed("task.reload", f"nothing done; would truncate {plan}",
                            fix="add --yes-truncate to truncate these tables and reload")  # fmt: skip
            _report(args, [result], task_arn=arn)
            return cli.EXIT_FAILED
        audit = AuditLog(args.audit_log)
        try:
            try:
                with target.transaction():
                    target.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(TARGET_LOCK_TIMEOUT)))
                    target.execute(statement)
            except psycopg.Error as error:
                audit.write("reload", arn, outcome=f"truncate failed: {error}", truncated=[])
                raise ReloadError(f"TRUNCATE on the target failed, nothing truncated: {str(error).strip()}") from None
            names = [f"{table.schema}.{table.name}" for table in tables]
            try:
                state = dms_task.start_task(dms, arn, kind="reload-target")
            except TaskError as error:
                audit.write("reload", arn, outcome=f"start failed: {error}", truncated=names)
                raise TaskError(f"{error} (the target tables ARE truncated; run reload again)") from None
            audit.write("reload", arn, outcome=state, truncated=names)
        finally:
            audit.close()
    result = passed("task.reload", f"truncated {len(tables)} target tables; start (reload-target) {arn}: {state}")
    _report(args, [result], task_arn=arn)
    return cli.EXIT_OK


def run_freeze_sql(args: argparse.Namespace) -> int:
    config = cli.load_config(args)
    users = dms_users(args, config)
    with connect(cli.source_dsn(args, config), read_only=True) as source:
        try:
            statements = write_freeze.freeze_statements(source, config.dms, app_roles=args.app_role, dms_users=users)
        except ValueError as error:
            raise cli.UsageError(str(error)) from None
    if args.json:
        print(json.dumps({"freeze": statements.freeze, "rollback": statements.rollback}, indent=2))
    else:
        print(f"-- write freeze on {config.source.database_name} (run as a superuser or the tables' owner)")
        print("\n".join(statements.freeze))
        print("-- rollback (only before any write on Aurora matters: runbook step 10)")
        print("\n".join(statements.rollback))
    return cli.EXIT_OK


def run_sequences(args: argparse.Namespace) -> int:
    config = cli.optional_config(args)
    if config is None:
        raise cli.UsageError("sequences needs --env or --config (its dms.include/exclude define the scope)")
    if args.margin < 0:
        raise cli.UsageError("--margin must be >= 0")
    with connect(cli.source_dsn(args, config), read_only=True) as source:
        states = read_sequences(source, config.dms)
    if args.apply_dsn_env is None:
        if args.json:
            print(json.dumps([state.as_dict() for state in states], indent=2))
        else:
            print(f"{len(states)} sequences in scope on the source (nothing applied; give --apply-dsn-env to reset the target)")
            for state in states:
                print(
                    f"  {state.qualified:<50} last_value={state.last_value} is_called={state.is_called} "
                    f"increment_by={state.increment_by} -> target {state.target_value(args.margin)}"
                )
        return cli.EXIT_OK
    with connect(dsn_from_env(args.apply_dsn_env), read_only=False) as target:
        applied = apply_sequences(target, states, margin=args.margin)
    if args.json:
        print(json.dumps([item.__dict__ for item in applied], indent=2))
    else:
        print(f"{sum(item.changed for item in applied)} of {len(applied)} target sequences set (margin {args.margin})")
        for item in applied:
            action = "set" if item.changed else "already ahead, kept"
            print(
                f"  {item.sequence:<50} source {item.source_last_issued} target {item.target_before} -> "
                f"{item.target_after} ({action})"
            )
    return cli.EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    commands = {"sequences": run_sequences, "freeze-sql": run_freeze_sql}
    command = commands.get(args.command, run_task_command)
    return cli.run(lambda: command(args), TaskError, SourceConnectionError, SequenceResetError, ReloadError)


if __name__ == "__main__":
    sys.exit(main())
