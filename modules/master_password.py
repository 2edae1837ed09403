"""The Aurora master password: generated once per version, kept in one secret that everything else follows.

The password's single source of truth is a Secrets Manager secret of its own
(`<prefix>-aurora-master-password-<env>`), written only by Terraform through a
write-only argument from an ephemeral random password. The cluster and the
credentials secret never see the generator: both are written from an
ephemeral read of *that* secret, and each one's `*_wo_version` is derived from
the secret version it was written from. So:

- rotation (bump `aurora.master_password_version`) writes a new version here,
  and the same apply writes it to the cluster and the credentials secret;
- an apply that fails between those writes is finished by the next apply,
  which reads the same version again instead of generating a new password;
- a replaced cluster is created with the current password; a replaced
  credentials secret is written with it; a replaced password secret gets a new
  password, and its new version id makes the cluster and the credentials
  secret follow it.

Nothing here puts the password in the synthesized JSON or the state: ephemeral
values and write-only arguments are never stored (Terraform >= 1.11). And no plan
reads it: Terraform opens ephemeral resources during plan as well as apply, so the
read of the secret is given an argument that stays unknown until apply
(`known_only_when_applying`); a plan shows the write-only arguments as unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from contract.naming import Naming
from modules.expressions import ephemeral_block, ephemeral_value, known_only_when_applying
from modules.write_only_secret import generated_password, write_only_secret


@dataclass(frozen=True, kw_only=True)
class MasterPasswordProps:
    naming: Naming
    """Physical names: the secret is `<prefix>-aurora-master-password-<suffix>`."""
    kms_key_arn: str
    """CMK that encrypts the secret."""
    rotation_version: int
    """`aurora.master_password_version`: a new value writes a new password everywhere in one apply."""
    recovery_window_days: int
    """Days a deleted secret can be restored (0 = at once)."""


class MasterPassword(Construct):
    """Exposes `value` (ephemeral: for write-only arguments only) and `version_id`."""

    def __init__(self, scope: Construct, id_: str, *, props: MasterPasswordProps) -> None:
        super().__init__(scope, id_)
        generator = generated_password(self)
        self._secret = write_only_secret(
            self,
            name=props.naming.name("aurora-master-password"),
            description="Source of truth of the Aurora master password; written and read only by Terraform",
            kms_key_arn=props.kms_key_arn,
            recovery_window_days=props.recovery_window_days,
            value=f"${{ephemeral.{generator}.random_password}}",
            value_version=props.rotation_version,
        )
        # Reads back exactly the version just written: the cluster and the credentials secret get this value.
        # Only when applying: an ephemeral resource is opened during plan too, so a plan (the read-only plan role
        # has no secretsmanager:GetSecretValue) leaves the write-only arguments unknown instead.
        current = ephemeral_block(
            self,
            "aws_secretsmanager_secret_version",
            "current",
            {"secret_id": known_only_when_applying(self._secret.secret.id), "version_id": self.version_id},
        )
        self.value = ephemeral_value(self, "current-value", f"{current}.secret_string")

    @property
    def version_id(self) -> str:
        """Changes whenever a new password is written (rotation, or a replaced secret)."""
        return self._secret.version.version_id
