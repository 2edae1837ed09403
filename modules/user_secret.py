"""The secret of a database user whose password the stack generates: DMS's target user, the application's user.

Same keys as the credentials secret (`username`, `password`, `engine`, `port`,
`host`, `dbname`; modules/login_secret.py), so every reader reads each the same way.
The password comes from an ephemeral `aws_secretsmanager_random_password` with the
master password's character rules (contract/passwords.py: the union of what RDS and
DMS refuse) and reaches the secret only through the write-only `secret_string_wo`:
it is in neither the synthesized JSON nor the state. The role itself is created on
Aurora by an operations step that reads the secret (runbook).

The secret is rewritten with a NEW password whenever its version number
changes: the password version is bumped (rotation), or the user name, host,
port or database changes. After each such apply the role on Aurora keeps the
old password until the operations step runs again.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules.expressions import ephemeral_value
from modules.login_secret import DatabaseLogin, login_secret
from modules.write_only_secret import WriteOnlySecret, generated_password


@dataclass(frozen=True, kw_only=True)
class GeneratedLogin(DatabaseLogin):
    password_version: int
    """A new value writes a new password."""


@dataclass(frozen=True, kw_only=True)
class UserSecretProps(GeneratedLogin):
    name: str
    """Physical name of the secret."""
    description: str


def generated_user_secret(scope: Construct, login: GeneratedLogin, *, name: str, description: str) -> WriteOnlySecret:
    """The generator, the password (an ephemeral local) and the secret, in `scope`."""
    password = ephemeral_value(scope, "password", f"{generated_password(scope)}.random_password")
    return login_secret(
        scope, login, name=name, description=description, password=password, password_version=str(login.password_version)
    )


class GeneratedUserSecret(Construct):
    """Exposes `arn`."""

    def __init__(self, scope: Construct, id_: str, *, props: UserSecretProps) -> None:
        super().__init__(scope, id_)
        self._secret = generated_user_secret(self, props, name=props.name, description=props.description)

    @property
    def arn(self) -> str:
        return self._secret.secret.arn
