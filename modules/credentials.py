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

from constructs import Construct

from contract.naming import Naming
from modules.login_secret import DatabaseLogin, login_secret


@dataclass(frozen=True, kw_only=True)
class CredentialsSecretProps(DatabaseLogin):
    """`username` is the master user; `database_name` the database DMS writes to."""

    naming: Naming
    """Physical names: the secret is `<prefix>-aurora-credentials-<suffix>`."""
    password: str
    """Ephemeral token of the master password (MasterPassword.value)."""
    password_version_id: str
    """Version id of the master password secret; a new one rewrites this secret."""


class CredentialsSecret(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: CredentialsSecretProps) -> None:
        super().__init__(scope, id_)
        self._secret = login_secret(
            self,
            props,
            name=props.naming.name("aurora-credentials"),
            description="Aurora master credentials for DMS set-up and operators (applications use the app secret)",
            password=props.password,
            password_version=props.password_version_id,
        )

    @property
    def arn(self) -> str:
        return self._secret.secret.arn
