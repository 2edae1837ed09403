"""The secret of a database user whose password the stack generates: DMS's target user, the application's user.

Same keys as the credentials secret (`username`, `password`, `engine`, `port`,
`host`, `dbname`), so every reader reads each the same way. The password comes
from an ephemeral `aws_secretsmanager_random_password` with the master password's
character rules (contract/passwords.py: the union of what RDS and DMS refuse)
and reaches the secret only through the write-only `secret_string_wo`: it is in
neither the synthesized JSON nor the state. The role itself is created on Aurora
by an operations step that reads the secret (runbook).

The secret is rewritten with a NEW password whenever its version number
changes: the password version is bumped (rotation), or the user name, host,
port or database changes. After each such apply the role on Aurora keeps the
old password until the operations step runs again.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn
from constructs import Construct

from contract.aurora import SECRET_ENGINE
from contract.passwords import GENERATED_PASSWORD_EXCLUDED_CHARACTERS, GENERATED_PASSWORD_LENGTH
from modules.expressions import ephemeral_block, ephemeral_value, hcl_literal, version_number
from modules.write_only_secret import write_only_secret


@dataclass(frozen=True, kw_only=True)
class UserSecretProps:
    name: str
    """Physical name of the secret."""
    description: str
    kms_key_arn: str
    """CMK that encrypts the secret."""
    username: str
    password_version: int
    """A new value writes a new password."""
    host: str
    """Writer endpoint of the cluster (token)."""
    port: int
    database_name: str
    recovery_window_days: int
    """Days a deleted secret can be restored (0 = at once)."""


class GeneratedUserSecret(Construct):
    """Exposes `arn`."""

    def __init__(self, scope: Construct, id_: str, *, props: UserSecretProps) -> None:
        super().__init__(scope, id_)
        generator = ephemeral_block(
            self,
            "aws_secretsmanager_random_password",
            "generator",
            {"password_length": GENERATED_PASSWORD_LENGTH, "exclude_characters": GENERATED_PASSWORD_EXCLUDED_CHARACTERS},
        )
        password = ephemeral_value(self, "password", f"{generator}.random_password")
        document = Fn.jsonencode(
            {
                "username": hcl_literal(props.username),
                "password": password,
                "engine": SECRET_ENGINE,
                "port": props.port,
                "host": props.host,
                "dbname": hcl_literal(props.database_name),
            }
        )
        self._secret = write_only_secret(
            self,
            name=props.name,
            description=props.description,
            kms_key_arn=props.kms_key_arn,
            recovery_window_days=props.recovery_window_days,
            value=document,
            value_version=version_number(
                str(props.password_version),
                props.host,
                hcl_literal(props.username),
                str(props.port),
                hcl_literal(props.database_name),
            ),
        )

    @property
    def arn(self) -> str:
        return self._secret.secret.arn
