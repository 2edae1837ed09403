"""`cutover status [--json]`: the task's status, CDC latency and table statistics; changes nothing."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from migration_ops import cli
from migration_ops.cutover import dms_task
from migration_ops.cutover.dms_task import TaskStatus
from migration_ops.cutover.subcommand import TaskOptions, add_task_arguments
from migration_ops.cutover.task import open_task
from plumbing.exit_codes import ExitCode

NAME = "status"
HELP = "task status, CDC latency, table statistics"
COMMAND_HELP = cli.CommandHelp(
    succeeded="the status was printed",
    failed="not used (status changes nothing and refuses nothing)",
    credentials=(cli.AWS_CREDENTIALS,),
    needs_aws=True,
    aws="DMS (the task, its table statistics) and CloudWatch (CDC latency of the last 30 minutes).",
)


@dataclass(frozen=True, kw_only=True)
class StatusOptions:
    task: TaskOptions


OPTIONS = StatusOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_task_arguments(parser)


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


def run(options: StatusOptions) -> int:
    task = open_task(options.task, cli.optional_config(options.task.environment))
    status = dms_task.task_status(task.dms, task.cloudwatch(), task.arn)
    print(json.dumps(status.as_dict(), indent=2, default=str) if options.task.json else render_status(status))
    return ExitCode.OK
