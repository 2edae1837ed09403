"""One environment's migration stack: provider, backend, tags, the constructs and the outputs."""

from __future__ import annotations

from typing import Any

from cdktf import S3Backend, S3BackendAssumeRoleConfig, TerraformOutput, TerraformStack
from constructs import Construct

from config.model import EnvironmentConfig
from contract.outputs import CONDITIONAL_OUTPUTS, OUTPUT_DESCRIPTIONS, Output
from modules.aurora import AuroraCluster
from modules.aws import (
    AwsProvider,
    AwsProviderAssumeRole,
    AwsProviderDefaultTags,
    AwsProviderEndpoints,
    DataAwsCallerIdentity,
    DataAwsPartition,
)
from modules.credentials import CredentialsSecret
from modules.dms import DmsReplication
from modules.dms_target_secret import DmsTargetSecret
from modules.kms import EncryptionKey
from modules.master_password import MasterPassword
from modules.monitoring import Monitoring
from modules.network import MigrationNetwork
from modules.reader_scaling import ReaderAutoScaling
from modules.secrets_endpoint import SecretsManagerEndpoint
from modules.user_secret import GeneratedUserSecret
from stacks import props
from stacks.emulator import EMULATED_SERVICES, LocalEmulator
from stacks.roles import AssumedRole, Purpose, assumed_role

STATE_FILE = "terraform.tfstate"
# Ephemeral resources (1.10) and write-only arguments (1.11) in the emitted JSON need this Terraform.
REQUIRED_TERRAFORM_VERSION = ">= 1.11.0"


def state_key(config: EnvironmentConfig) -> str:
    return f"{config.state_backend.key_prefix}/{config.environment_suffix}/{STATE_FILE}"


def default_tags(config: EnvironmentConfig) -> dict[str, str]:
    return {
        **config.tags,
        "environment": config.environment_suffix,
        "project": config.name_prefix,
        "managed-by": "cdktf",
        "repository": config.repository,
    }


