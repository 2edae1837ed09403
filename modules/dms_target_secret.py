"""The secret of the dedicated DMS target user: the credentials the target endpoint logs in to Aurora with.

A GeneratedUserSecret (modules/user_secret.py) named `<prefix>-dms-target-<suffix>`.
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
from modules.user_secret import GeneratedUserSecret, UserSecretProps


@dataclass(frozen=True, kw_only=True)
class DmsTargetSecretProps:
    naming: Naming
    """Physical names: the secret is `<prefix>-dms-target-<suffix>`."""
    kms_key_arn: str
    """CMK that encrypts the secret (the stack's database key, which the DMS secrets-access role may use)."""
    username: str
    """`dms.target_username`."""
    password_version: int
    """`dms.target_password_version`: a new value writes a new password."""
    host: str
    """Writer endpoint of the cluster (token)."""
    port: int
    database_name: str
    recovery_window_days: int
    """Days a deleted secret can be restored (0 = at once)."""


class DmsTargetSecret(GeneratedUserSecret):
    def __init__(self, scope: Construct, id_: str, *, props: DmsTargetSecretProps) -> None:
        super().__init__(
            scope,
            id_,
            props=UserSecretProps(
                name=props.naming.dms_target_secret_name,
                description="Credentials of the least-privilege DMS target user; the role is created by `cutover target-user`",
                kms_key_arn=props.kms_key_arn,
                username=props.username,
                password_version=props.password_version,
                host=props.host,
                port=props.port,
                database_name=props.database_name,
                recovery_window_days=props.recovery_window_days,
            ),
        )
