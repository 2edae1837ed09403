"""What a cutover subcommand is, and the argument groups several subcommands share.

A subcommand is a module in subcommands/ that has what `Subcommand` names: its NAME and HELP, the end of its
--help (COMMAND_HELP: exit codes, credentials, AWS), how it adds its arguments, its OPTIONS class (a frozen dataclass
whose fields are the arguments' dests, validated in `__post_init__`; command.py builds it with `cli.options_from`),
and what it runs with those options. Its module docstring is the description its --help shows. command.py lists
the modules in `SUBCOMMANDS` (mypy checks each against `Subcommand`): a new subcommand is a module and one name there.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from migration_ops import cli
from migration_ops.cutover.audit import DEFAULT_AUDIT_LOG


class Subcommand(Protocol):
    NAME: str
    HELP: str
    COMMAND_HELP: cli.CommandHelp
    OPTIONS: type[Any]
    """The options dataclass: `cli.options_from(namespace, OPTIONS)` is what `run` gets."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, options: Any) -> int: ...


@dataclass(frozen=True, kw_only=True)
class Invocation:
    """A parsed command line: the subcommand and its options."""

    command: Subcommand
    options: Any

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
        "--dms-user", dest="dms_users", action="append", default=[], metavar="ROLE",
        help="the source role DMS connects as (repeatable; default: username in source.credentials_secret_arn)",
    )  # fmt: skip
