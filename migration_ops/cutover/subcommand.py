"""What a cutover subcommand is, and the argument groups several subcommands share.

A subcommand is a module in subcommands/ holding one `COMMAND = Subcommand(...)`: its name and help, how it
adds its arguments, how it reads them into its frozen options object (the only place that reads the argparse
namespace), and what it runs with those options. command.py lists them in `SUBCOMMANDS`: a new subcommand is a
module and one line there.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from migration_ops import cli
from migration_ops.cutover.audit import DEFAULT_AUDIT_LOG

OptionsT = TypeVar("OptionsT")


@dataclass(frozen=True, kw_only=True)
class Subcommand(Generic[OptionsT]):
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    read_options: Callable[[argparse.Namespace], OptionsT]
    """Namespace to options, validating what argparse cannot (raises UsageError)."""
    run: Callable[[OptionsT], int]


@dataclass(frozen=True, kw_only=True)
class Invocation(Generic[OptionsT]):
    """A parsed command line: the subcommand and its options."""

    command: Subcommand[OptionsT]
    options: OptionsT

    def run(self) -> int:
        return self.command.run(self.options)


# --- shared argument groups ----------------------------------------------------------------------


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """--env/--config (optional here; the subcommands that need a config say so), --suffix, --region,
    --endpoint-url, --json."""
    cli.add_environment_arguments(parser, required=False)
    cli.add_aws_arguments(parser)
    cli.add_json_argument(parser)


@dataclass(frozen=True, kw_only=True)
class TaskOptions:
    """Which task, in which account: what every subcommand that drives the task reads."""

    environment: cli.EnvironmentOptions
    aws: cli.AwsOptions
    outputs: cli.OutputOptions
    task_arn: str | None = None
    json: bool = False

    @classmethod
    def from_namespace(cls, args: argparse.Namespace) -> TaskOptions:
        return cls(
            environment=cli.EnvironmentOptions.from_namespace(args),
            aws=cli.AwsOptions.from_namespace(args),
            outputs=cli.OutputOptions.from_namespace(args),
            task_arn=args.task_arn,
            json=args.json,
        )


def add_task_arguments(parser: argparse.ArgumentParser) -> None:
    """The common arguments, and where the task is: --outputs FILE | --workdir DIR | --task-arn ARN."""
    add_common_arguments(parser)
    cli.add_output_arguments(parser).add_argument("--task-arn", help="ARN of the replication task (instead of the outputs)")


def add_audit_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--audit-log", type=Path, default=DEFAULT_AUDIT_LOG, help=f"JSON lines of every decision (default {DEFAULT_AUDIT_LOG})"
    )


def add_dms_user_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dms-user", action="append", default=[], metavar="ROLE",
        help="the source role DMS connects as (repeatable; default: username in source.credentials_secret_arn)",
    )  # fmt: skip
