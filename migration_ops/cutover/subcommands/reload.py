"""`cutover reload`: the documented reload. The task is stopped; TRUNCATE the in-scope TARGET tables; then
StartReplicationTask reload-target.

TargetTablePrepMode is DO_NOTHING (contract/dms.py; DMS user guide, "Full-load task settings": "Data and metadata
of the existing target table aren't affected"), so DMS itself would load on top of the rows. Without
--yes-truncate only the plan is printed (exit 1).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from migration_ops import catalog, cli
from migration_ops.cutover import dms_task
from migration_ops.cutover.audit import DEFAULT_AUDIT_LOG, AuditLog
from migration_ops.cutover.dms_task import STOPPED_STATUSES, TaskError
from migration_ops.cutover.subcommand import TaskOptions, add_audit_argument, add_task_arguments
from migration_ops.cutover.task import open_task, report
from migration_ops.errors import OpsError
from migration_ops.postgres import connect, describe_dsn, dsn_from_env
from migration_ops.results import failed, passed
from plumbing.exit_codes import ExitCode

NAME = "reload"
HELP = "truncate the in-scope TARGET tables, then start reload-target"
COMMAND_HELP = cli.CommandHelp(
    succeeded="the target tables were truncated and the task was sent reload-target",
    failed="refused, nothing changed: the task is not stopped, or the dry run without --yes-truncate (the plan is printed)",
    credentials=(cli.target_credentials("--truncate-target-dsn-env"), cli.AWS_CREDENTIALS),
    needs_aws=True,
    aws="DMS: the task's state and StartReplicationTask reload-target.",
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


OPTIONS = ReloadOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_task_arguments(parser)
    add_audit_argument(parser)
    parser.add_argument(
        "--truncate-target-dsn-env", metavar="VAR", required=True, help="variable holding the TARGET (Aurora) libpq URI"
    )
    parser.add_argument("--yes-truncate", action="store_true", help="really truncate; without it only the plan is printed")


def run(options: ReloadOptions) -> int:
    config = cli.load_config(options.task.environment)
    task = open_task(options.task, config)
    dms, arn, as_json = task.dms, task.arn, options.task.json
    dsn = dsn_from_env(options.truncate_target_dsn_env)
    status = str(dms_task.describe_task(dms, arn).get("Status", "unknown"))
    with connect(dsn, read_only=not options.yes_truncate) as target:
        tables = [table for table in catalog.scoped_tables(target, config.dms) if table.schema != config.dms.control_schema]
        if not tables:
            raise ReloadError(f"no tables in scope on the target {describe_dsn(dsn)}: is it the right database?")
        identifiers = sql.SQL(", ").join(sql.Identifier(table.schema, table.name) for table in tables)
        statement = sql.SQL("TRUNCATE TABLE {}").format(identifiers)
        text = statement.as_string(target)
        plan = f"{len(tables)} tables on the TARGET {describe_dsn(dsn)}: {text}; then StartReplicationTask reload-target"
        if status not in STOPPED_STATUSES:
            result = failed("task.reload", f"refused: the task is {status}; {plan}",
                            fix="stop it first (`cutover pause`); a task never started needs `cutover start`")  # fmt: skip
            report([result], json=as_json, task_arn=arn)
            return ExitCode.FAILED
        if not options.yes_truncate:
            result = failed("task.reload", f"nothing done; would truncate {plan}",
                            fix="add --yes-truncate to truncate these tables and reload")  # fmt: skip
            report([result], json=as_json, task_arn=arn)
            return ExitCode.FAILED
        audit = AuditLog(options.audit_log)
        try:
            try:
                with target.transaction():
                    target.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(TARGET_LOCK_TIMEOUT)))
                    target.execute(statement)
            except psycopg.Error as error:
                audit.write("reload", arn, outcome=f"truncate failed: {error}", truncated=[])
                raise ReloadError(f"TRUNCATE on the target failed, nothing truncated: {str(error).strip()}") from None
            names = [table.qualified for table in tables]
            try:
                state = dms_task.start_task(dms, arn, kind="reload-target")
            except TaskError as error:
                audit.write("reload", arn, outcome=f"start failed: {error}", truncated=names)
                raise TaskError(f"{error} (the target tables ARE truncated; run reload again)") from None
            audit.write("reload", arn, outcome=state, truncated=names)
        finally:
            audit.close()
    result = passed("task.reload", f"truncated {len(tables)} target tables; start (reload-target) {arn}: {state}")
    report([result], json=as_json, task_arn=arn)
    return ExitCode.OK
