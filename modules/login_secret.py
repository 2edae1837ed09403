"""The secret of a database login: the keys every reader reads (`username`, `password`, `engine`, `port`, `host`, `dbname`).

The master credentials, the DMS target user's and the application user's secrets
are all made this way. The password reaches the secret only through the write-only
`secret_string_wo` (modules/write_only_secret.py); the version number is derived
from everything the secret holds, so a change to any of it rewrites it in the same apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn
from constructs import Construct

from contract.aurora import SECRET_ENGINE
from modules.expressions import hcl_literal, version_number
from modules.write_only_secret import WriteOnlySecret, write_only_secret


@dataclass(frozen=True, kw_only=True)
class DatabaseLogin:
    """Where and as whom the login connects, and how its secret is kept."""

    kms_key_arn: str
    """CMK that encrypts the secret."""
    username: str
    host: str
    """Writer endpoint of the cluster (token)."""
    port: int
    database_name: str
    recovery_window_days: int
    """Days a deleted secret can be restored (0 = at once)."""


def login_secret(
    scope: Construct, login: DatabaseLogin, *, name: str, description: str, password: str, password_version: str
) -> WriteOnlySecret:
    """`password` is an ephemeral token; a new `password_version` (a token or literal) rewrites the secret."""
    # Literals pass through hcl_literal: cdktf escapes `${` in function arguments but not quotes or `%{`.
    document = Fn.jsonencode(
        {
            "username": hcl_literal(login.username),
            "password": password,
            "engine": SECRET_ENGINE,
            "port": login.port,
            "host": login.host,
            "dbname": hcl_literal(login.database_name),
        }
    )
    return write_only_secret(
        scope,
        name=name,
        description=description,
        kms_key_arn=login.kms_key_arn,
        recovery_window_days=login.recovery_window_days,
        value=document,
        value_version=version_number(
            password_version, login.host, hcl_literal(login.username), str(login.port), hcl_literal(login.database_name)
        ),
    )
