"""`cutover start [--resume]`: start-replication only on a task never run; resume-processing only on one that has.

API reference, StartReplicationTask: any other type on a first run "will result in data errors".
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from migration_ops import cli
from migration_ops.cutover import dms_task
from migration_ops.cutover.dms_task import StartType
from migration_ops.cutover.subcommand import TaskOptions, add_task_arguments
from migration_ops.cutover.task import open_task, report
from migration_ops.results import failed, passed
from plumbing.exit_codes import ExitCode

NAME = "start"
HELP = "start replication (full load, then CDC) on a task never run"
COMMAND_HELP = cli.CommandHelp(
    succeeded="the task was sent start-replication (or, with --resume, resume-processing)",
    failed="refused: start-replication on a task that has run before, or --resume on one that never ran; nothing was sent",
    credentials=(cli.AWS_CREDENTIALS,),
    needs_aws=True,
    aws="DMS: the task's state, its table statistics, StartReplicationTask.",
)


@dataclass(frozen=True, kw_only=True)
class StartOptions:
    task: TaskOptions
    resume: bool = False


OPTIONS = StartOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_task_arguments(parser)
    parser.add_argument("--resume", action="store_true", help="resume a stopped task (resume-processing)")


def run(options: StartOptions) -> int:
    task = open_task(options.task, cli.optional_config(options.task.environment))
    dms, arn, as_json = task.dms, task.arn, options.task.json
    kind: StartType = "resume-processing" if options.resume else "start-replication"
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
        report([refusal], json=as_json, task_arn=arn)
        return ExitCode.FAILED
    if not as_json:
        print(f"{what}: ", end="", flush=True)
    state = dms_task.start_task(dms, arn, kind=kind)
    result = passed("task.start", f"{what}: {state}")
    print(cli.render_json([result], task_arn=arn) if as_json else state)
    return ExitCode.OK
