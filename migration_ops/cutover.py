"""Cutover commands: drive the DMS task and reset sequences on Aurora.

    python -m migration_ops.cutover start  [--resume]
    python -m migration_ops.cutover status [--json]
    python -m migration_ops.cutover stop
        task: (--env ENV | --config PATH) [--suffix S] [--outputs FILE | --workdir DIR | --task-arn ARN]
              [--region R] [--endpoint-url URL]
    python -m migration_ops.cutover sequences (--env ENV | --config PATH)
        [--dsn-env VAR] [--from-secret] [--apply-dsn-env VAR] [--margin N] [--json]

The task is the stack's `dms_task_arn` output, found like verify finds outputs:
`terraform output -json` in cdktf.out/stacks/<stack> (or --workdir), or a saved
--outputs file; --task-arn names it directly (then --env is optional).
`sequences` reads every sequence in scope from the SOURCE and prints it; with
--apply-dsn-env (a variable holding the TARGET's libpq URI) it sets each target
sequence to the source's value + margin. Exit 0 on success, 2 on any error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from config import EnvironmentConfig
from contract.outputs import Output
from migration_ops import aws, cli, dms_task
from migration_ops.dms_task import TaskError, TaskStatus
from migration_ops.results import passed
from migration_ops.sequences import DEFAULT_MARGIN, SequenceResetError, apply_sequences, read_sequences
from migration_ops.source_db import SourceConnectionError, connect, dsn_from_env


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    cli.add_environment_arguments(common, required=False)
    cli.add_aws_arguments(common)
    cli.add_json_argument(common)

    task = argparse.ArgumentParser(add_help=False, parents=[common])
    cli.add_output_arguments(task).add_argument("--task-arn", help="ARN of the replication task (instead of the outputs)")

    parser = argparse.ArgumentParser(prog="python -m migration_ops.cutover", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", parents=[task], help="start replication (full load, then CDC)")
    start.add_argument("--resume", action="store_true", help="resume a stopped task (resume-processing)")
    commands.add_parser("status", parents=[task], help="task status, CDC latency, table statistics")
    commands.add_parser("stop", parents=[task], help="stop the task")
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
    config = cli.optional_config(args)
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
        kind = "resume-processing" if args.resume else "start-replication"
        what = f"start ({kind}) {arn}"
    else:
        what = f"stop {arn}"
    if not args.json:
        print(f"{what}: ", end="", flush=True)
    state = dms_task.start_task(dms, arn, resume=args.resume) if args.command == "start" else dms_task.stop_task(dms, arn)
    result = passed(f"task.{args.command}", f"{what}: {state}")
    print(cli.render_json([result], task_arn=arn) if args.json else state)
    return cli.exit_code([result])


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
    command = run_sequences if args.command == "sequences" else run_task_command
    return cli.run(lambda: command(args), TaskError, SourceConnectionError, SequenceResetError)


if __name__ == "__main__":
    sys.exit(main())
