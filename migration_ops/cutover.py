"""Cutover commands: drive the DMS task and reset sequences on Aurora.

    python -m migration_ops.cutover start  (--task-arn ARN | --outputs FILE) [--resume]
    python -m migration_ops.cutover status (--task-arn ARN | --outputs FILE) [--json]
    python -m migration_ops.cutover stop   (--task-arn ARN | --outputs FILE)
        common: [--env ENV | --config PATH] [--region R] [--endpoint-url URL]
    python -m migration_ops.cutover sequences (--env ENV | --config PATH)
        [--dsn-env VAR | --from-secret] [--apply-dsn-env VAR] [--margin N] [--json]

--outputs is `terraform output -json` (or a cdktf outputs file) with key
dms_task_arn. `sequences` reads every sequence in scope from the SOURCE and
prints it; with --apply-dsn-env (a variable holding the TARGET's libpq URI) it
sets each target sequence to the source's value + margin. Exit 0 on success,
2 on any error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import boto3
from botocore.config import Config

from config import ConfigError, EnvironmentConfig
from migration_ops import dms_task
from migration_ops.dms_task import TaskError, TaskStatus
from migration_ops.ops_config import UsageError, load_config
from migration_ops.sequences import DEFAULT_MARGIN, SequenceResetError, apply_sequences, read_sequences
from migration_ops.source_db import (
    SourceConnectionError,
    connect,
    dsn_from_config,
    dsn_from_env,
    secret_credentials,
    with_credentials,
)

EXIT_OK = 0
EXIT_ERROR = 2
TASK_OUTPUT = "dms_task_arn"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    which = common.add_mutually_exclusive_group()
    which.add_argument("--env", help="environment in config/ (file stem or environment_suffix)")
    which.add_argument("--config", type=Path, help="path of an environment TOML file")
    common.add_argument("--region", help="AWS region (default: aws_region of the config, else the AWS default)")
    common.add_argument("--endpoint-url", help="AWS API endpoint (an emulator)")

    task = argparse.ArgumentParser(add_help=False, parents=[common])
    arn = task.add_mutually_exclusive_group(required=True)
    arn.add_argument("--task-arn", help="ARN of the replication task")
    arn.add_argument("--outputs", type=Path, help=f"`terraform output -json` file with key {TASK_OUTPUT}")

    parser = argparse.ArgumentParser(prog="python -m migration_ops.cutover", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", parents=[task], help="start replication (full load, then CDC)")
    start.add_argument("--resume", action="store_true", help="resume a stopped task (resume-processing)")
    status = commands.add_parser("status", parents=[task], help="task status, CDC latency, table statistics")
    status.add_argument("--json", action="store_true")
    commands.add_parser("stop", parents=[task], help="stop the task")
    sequences = commands.add_parser("sequences", parents=[common], help="read source sequences; --apply-dsn-env resets them")
    sequences.add_argument("--dsn-env", metavar="VAR", help="variable holding the SOURCE libpq URI (default: from config)")
    sequences.add_argument("--from-secret", action="store_true", help="source user/password from credentials_secret_arn")
    sequences.add_argument("--apply-dsn-env", metavar="VAR", help="variable holding the TARGET libpq URI: apply setval there")
    sequences.add_argument("--margin", type=int, default=DEFAULT_MARGIN, help=f"added to each value (default {DEFAULT_MARGIN})")
    sequences.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def task_arn_from_outputs(path: Path) -> str:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"--outputs {path}: file not found") from None
    except ValueError as error:
        raise UsageError(f"--outputs {path}: not JSON ({error})") from None
    if not isinstance(document, Mapping):
        raise UsageError(f"--outputs {path}: expected a JSON object")
    candidates = [document, *(value for value in document.values() if isinstance(value, Mapping))]
    for candidate in candidates:
        value = candidate.get(TASK_OUTPUT)
        if isinstance(value, Mapping):
            value = value.get("value")
        if isinstance(value, str) and value:
            return value
    raise UsageError(f"--outputs {path}: no {TASK_OUTPUT} output")


def optional_config(args: argparse.Namespace) -> EnvironmentConfig | None:
    if args.env is None and args.config is None:
        return None
    return load_config(env=args.env, config_path=args.config)


def session(args: argparse.Namespace, config: EnvironmentConfig | None) -> boto3.session.Session:
    region = args.region or (config.aws_region if config else None)
    aws = boto3.session.Session(region_name=region)
    if aws.region_name is None:
        raise UsageError("no AWS region: give --region (or --env)")
    return aws


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
    config = optional_config(args)
    arn = args.task_arn or task_arn_from_outputs(args.outputs)
    aws = session(args, config)
    settings = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60)
    dms = aws.client("dms", endpoint_url=args.endpoint_url, config=settings)
    if args.command == "start":
        print(f"start {'(resume-processing)' if args.resume else '(start-replication)'} {arn}: ", end="", flush=True)
        print(dms_task.start_task(dms, arn, resume=args.resume))
    elif args.command == "stop":
        print(f"stop {arn}: {dms_task.stop_task(dms, arn)}")
    else:
        cloudwatch = aws.client("cloudwatch", endpoint_url=args.endpoint_url, config=settings)
        status = dms_task.task_status(dms, cloudwatch, arn)
        print(json.dumps(status.as_dict(), indent=2, default=str) if args.json else render_status(status))
    return EXIT_OK


def run_sequences(args: argparse.Namespace) -> int:
    config = optional_config(args)
    if config is None:
        raise UsageError("sequences needs --env or --config (its dms.include/exclude define the scope)")
    if args.margin < 0:
        raise UsageError("--margin must be >= 0")
    dsn = dsn_from_env(args.dsn_env) if args.dsn_env else dsn_from_config(config.source)
    if args.from_secret:
        region = args.region or config.aws_region
        credentials = secret_credentials(config.source.credentials_secret_arn, region=region, endpoint_url=args.endpoint_url)
        dsn = with_credentials(dsn, credentials)
    with connect(dsn, read_only=True) as source:
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
        return EXIT_OK
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
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run_sequences(args) if args.command == "sequences" else run_task_command(args)
    except ConfigError as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
    except (UsageError, TaskError, SourceConnectionError, SequenceResetError) as error:
        print(f"error: {error}", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
