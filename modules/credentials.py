"""The Aurora credentials secret in the shape DMS and applications read.

Holds `username`, `password`, `engine`, `port`, `host` (and `dbname`). The
value is written through the write-only `secret_string_wo`, from the same
ephemeral password the cluster receives, so the password is in neither the
synthesized JSON nor the Terraform state. Rotation: bump
`aurora.master_password_version`; one apply writes a new password to both.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules.aws import SecretsmanagerSecret, SecretsmanagerSecretVersion
from modules.naming import Naming


@dataclass(frozen=True, kw_only=True)
class CredentialsSecretProps:
    naming: Naming
    kms_key_arn: str
    username: str
    password_expression: str
    """A Terraform expression (not a value) that yields the password, e.g. an ephemeral reference."""
    password_version: int
    host_expression: str
    port: int
    database_name: str
    recovery_window_days: int = 7

    def __post_init__(self) -> None:
        if self.recovery_window_days != 0 and not 7 <= self.recovery_window_days <= 30:
            raise ValueError(f"recovery_window_days: must be 0 or 7-30, got {self.recovery_window_days}")
        if self.password_expression.startswith("${") or not self.password_expression.strip():
            raise ValueError("password_expression: give a bare Terraform expression, not an interpolation or a value")


class CredentialsSecret(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: CredentialsSecretProps) -> None:
        super().__init__(scope, id_)
        self.secret = SecretsmanagerSecret(
            self,
            "secret",
            name=props.naming.name("aurora-credentials"),
            description="Aurora master credentials for the DMS target endpoint and applications",
            kms_key_id=props.kms_key_arn,
            recovery_window_in_days=props.recovery_window_days,
        )
        document = (
            "${jsonencode({"
            f'username = "{props.username}", '
            f"password = {props.password_expression}, "
            'engine = "postgres", '
            f"port = {props.port}, "
            f"host = {props.host_expression}, "
            f'dbname = "{props.database_name}"'
            "})}"
        )
        SecretsmanagerSecretVersion(
            self,
            "value",
            secret_id=self.secret.id,
            secret_string_wo=document,
            secret_string_wo_version=props.password_version,
        )

    @property
    def arn(self) -> str:
        return self.secret.arn
