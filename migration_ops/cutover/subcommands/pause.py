"""`cutover pause [--reason TEXT]`: stop the task for a change during replication, not a cutover (no gates).

Continue with `cutover start --resume`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from migration_ops import cli
from migration_ops.cutover import dms_task
from migration_ops.cutover.audit import DEFAULT_AUDIT_LOG, AuditLog
from migration_ops.cutover.dms_task import TaskError
from migration_ops.cutover.subcommand import TaskOptions, add_audit_argument, add_task_arguments
from migration_ops.cutover.task import open_task, report
from migration_ops.results import passed
from plumbing.exit_codes import ExitCode

NAME = "pause"
HELP = "stop the task for a change, not a cutover (no gates)"
COMMAND_HELP = cli.CommandHelp(
    succeeded="the task was sent StopReplicationTask (continue with `cutover start --resume`)",
    failed="not used (pause has no gates)",
    credentials=(cli.AWS_CREDENTIALS,),
    needs_aws=True,
    aws="DMS: StopReplicationTask on the task.",
)


@dataclass(frozen=True, kw_only=True)
class PauseOptions:
    task: TaskOptions
    audit_log: Path = DEFAULT_AUDIT_LOG
    reason: str | None = None


OPTIONS = PauseOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_task_arguments(parser)
    add_audit_argument(parser)
    parser.add_argument("--reason", help="recorded in the audit log")


def run(options: PauseOptions) -> int:
    task = open_task(options.task, cli.load_config(options.task.environment))
    audit = AuditLog(options.audit_log, task.operator())
    try:
        audit.write("pause", task.arn, intent="pausing", reason=options.reason)
        try:
            state = dms_task.stop_task(task.dms, task.arn)
        except TaskError as error:
            audit.write("pause", task.arn, outcome=f"error: {error}", reason=options.reason)
            raise
        audit.write("pause", task.arn, outcome=state, reason=options.reason)
    finally:
        audit.close()
    result = passed("task.pause", f"stop {task.arn}: {state} (not a cutover: continue with `cutover start --resume`)")
    report([result], json=options.task.json, task_arn=task.arn)
    return ExitCode.OK
