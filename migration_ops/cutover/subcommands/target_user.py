"""`cutover target-user`: create or update the least-privilege DMS target user on Aurora (../target_user.py)."""

from __future__ import annotations

import argparse

from migration_ops import cli
from migration_ops.cutover.subcommand import add_common_arguments
from migration_ops.cutover.target_user import (
    TargetUserOptions,
    add_target_user_arguments,
    read_target_user_options,
    run_target_user,
)

NAME = "target-user"
HELP = 'create or update the DMS target user on Aurora from its secret (dms.target_user = "dedicated")'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    cli.add_output_arguments(parser)
    add_target_user_arguments(parser)


def read_options(args: argparse.Namespace) -> TargetUserOptions:
    return read_target_user_options(args)


def run(options: TargetUserOptions) -> int:
    return run_target_user(options)
