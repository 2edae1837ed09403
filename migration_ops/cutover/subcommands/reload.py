"""`cutover reload`: the documented reload. The task is stopped; TRUNCATE ONLY the TARGET tables DMS loads; then
StartReplicationTask reload-target.

Which tables: the scope read on the SOURCE with the task's own mappings (--dsn-env/--from-secret), partitioned
tables as their leaf partitions, intersected with the ordinary tables on the target (migrated.py); a table that
exists only on Aurora is never touched. The plan (without --yes-truncate) prints the one statement the apply runs.

TargetTablePrepMode is DO_NOTHING (contract/dms.py; DMS user guide, "Full-load task settings": "Data and metadata
of the existing target table aren't affected"), so DMS itself would load on top of the rows. Without
--yes-truncate only the plan is printed (exit 1).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from migration_ops import cli
from migration_ops.cutover import dms_task, migrated
from migration_ops.cutover.audit import DEFAULT_AUDIT_LOG, AuditLog
from migration_ops.cutover.dms_task import STOPPED_STATUSES, TaskError
from migration_ops.cutover.migrated import TableName
from migration_ops.cutover.subcommand import TaskOptions, add_audit_argument, add_task_arguments
from migration_ops.cutover.task import open_task, report
from migration_ops.errors import OpsError
from migration_ops.postgres import connect, describe_dsn, dsn_from_env
from migration_ops.results import failed, passed
from plumbing.exit_codes import ExitCode
from plumbing.text import first_line, listed

NAME = "reload"
HELP = "truncate the TARGET tables the task loads, then start reload-target"
COMMAND_HELP = cli.CommandHelp(
    succeeded="the target tables the task loads were truncated and the task was sent reload-target",
    failed="refused, nothing changed: the task is not stopped, or the dry run without --yes-truncate (the plan is printed)",
    credentials=(
        cli.SOURCE_CREDENTIALS,
        cli.SECRET_CREDENTIALS,
        cli.target_credentials("--truncate-target-dsn-env"),
        cli.AWS_CREDENTIALS,
    ),
    needs_aws=True,
    aws="DMS: the task's state and StartReplicationTask reload-target; STS: the caller identity for the audit log.",
)

TARGET_LOCK_TIMEOUT = "10s"


class ReloadError(OpsError):
    """The target tables could not be truncated: exit 2 with this message."""


@dataclass(frozen=True, kw_only=True)
class ReloadOptions:
    task: TaskOptions
    truncate_target_dsn_env: str
    yes_truncate: bool = False
    audit_log: Path = DEFAULT_AUDIT_LOG
    source: cli.SourceOptions = field(default_factory=cli.SourceOptions)
    """Where the scope is read: the SOURCE (--dsn-env, else the config; --from-secret)."""


OPTIONS = ReloadOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_task_arguments(parser)
    add_audit_argument(parser)
    cli.add_source_arguments(parser)
    parser.add_argument(
        "--truncate-target-dsn-env", metavar="VAR", required=True, help="variable holding the TARGET (Aurora) libpq URI"
    )
    parser.add_argument("--yes-truncate", action="store_true", help="really truncate; without it only the plan is printed")


def _truncate_statement(target: psycopg.Connection[Any], tables: Sequence[TableName]) -> sql.Composed:
    """One TRUNCATE of exactly `tables`, each `ONLY` (migrated.py says why): all of them, or none on an error.

    ONLY belongs to one name (`TRUNCATE [ ONLY ] name [ * ] [, ... ]`): `TRUNCATE ONLY a, b` still empties b's
    inheritance children, so every name carries its own."""
    only = sql.SQL(", ").join(sql.SQL("ONLY {}").format(sql.Identifier(*table)) for table in tables)
    return sql.SQL("TRUNCATE {}").format(only)


def run(options: ReloadOptions) -> int:
    config = cli.load_config(options.task.environment)
    task = open_task(options.task, config)
    dms, arn, as_json = task.dms, task.arn, options.task.json
    dsn = dsn_from_env(options.truncate_target_dsn_env)
    status = str(dms_task.describe_task(dms, arn).get("Status", "unknown"))
    # The target first: a bad --truncate-target-dsn-env fails before anything reaches the source.
    with connect(dsn, read_only=not options.yes_truncate) as target:
        with connect(cli.source_dsn(options.source, config, options.task.aws), read_only=True) as source:
            scope = migrated.source_scope(source, config.dms)
        found = migrated.on_target(target, scope)
        tables = found.loaded
        if not tables:
            raise ReloadError(
                f"none of the {len(scope.loaded)} tables in scope on the source is on the target {describe_dsn(dsn)}: "
                "is it the right database?"
            )
        statement = _truncate_statement(target, tables)
        text = statement.as_string(target)
        names = [migrated.qualified(table) for table in tables]
        missing = [migrated.qualified(table) for table in found.missing_on_target]
        left_alone = f" ({len(missing)} in scope but not on the target, left alone: {listed(missing)})" if missing else ""
        plan = (f"{len(tables)} tables on the TARGET {describe_dsn(dsn)}: {text}{left_alone}; "
                "then StartReplicationTask reload-target")  # fmt: skip
        if status not in STOPPED_STATUSES:
            result = failed("task.reload", f"refused: the task is {status}; {plan}",
                            fix="stop it first (`cutover pause`); a task never started needs `cutover start`")  # fmt: skip
            report([result], json=as_json, task_arn=arn)
            return ExitCode.FAILED
        if not options.yes_truncate:
            result = failed("task.reload", f"nothing done; would truncate {plan}",
                            fix="add --yes-truncate to truncate these tables and reload")  # fmt: skip
            report([result], json=as_json, task_arn=arn, truncate=names, statement=text)
            return ExitCode.FAILED
        audit = AuditLog(options.audit_log, task.operator())
        try:
            audit.write("reload", arn, intent="truncating", tables=names, statement=text)
            try:
                with target.transaction():
                    target.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(TARGET_LOCK_TIMEOUT)))
                    target.execute(statement)
            except psycopg.Error as error:
                audit.write("reload", arn, outcome=f"truncate failed: {first_line(error)}", truncated=[])
                raise ReloadError(f"TRUNCATE on the target failed, nothing truncated: {first_line(error)}") from None
            try:
                state = dms_task.start_task(dms, arn, kind="reload-target")
            except TaskError as error:
                audit.write("reload", arn, outcome=f"start failed: {error}", truncated=names)
                raise TaskError(f"{error} (the target tables ARE truncated; run reload again)") from None
            audit.write("reload", arn, outcome=state, truncated=names)
        finally:
            audit.close()
    result = passed("task.reload", f"truncated {len(tables)} target tables; start (reload-target) {arn}: {state}")
    report([result], json=as_json, task_arn=arn, truncated=names, statement=text)
    return ExitCode.OK
