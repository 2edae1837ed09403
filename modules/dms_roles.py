"""IAM roles DMS needs: the account-wide service roles and the endpoints' secrets access role.

`dms-vpc-role` and `dms-cloudwatch-logs-role` must have exactly these names,
one per account. The first stack of an account creates them (`create`); any
further stack in the same account looks them up (`existing`), otherwise it
fails with EntityAlreadyExists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from constructs import Construct

from contract.dms import CLOUDWATCH_LOGS_ROLE, VPC_MANAGEMENT_ROLE, ServiceRolesMode
from contract.naming import Naming
from modules.aws import DataAwsIamRole, IamRole, IamRolePolicy, IamRolePolicyAttachment
from modules.policy import policy_document, service_trust_policy

DMS_SERVICE = "dms.amazonaws.com"
SERVICE_ROLES = {
    VPC_MANAGEMENT_ROLE: "policy/service-role/AmazonDMSVPCManagementRole",
    CLOUDWATCH_LOGS_ROLE: "policy/service-role/AmazonDMSCloudWatchLogsRole",
}


@dataclass(frozen=True, kw_only=True)
class DmsServiceRolesProps:
    mode: ServiceRolesMode
    """`create` the account-wide roles, or look up `existing` ones."""
    account_id: str
    partition: str


class DmsServiceRoles(Construct):
    """`ready` lists what DMS resources must wait for: IAM is eventually consistent."""

    def __init__(self, scope: Construct, id_: str, *, props: DmsServiceRolesProps) -> None:
        super().__init__(scope, id_)
        self.ready: list[ITerraformDependable] = []
        for role_name, policy in SERVICE_ROLES.items():
            if props.mode == "existing":
                self.ready.append(DataAwsIamRole(self, role_name, name=role_name))
                continue
            role = IamRole(
                self,
                role_name,
                name=role_name,
                description=f"Account-wide DMS service role ({policy.rsplit('/', 1)[-1]})",
                assume_role_policy=service_trust_policy(DMS_SERVICE, account_id=props.account_id),
            )
            self.ready.append(
                IamRolePolicyAttachment(
                    self, f"{role_name}-policy", role=role.name, policy_arn=f"arn:{props.partition}:iam::aws:{policy}"
                )
            )


@dataclass(frozen=True, kw_only=True)
class SecretsAccessRoleProps:
    naming: Naming
    account_id: str
    region: str
    secret_arns: tuple[str, ...]
    kms_key_arns: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.secret_arns:
            raise ValueError("secret_arns: the role must be limited to the endpoint secrets, got none")
        if any("*" in arn for arn in (*self.secret_arns, *self.kms_key_arns)):
            raise ValueError("secret_arns/kms_key_arns: wildcards are not allowed")


class SecretsAccessRole(Construct):
    """Lets DMS read exactly the endpoint secrets, and decrypt them only through Secrets Manager."""

    def __init__(self, scope: Construct, id_: str, *, props: SecretsAccessRoleProps) -> None:
        super().__init__(scope, id_)
        self.role = IamRole(
            self,
            "role",
            name=props.naming.name("dms-secrets"),
            description="DMS endpoints read their credentials from Secrets Manager",
            # Secrets access roles are assumed by the regional DMS principal.
            assume_role_policy=service_trust_policy(f"dms.{props.region}.amazonaws.com", account_id=props.account_id),
        )
        statements: list[dict[str, object]] = [
            {
                "Sid": "ReadEndpointSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": list(props.secret_arns),
            }
        ]
        if props.kms_key_arns:
            statements.append(_decrypt_via_secrets_manager(props.kms_key_arns, region=props.region))
            statements.append(_describe_keys(props.kms_key_arns))
        IamRolePolicy(
            self, "policy", name=props.naming.name("read-endpoint-secrets"), role=self.role.id, policy=policy_document(statements)
        )

    @property
    def arn(self) -> str:
        return self.role.arn


def _describe_keys(key_arns: Sequence[str]) -> dict[str, object]:
    """kms:DescribeKey on the secrets' keys: the DMS user guide's example policy for secrets access grants it beside
    kms:Decrypt ("Using secrets to access AWS Database Migration Service endpoints", the secret access policy). Key
    metadata only, nothing decrypts with it, so it is not limited to calls through Secrets Manager: which service asks
    for it is not documented."""
    return {"Sid": "DescribeEndpointSecretKeys", "Effect": "Allow", "Action": "kms:DescribeKey", "Resource": list(key_arns)}


def _decrypt_via_secrets_manager(key_arns: Sequence[str], *, region: str) -> dict[str, object]:
    return {
        "Sid": "DecryptEndpointSecrets",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": list(key_arns),
        "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
    }
