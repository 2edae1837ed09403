"""A customer-managed KMS key with rotation and a policy without wildcard principals."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules.aws import KmsAlias, KmsKey
from modules.policy import Statement, policy_document

# The longest window KMS allows (7-30): a key scheduled for deletion by mistake can be recovered for a month.
KEY_DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True, kw_only=True)
class EncryptionKeyProps:
    alias_name: str
    """`alias/<alias_name>` names the key."""
    description: str
    account_id: str
    partition: str
    service_statements: tuple[Statement, ...]
    """Extra statements for AWS services that use the key directly (not through IAM grants)."""

    def __post_init__(self) -> None:
        for statement in self.service_statements:
            if statement.get("Principal") == "*" or statement.get("Principal", {}).get("AWS") == "*":
                raise ValueError(f"service_statements: wildcard principal in {statement.get('Sid')!r}")


class EncryptionKey(Construct):
    """Key administration stays with the account root (IAM policies decide who may use it)."""

    def __init__(self, scope: Construct, id_: str, *, props: EncryptionKeyProps) -> None:
        super().__init__(scope, id_)
        account_root = f"arn:{props.partition}:iam::{props.account_id}:root"
        statements: list[Statement] = [
            {
                "Sid": "AccountAdministersKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": account_root},
                "Action": "kms:*",
                "Resource": "*",
            },
            *props.service_statements,
        ]
        self.key = KmsKey(
            self,
            "key",
            description=props.description,
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=policy_document(statements),
        )
        KmsAlias(self, "alias", name=f"alias/{props.alias_name}", target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn
