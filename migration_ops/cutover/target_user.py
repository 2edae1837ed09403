"""`cutover target-user`: create or update the least-privilege DMS target user on Aurora (`dms.target_user = "dedicated"`).

    python -m migration_ops.cutover target-user (--env ENV | --config PATH) [--suffix S]
        [--outputs FILE | --workdir DIR] [--region R] [--endpoint-url URL] [--target-dsn-env VAR] [--json]

(the subcommand: subcommands/target_user.py).

Reads the master credentials from the credentials secret (output `secret_arn`)
and the dedicated user's from its own secret (output `dms_target_secret_arn`),
never printing either; connects to the Aurora writer as the master user (host,
port and database from the secret, sslmode=require, or the libpq URI in
`--target-dsn-env` with the secrets' user and password); creates or updates the
role with what DMS needs (migration_ops/cutover/target_user_sql.py says what and
why), reads every privilege back and logs in as the user to run the endpoint's
after-connect script. Run it after deploy, before `verify` tests the endpoint
connection, again after the schema is created on Aurora and after every deploy
that rewrote the user's secret (runbook, "The DMS target user").

Exit codes: 0 the user is ready (warnings allowed: read them); 1 refused (the
config is in `master` mode, a role of that name was not made by this command)
or a check failed (the master may not grant SET on session_replication_role:
the FAIL line names the two ways out); 2 the command could not run (outputs,
secrets, the connection, a database error).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import make_conninfo

from config import EnvironmentConfig
from contract.outputs import Output
from migration_ops import aws, catalog, cli
from migration_ops.cutover.target_user_sql import (
    Table,
    TargetUserError,
    create_target_user,
    login_check,
    verify_target_user,
)
from migration_ops.errors import UsageError
from migration_ops.postgres import Credentials, connect, dsn_from_env, secret_document, with_credentials
from migration_ops.results import CheckResult, Status, failed, worst
from plumbing.exit_codes import ExitCode

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

__all__ = [
    "TargetUserError",
    "TargetUserOptions",
    "add_target_user_arguments",
    "create_target_user",
    "login_check",
    "run_target_user",
    "target_user",
    "verify_target_user",
]

TARGET_SSLMODE = "require"


@dataclass(frozen=True, kw_only=True)
class TargetUserOptions:
    environment: cli.EnvironmentOptions
    """The config: `dms.target_user`, `dms.target_username`, the scope (`dms.include`/`exclude`), `dms.control_schema`."""
    aws: cli.AwsOptions = field(default_factory=cli.AwsOptions)
    outputs: cli.OutputOptions = field(default_factory=cli.OutputOptions)
    """Where `secret_arn` and `dms_target_secret_arn` come from."""
    target_dsn_env: str | None = None
    """Variable holding a libpq URI of the writer (host, port, dbname, TLS); default: host/port/dbname of the credentials
    secret with sslmode=require. User and password always come from the secrets."""
    json: bool = False

    def __post_init__(self) -> None:
        if not self.environment.given:
            raise UsageError("target-user needs --env or --config (its dms section names the user and the tables)")


def add_target_user_arguments(parser: argparse.ArgumentParser) -> None:
    """--target-dsn-env: this command's own argument (the environment, AWS and output groups come from cli)."""
    parser.add_argument(
        "--target-dsn-env", metavar="VAR",
        help="variable holding the Aurora writer's libpq URI (default: host/port/dbname of the secret_arn secret, "
        f"sslmode={TARGET_SSLMODE}); user and password come from the secrets",
    )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class DatabaseSecret:
    """A secret in the credentials secret's shape; `password` is never printed."""

    arn: str
    username: str
    password: str
    host: str
    port: int
    dbname: str

    @property
    def credentials(self) -> Credentials:
        return Credentials(username=self.username, password=self.password)


