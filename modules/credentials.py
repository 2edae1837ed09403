"""The Aurora master credentials secret: for DMS set-up (`cutover target-user`) and operators, not applications.

Applications read their own user's secret (modules/user_secret.py, output `app_secret_arn`).

Holds `username`, `password`, `engine`, `port`, `host` (and `dbname`). It is a
view of the master password secret (modules/master_password.py), written
through the write-only `secret_string_wo`, so the password is in neither the
synthesized JSON nor the Terraform state. Its version number is derived from
everything it holds (the password's version, host, user, port, database), so
any change to one of them rewrites it in the same apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn
from constructs import Construct

from contract.aurora import SECRET_ENGINE
from contract.naming import Naming
from modules.expressions import hcl_literal, version_number
from modules.write_only_secret import write_only_secret


@dataclass(frozen=True, kw_only=True)
class CredentialsSecretProps:
    naming: Naming
    """Physical names: the secret is `<prefix>-aurora-credentials-<suffix>`."""
    kms_key_arn: str
    """CMK that encrypts the secret."""
    username: str
    """Master user name."""
    password: str
    """Ephemeral token of the master password (MasterPassword.value)."""
    password_version_id: str
    """Version id of the master password secret; a new one rewrites this secret."""
    host: str
    """Writer endpoint of the cluster (token)."""
    port: int
    """PostgreSQL port."""
    database_name: str
    """Database DMS writes to."""
    recovery_window_days: int
    """Days a deleted secret can be restored (0 = at once)."""


class CredentialsSecret(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: CredentialsSecretProps) -> None:
        super().__init__(scope, id_)
        # Literals pass through hcl_literal: cdktf escapes `${` in function arguments but not quotes or `%{`.
        document = Fn.jsonencode(
            {
                "username": hcl_literal(props.username),
                "password": props.password,
                "engine": SECRET_ENGINE,
                "port": props.port,
                "host": props.host,
                "dbname": hcl_literal(props.database_name),
            }
        )
        self._secret = write_only_secret(
            self,
            name=props.naming.name("aurora-credentials"),
            description="Aurora master credentials for DMS set-up and operators (applications use the app secret)",
            kms_key_arn=props.kms_key_arn,
            recovery_window_days=props.recovery_window_days,
            value=document,
            value_version=version_number(
                props.password_version_id,
                props.host,
                hcl_literal(props.username),
                str(props.port),
                hcl_literal(props.database_name),
            ),
        )

    @property
    def arn(self) -> str:
        return self._secret.secret.arn
