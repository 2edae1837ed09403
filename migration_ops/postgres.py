"""Connecting to PostgreSQL, the source or the target (Aurora), for every operations command.

The source's DSN comes from an environment variable holding a libpq URI (`--dsn-env`)
or is built from the config (host, port, database, TLS mode); the user name and
password come from libpq's own PGUSER/PGPASSWORD or, with `--from-secret`, from
the Secrets Manager secret the DMS source endpoint reads. The target's DSN always
comes from a variable (`--target-dsn-env`, `--apply-dsn-env`, ...). No credential
ever appears on a command line or in a message (`describe_dsn`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from botocore.exceptions import BotoCoreError, ClientError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from config.model import SourceDatabaseConfig
from contract.aurora import POSTGRES_PORT
from migration_ops import aws
from migration_ops.errors import OpsError
from plumbing.text import first_line

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CONNECT_TIMEOUT_SECONDS = 10


class DatabaseConnectionError(OpsError):
    """A database could not be reached, or its DSN or credentials could not be read: exit 2 with this message."""


class SourceConnectionError(DatabaseConnectionError):
    """The same, raised by a command that names the side (compare): the message starts with `source:`."""


class TargetConnectionError(DatabaseConnectionError):
    """The same for the target (Aurora): the message starts with `target:`."""


@dataclass(frozen=True, kw_only=True)
class Credentials:
    username: str
    password: str


def dsn_from_env(variable: str) -> str:
    """The libpq URI held by the environment variable `variable`."""
    value = os.environ.get(variable, "").strip()
    if not value:
        raise DatabaseConnectionError(f"environment variable {variable} is not set (it should hold a libpq URI)")
    return value


def dsn_from_config(source: SourceDatabaseConfig) -> str:
    """host/port/database/TLS from the config; user and password are left to PGUSER/PGPASSWORD."""
    params: dict[str, Any] = {"host": source.host, "port": source.port, "dbname": source.database_name}
    params["sslmode"] = source.ssl_mode
    if source.ca_certificate_file is not None:
        params["sslrootcert"] = str(source.ca_certificate_file)
    return make_conninfo("", **params)


def secret_credentials(
    secret_arn: str, *, region: str, endpoint_url: str | None = None, client: SecretsManagerClient | None = None
) -> Credentials:
    """username/password of the migration user from its Secrets Manager secret."""
    if client is None:
        settings = aws.client_settings(read_timeout=30)
        client = aws.session(region).client("secretsmanager", endpoint_url=endpoint_url, config=settings)
    try:
        document = json.loads(client.get_secret_value(SecretId=secret_arn).get("SecretString") or "{}")
    except (ClientError, BotoCoreError) as error:
        raise DatabaseConnectionError(f"cannot read secret {secret_arn}: {error}") from None
    except ValueError:
        raise DatabaseConnectionError(f"secret {secret_arn}: SecretString is not JSON") from None
    if not isinstance(document, dict) or not document.get("username") or "password" not in document:
        raise DatabaseConnectionError(f"secret {secret_arn}: expected JSON with 'username' and 'password'")
    return Credentials(username=str(document["username"]), password=str(document["password"]))


def with_credentials(dsn: str, credentials: Credentials | None) -> str:
    """`dsn` with user/password replaced by `credentials` (unchanged when None)."""
    if credentials is None:
        return dsn
    params = conninfo_to_dict(dsn)
    params.update(user=credentials.username, password=credentials.password)
    return make_conninfo("", **params)


def describe_dsn(dsn: str) -> str:
    """`user@host:port/db` without the password, for messages."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparsable DSN>"
    user = params.get("user") or os.environ.get("PGUSER") or "(default user)"
    host = params.get("host") or os.environ.get("PGHOST") or "(default host)"
    port = params.get("port") or os.environ.get("PGPORT") or str(POSTGRES_PORT)
    dbname = params.get("dbname") or os.environ.get("PGDATABASE") or "(default db)"
    return f"{user}@{host}:{port}/{dbname}"


def connect(
    dsn: str, *, read_only: bool, statement_timeout_seconds: float = 0, params: Mapping[str, Any] | None = None
) -> psycopg.Connection[Any]:
    """An autocommit connection; read-only sessions refuse every write. `params`: more libpq keywords (keepalives)."""
    try:
        conn = psycopg.connect(
            dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name="migration-ops", **(params or {})
        )
    except psycopg.Error as error:
        raise DatabaseConnectionError(f"cannot connect to {describe_dsn(dsn)}: {first_line(error)}") from None
    if read_only:
        conn.execute("SET default_transaction_read_only = on")
    if statement_timeout_seconds > 0:
        conn.execute(f"SET statement_timeout = {int(statement_timeout_seconds * 1000)}")
    return conn
