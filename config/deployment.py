"""Where Terraform keeps its state and whom it acts as (the deploy role, and the read-only plan role)."""

from __future__ import annotations

from pydantic import Field, model_validator

from config.fields import (
    IAM_ROLE_ARN,
    BucketName,
    ExternalId,
    IamRoleArn,
    KmsKeyArn,
    Region,
    SessionName,
    StateKeyPrefix,
    StrictModel,
)


class StateBackendConfig(StrictModel):
    """Remote Terraform state in S3; the key carries the environment suffix."""

    bucket: BucketName = Field(description="Existing S3 bucket for Terraform state.")
    region: Region | None = Field(default=None, description="Region of the bucket (default: `aws_region`).")
    kms_key_id: KmsKeyArn | None = Field(default=None, description="CMK for state encryption (default: S3 default encryption).")
    key_prefix: StateKeyPrefix = Field(
        default="aurora-migration",
        description="State key is `<key_prefix>/<suffix>/terraform.tfstate` (no leading or trailing `/`).",
    )


class DeploymentConfig(StrictModel):
    """Who Terraform acts as: roles in the environment's own account, assumed for the provider and the state."""

    role_arn: IamRoleArn | None = Field(
        default=None,
        description="IAM role the AWS provider and the S3 state backend assume (`assume_role`) to deploy: the apply "
        "role. Unset: the caller's credentials as they are. Must be in `allowed_account_ids` when both are set.",
    )
    plan_role_arn: IamRoleArn | None = Field(
        default=None,
        description="Read-only IAM role the provider and the state backend assume instead when the stack is "
        "synthesized for planning (`AURORA_MIGRATION_ROLE=plan`: `make plan`, `make drift`, the pull-request and "
        'drift workflows); no write and no `secretsmanager:GetSecretValue` (runbook, "CI roles"). Required '
        "for planning when `role_arn` is set. Must be in `allowed_account_ids` when both are set.",
    )
    session_name: SessionName | None = Field(
        default=None,
        description="Role session name seen in CloudTrail (default: the stack name; `-plan` is appended for the "
        "plan role). Needs `role_arn` or `plan_role_arn`.",
    )
    external_id: ExternalId | None = Field(
        default=None,
        description="External ID the roles' trust policies require, if any. Needs `role_arn` or `plan_role_arn`.",
    )

    @model_validator(mode="after")
    def _role_first(self) -> DeploymentConfig:
        orphans = [name for name in ("session_name", "external_id") if getattr(self, name) is not None]
        if orphans and self.role_arn is None and self.plan_role_arn is None:
            raise ValueError(f"{' and '.join(orphans)} without a role: set deployment.role_arn or plan_role_arn too")
        if self.plan_role_arn is not None and self.plan_role_arn == self.role_arn:
            raise ValueError("deployment.plan_role_arn is role_arn: plans need a read-only role of their own")
        return self

    @property
    def role_account_id(self) -> str | None:
        return _account_of(self.role_arn)

    @property
    def plan_role_account_id(self) -> str | None:
        return _account_of(self.plan_role_arn)


def _account_of(role_arn: str | None) -> str | None:
    match = IAM_ROLE_ARN.fullmatch(role_arn) if role_arn else None
    return match.group("account") if match else None
