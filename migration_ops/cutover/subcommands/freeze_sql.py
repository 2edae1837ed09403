"""`cutover freeze-sql --app-role ROLE ...`: print the write-freeze SQL for the application roles and its rollback
(freeze_statements.py); runs nothing on the source but catalog reads."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from migration_ops import cli
from migration_ops.cutover.freeze_statements import freeze_statements
from migration_ops.cutover.subcommand import add_common_arguments, add_dms_user_argument
from migration_ops.cutover.task import dms_users
from migration_ops.postgres import connect
from plumbing.exit_codes import ExitCode

NAME = "freeze-sql"
HELP = "print the write-freeze SQL and its rollback"
COMMAND_HELP = cli.CommandHelp(
    succeeded="the freeze SQL and its rollback were printed (nothing runs on the source but catalog reads)",
    failed="not used",
    credentials=(cli.SOURCE_CREDENTIALS, cli.SECRET_CREDENTIALS, cli.AWS_CREDENTIALS),
    needs_aws=False,
    aws="Only Secrets Manager, and only to read source.credentials_secret_arn: with --from-secret, and for the DMS "
    "user's name when no --dms-user is given.",
)


@dataclass(frozen=True, kw_only=True)
class FreezeSqlOptions:
    environment: cli.EnvironmentOptions
    aws: cli.AwsOptions
    source: cli.SourceOptions
    app_roles: tuple[str, ...]
    dms_users: tuple[str, ...] = ()
    json: bool = False


OPTIONS = FreezeSqlOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    add_dms_user_argument(parser)
    cli.add_source_arguments(parser)
    parser.add_argument(
        "--app-role", dest="app_roles", action="append", required=True, metavar="ROLE", help="an application role (repeatable)"
    )


def run(options: FreezeSqlOptions) -> int:
    config = cli.load_config(options.environment)
    users = dms_users(options.dms_users, config, options.aws)
    with connect(cli.source_dsn(options.source, config, options.aws), read_only=True) as source:
        statements = freeze_statements(source, config.dms, app_roles=options.app_roles, dms_users=users)
    if options.json:
        print(json.dumps({"freeze": statements.freeze, "rollback": statements.rollback}, indent=2))
    else:
        print(f"-- write freeze on {config.source.database_name} (run as a superuser or the tables' owner)")
        print("\n".join(statements.freeze))
        print("-- rollback (only before any write on Aurora matters: runbook step 10)")
        print("\n".join(statements.rollback))
    return ExitCode.OK
