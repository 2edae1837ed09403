"""`cutover target-user`: create or update the least-privilege DMS target user on Aurora (../target_user.py)."""

from __future__ import annotations

import argparse

from migration_ops import cli
from migration_ops.cutover.subcommand import add_common_arguments
from migration_ops.cutover.target_user import (
    TargetUserOptions,
    add_target_user_arguments,
    run_target_user,
)

NAME = "target-user"
HELP = 'create or update the DMS target user on Aurora from its secret (dms.target_user = "dedicated")'
COMMAND_HELP = cli.CommandHelp(
    succeeded="the user exists with exactly the privileges DMS needs; it logged in and ran the endpoint's after-connect script",
    failed="a privilege could not be granted or the login check failed (the message says the two ways out)",
    credentials=(
        (
            "target database",
            "user and password from the secrets; host, port and database from the secret_arn secret, or "
            "from the libpq URI in the variable --target-dsn-env names (its user and password are ignored)",
        ),
        cli.AWS_CREDENTIALS,
    ),
    needs_aws=True,
    aws="Secrets Manager: GetSecretValue on the secret_arn (master) and dms_target_secret_arn (DMS target user) outputs.",
)
OPTIONS = TargetUserOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    cli.add_output_arguments(parser)
    add_target_user_arguments(parser)


def run(options: TargetUserOptions) -> int:
    return run_target_user(options)
