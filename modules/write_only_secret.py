"""A KMS-encrypted Secrets Manager secret whose value is written only through `secret_string_wo`.

The write-only argument keeps the value out of the plan, the state and the
synthesized JSON (Terraform >= 1.11); the value is rewritten whenever
`value_version` changes. The master password and every login's secret
(modules/login_secret.py) are made this way, each in its own construct scope (ids `secret`, `value`).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from contract.passwords import GENERATED_PASSWORD_EXCLUDED_CHARACTERS, GENERATED_PASSWORD_LENGTH
from modules.aws import SecretsmanagerSecret, SecretsmanagerSecretVersion
from modules.expressions import ephemeral_block


@dataclass(frozen=True, kw_only=True)
class WriteOnlySecret:
    secret: SecretsmanagerSecret
    version: SecretsmanagerSecretVersion


def write_only_secret(
    scope: Construct,
    *,
    name: str,
    description: str,
    kms_key_arn: str,
    recovery_window_days: int,
    value: str,
    value_version: float,
) -> WriteOnlySecret:
    secret = SecretsmanagerSecret(
        scope,
        "secret",
        name=name,
        description=description,
        kms_key_id=kms_key_arn,
        recovery_window_in_days=recovery_window_days,
    )
    version = SecretsmanagerSecretVersion(
        scope, "value", secret_id=secret.id, secret_string_wo=value, secret_string_wo_version=value_version
    )
    return WriteOnlySecret(secret=secret, version=version)


def generated_password(scope: Construct) -> str:
    """An ephemeral random password with the contract's character rules; returns the block (`<type>.<name>`).

    Its `random_password` attribute is the password: in no state and no synthesized JSON.
    """
    return ephemeral_block(
        scope,
        "aws_secretsmanager_random_password",
        "generator",
        {"password_length": GENERATED_PASSWORD_LENGTH, "exclude_characters": GENERATED_PASSWORD_EXCLUDED_CHARACTERS},
    )