class MigrationStack(TerraformStack):
    """Wires the constructs together; stacks/props.py turns the config into each construct's props."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        emulator: LocalEmulator | None = None,
        purpose: Purpose = Purpose.DEPLOY,
    ) -> None:
        super().__init__(scope, id_)
        role = assumed_role(config, purpose)
        self._configure_provider(config, emulator, role)
        self._configure_backend(config, emulator, role)
        ctx = props.StackContext(
            config=config,
            naming=props.naming_of(config),
            account_id=DataAwsCallerIdentity(self, "caller").account_id,
            partition=DataAwsPartition(self, "partition").partition,
        )

        database_key = EncryptionKey(self, "database-key", props=props.database_key_props(ctx))
        network = MigrationNetwork(self, "network", props=props.network_props(ctx))
        secrets_endpoint = SecretsManagerEndpoint(
            self,
            "secrets-manager-endpoint",
            props=props.secrets_endpoint_props(ctx, dms_security_group_id=network.dms_security_group_id),
        )
        master_password = MasterPassword(
            self, "master-password", props=props.master_password_props(ctx, kms_key_arn=database_key.arn)
        )
        aurora = AuroraCluster(
            self,
            "aurora",
            props=props.aurora_props(
                ctx,
                security_group_id=network.aurora_security_group_id,
                kms_key_arn=database_key.arn,
                master_password=master_password,
            ),
        )
        reader_scaling = props.reader_scaling_props(ctx, cluster=aurora)
        if reader_scaling is not None:
            ReaderAutoScaling(self, "reader-scaling", props=reader_scaling)
        credentials = CredentialsSecret(
            self,
            "credentials",
            props=props.credentials_props(ctx, kms_key_arn=database_key.arn, master_password=master_password, cluster=aurora),
        )
        application_secret = GeneratedUserSecret(
            self,
            "application-secret",
            props=props.application_secret_props(ctx, kms_key_arn=database_key.arn, cluster=aurora),
        )
        target_secret_props = props.dms_target_secret_props(ctx, kms_key_arn=database_key.arn, cluster=aurora)
        target_secret = (
            DmsTargetSecret(self, "dms-target-secret", props=target_secret_props) if target_secret_props is not None else None
        )
        dms = DmsReplication(
            self,
            "dms",
            props=props.dms_props(
                ctx,
                security_group_id=network.dms_security_group_id,
                kms_key_arn=database_key.arn,
                target_secret_arn=(target_secret or credentials).arn,
                secrets_manager_endpoint_dns_name=secrets_endpoint.dns_name,
            ),
        )
        monitoring = Monitoring(self, "monitoring", props=props.monitoring_props(ctx, cluster=aurora, replication=dms))

        self._outputs(
            {
                Output.CLUSTER_ENDPOINT: aurora.endpoint,
                Output.READER_ENDPOINT: aurora.reader_endpoint,
                Output.SECRET_ARN: credentials.arn,
                Output.CLUSTER_ID: aurora.cluster_identifier,
                Output.INSTANCE_IDS: aurora.instance_identifiers,
                Output.AURORA_SECURITY_GROUP_ID: network.aurora_security_group_id,
                Output.DMS_SECURITY_GROUP_ID: network.dms_security_group_id,
                Output.DATABASE_KMS_KEY_ARN: database_key.arn,
                Output.DMS_TASK_ARN: dms.task_arn,
                Output.DMS_REPLICATION_INSTANCE_ARN: dms.replication_instance_arn,
                Output.DMS_SOURCE_ENDPOINT_ARN: dms.source_endpoint_arn,
                Output.DMS_TARGET_ENDPOINT_ARN: dms.target_endpoint_arn,
                Output.ALARM_TOPIC_ARN: monitoring.topic_arn,
                Output.DASHBOARD_NAME: monitoring.dashboard_name,
                Output.DMS_TARGET_SECRET_ARN: target_secret.arn if target_secret is not None else None,
                Output.APP_SECRET_ARN: application_secret.arn,
            }
        )

    def _outputs(self, values: dict[Output, Any]) -> None:
        """Every output gets a value; only CONDITIONAL_OUTPUTS may be None, and are then left out."""
        missing = set(Output) - {output for output, value in values.items() if value is not None}
        assert missing <= CONDITIONAL_OUTPUTS, f"outputs without a value: {sorted(missing - CONDITIONAL_OUTPUTS)}"
        for output, value in values.items():
            if value is not None:
                TerraformOutput(self, output.value, value=value, description=OUTPUT_DESCRIPTIONS[output])

    def _configure_provider(self, config: EnvironmentConfig, emulator: LocalEmulator | None, role: AssumedRole | None) -> None:
        settings: dict[str, Any] = {}
        if emulator is not None:
            settings = {
                "endpoints": [AwsProviderEndpoints(**{service: emulator.url for service in EMULATED_SERVICES})],
                "skip_credentials_validation": True,
                "skip_metadata_api_check": "true",
                "skip_region_validation": True,
                "skip_requesting_account_id": False,
                "s3_use_path_style": True,
            }
        AwsProvider(
            self,
            "aws",
            region=config.aws_region,
            allowed_account_ids=list(config.allowed_account_ids) or None,
            assume_role=[
                AwsProviderAssumeRole(role_arn=role.role_arn, session_name=role.session_name, external_id=role.external_id)
            ]
            if role
            else None,
            default_tags=[AwsProviderDefaultTags(tags=default_tags(config))],
            **settings,
        )

    def _configure_backend(self, config: EnvironmentConfig, emulator: LocalEmulator | None, role: AssumedRole | None) -> None:
        backend = config.state_backend
        S3Backend(
            self,
            bucket=backend.bucket,
            key=state_key(config),
            region=backend.region or config.aws_region,
            encrypt=True,
            kms_key_id=backend.kms_key_id,
            # The nested `assume_role` object (Terraform >= 1.6); Terraform 1.10 removed the backend's top-level
            # role_arn/session_name/external_id. cdktf 0.21's S3Backend writes this object as Terraform spells it.
            assume_role=S3BackendAssumeRoleConfig(
                role_arn=role.role_arn, session_name=role.session_name, external_id=role.external_id
            )
            if role
            else None,
        )
        self.add_override("terraform.required_version", REQUIRED_TERRAFORM_VERSION)
        # S3-native locking (Terraform >= 1.10); cdktf's S3Backend predates the option.
        self.add_override("terraform.backend.s3.use_lockfile", True)
        if emulator is not None:
            emulator_settings = {
                "endpoints": {"s3": emulator.url, "sts": emulator.url},
                "use_path_style": True,
                "skip_credentials_validation": True,
                "skip_requesting_account_id": True,
                "skip_region_validation": True,
                "skip_metadata_api_check": True,
            }
            for key, value in emulator_settings.items():
                self.add_override(f"terraform.backend.s3.{key}", value)