def read_secret(client: SecretsManagerClient, arn: str) -> DatabaseSecret:
    """username, password, host, port, dbname of a secret; errors name the secret, never its value."""
    document = secret_document(client, arn, error=TargetUserError)
    if not isinstance(document, dict):
        raise TargetUserError(f"secret {arn}: expected a JSON object")
    missing = [key for key in ("username", "password", "host", "port") if not document.get(key)]
    if missing:
        raise TargetUserError(f"secret {arn}: missing {', '.join(missing)}")
    try:
        port = int(document["port"])
    except (TypeError, ValueError):
        raise TargetUserError(f"secret {arn}: port is not a number") from None
    return DatabaseSecret(
        arn=arn,
        username=str(document["username"]),
        password=str(document["password"]),
        host=str(document["host"]),
        port=port,
        dbname=str(document.get("dbname") or ""),
    )


def migrated_tables(conn: psycopg.Connection[Any], config: EnvironmentConfig) -> list[Table]:
    """The tables of the task's scope that exist on this (target) database, outside the control schema."""
    return [
        Table(schema=relation.schema, name=relation.name)
        for relation in catalog.scoped_relations(conn, config.dms)
        if relation.is_table and relation.schema != config.dms.control_schema
    ]


def secretsmanager_client(*, region: str, endpoint_url: str | None = None) -> SecretsManagerClient:
    return aws.session(region).client("secretsmanager", endpoint_url=endpoint_url, config=aws.client_settings(read_timeout=30))


def run_target_user(options: TargetUserOptions) -> int:
    """The command: the config, the stack's outputs and a Secrets Manager client in --region (else the config's)."""
    config = cli.load_config(options.environment)
    dedicated = config.dms.target_user == "dedicated"  # else target_user refuses without reading anything
    outputs = cli.stack_outputs(options.outputs, config.stack_name) if dedicated else {}
    secrets = secretsmanager_client(region=options.aws.region_of(config), endpoint_url=options.aws.endpoint_url)
    return target_user(options, config=config, outputs=outputs, secrets=secrets)


def target_user(
    options: TargetUserOptions, *, config: EnvironmentConfig, outputs: Mapping[str, Any], secrets: SecretsManagerClient
) -> int:
    """Exit 0 the user is ready, 1 refused or a check failed. Raises an OpsError (exit 2): TargetUserError, UsageError,
    DatabaseConnectionError."""
    if config.dms.target_user != "dedicated":
        result = failed(
            "target-user.mode",
            f'refused: dms.target_user is "{config.dms.target_user}": the target endpoint logs in as the master user',
            fix='set dms.target_user = "dedicated" and deploy first (the stack then creates the user\'s secret)',
        )
        _report(options, [result], config=config, username=None)
        return ExitCode.FAILED
    master = read_secret(secrets, cli.required_output(outputs, Output.SECRET_ARN))
    dedicated = read_secret(secrets, cli.required_output(outputs, Output.DMS_TARGET_SECRET_ARN))
    if dedicated.username != config.dms.target_username:
        raise TargetUserError(
            f"secret {dedicated.arn} holds user {dedicated.username!r}, dms.target_username is {config.dms.target_username!r}: "
            "deploy the config first"
        )
    if options.target_dsn_env:
        base = dsn_from_env(options.target_dsn_env)
    else:
        dbname = master.dbname or config.aurora.database_name
        base = make_conninfo("", host=master.host, port=master.port, dbname=dbname, sslmode=TARGET_SSLMODE)
    with connect(with_credentials(base, master.credentials), read_only=False, statement_timeout_seconds=60) as conn:
        tables = migrated_tables(conn, config)
        arguments: dict[str, Any] = {
            "username": dedicated.username,
            "tables": tables,
            "control_schema": config.dms.control_schema,
        }
        results = create_target_user(conn, password=dedicated.password, **arguments)
        refused = worst(results) is Status.FAIL
        if not refused:
            results += verify_target_user(conn, **arguments)
    if not refused:
        results.append(login_check(with_credentials(base, dedicated.credentials), username=dedicated.username))
    _report(options, results, config=config, username=dedicated.username)
    return cli.exit_code(results)


def _report(options: TargetUserOptions, results: list[CheckResult], *, config: EnvironmentConfig, username: str | None) -> None:
    if options.json:
        print(cli.render_json(results, command="target-user", stack=config.stack_name, username=username))
    else:
        print(cli.render_table(results))
