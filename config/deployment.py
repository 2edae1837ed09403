"""Where Terraform keeps its state and whom it acts as."""

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
    """Who Terraform acts as: a role in the environment's own account, assumed for the provider and the state."""

    role_arn: IamRoleArn | None = Field(
        default=None,
        description="IAM role the AWS provider and the S3 state backend assume (`assume_role`), so one pipeline identity "
        "can plan every environment in its own account. Unset: the caller's credentials as they are. Must be in "
        "`allowed_account_ids` when both are set.",
    )
    session_name: SessionName | None = Field(
        default=None, description="Role session name seen in CloudTrail (default: the stack name). Needs `role_arn`."
    )
    external_id: ExternalId | None = Field(
        default=None, description="External ID the role's trust policy requires, if any. Needs `role_arn`."
    )

    @model_validator(mode="after")
    def _role_first(self) -> DeploymentConfig:
        orphans = [name for name in ("session_name", "external_id") if getattr(self, name) is not None]
        if orphans and self.role_arn is None:
            raise ValueError(f"{' and '.join(orphans)} without role_arn: set deployment.role_arn too")
        return self

    @property
    def role_account_id(self) -> str | None:
        match = IAM_ROLE_ARN.fullmatch(self.role_arn) if self.role_arn else None
        return match.group("account") if match else None
