"""The secret of the dedicated DMS target user: the credentials the target endpoint logs in to Aurora with.

A generated user's secret (modules/user_secret.py) named `<prefix>-dms-target-<suffix>`.
The role itself is created on Aurora by `cutover target-user`, which reads this
secret (output `dms_target_secret_arn`). After `dms.target_password_version` is
bumped, or the user name, host, port or database changes, the role on Aurora
keeps the old password until `cutover target-user` runs again (runbook, "The
DMS target user").
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from contract.naming import Naming
from modules.user_secret import GeneratedLogin, generated_user_secret


@dataclass(frozen=True, kw_only=True)
class DmsTargetSecretProps(GeneratedLogin):
    """`kms_key_arn` is the stack's database key, which the DMS secrets-access role may use; `username` is
    `dms.target_username`, `password_version` `dms.target_password_version`."""

    naming: Naming
    """Physical names: the secret is `<prefix>-dms-target-<suffix>`."""


class DmsTargetSecret(Construct):
    """Exposes `arn`."""

    def __init__(self, scope: Construct, id_: str, *, props: DmsTargetSecretProps) -> None:
        super().__init__(scope, id_)
        self._secret = generated_user_secret(
            self,
            props,
            name=props.naming.dms_target_secret_name,
            description="Credentials of the least-privilege DMS target user; the role is created by `cutover target-user`",
        )

    @property
    def arn(self) -> str:
        return self._secret.secret.arn
