"""One environment's migration stack: provider, backend, tags, the constructs and the outputs."""

from __future__ import annotations

from typing import Any

from cdktf import S3Backend, TerraformOutput, TerraformStack
from constructs import Construct

from config.model import POSTGRES_PORT, EnvironmentConfig
from modules.aurora import AuroraCluster, AuroraClusterProps
from modules.aws import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints, DataAwsCallerIdentity, DataAwsPartition
from modules.credentials import CredentialsSecret, CredentialsSecretProps
from modules.dms import DmsReplication, DmsReplicationProps, SourceEndpointProps, TargetEndpointProps
from modules.dms_documents import TaskDocumentsProps, rules_from
from modules.kms import EncryptionKey, EncryptionKeyProps
from modules.master_password import MasterPassword, MasterPasswordProps
from modules.monitoring import Monitoring, MonitoringProps
from modules.naming import Naming
from modules.network import MigrationNetwork, MigrationNetworkProps
from modules.secrets_endpoint import SecretsManagerEndpoint, SecretsManagerEndpointProps
from stacks.emulator import EMULATED_SERVICES, LocalEmulator

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
    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, emulator: LocalEmulator | None = None) -> None:
        super().__init__(scope, id_)
        self.config = config
        naming = Naming(prefix=config.name_prefix, suffix=config.environment_suffix)
        self._configure_provider(config, emulator)
        self._configure_backend(config, emulator)

        identity = DataAwsCallerIdentity(self, "caller")
        partition = DataAwsPartition(self, "partition")
        account_id, partition_name = identity.account_id, partition.partition

        database_key = EncryptionKey(
            self,
            "database-key",
            props=EncryptionKeyProps(
                alias_name=naming.name("database"),
                description=f"Aurora, DMS, credentials secret and logs of {config.stack_name}",
                account_id=account_id,
                partition=partition_name,
                service_statements=(
                    _logs_may_use_key(region=config.aws_region, account_id=account_id, partition=partition_name),
                ),
            ),
        )
        network = MigrationNetwork(
            self,
            "network",
            props=MigrationNetworkProps(
                naming=naming,
                vpc_id=config.network.vpc_id,
                database_port=POSTGRES_PORT,
                source_cidr_block=config.source.cidr_block,
                source_port=config.source.port,
                application_security_group_ids=config.network.application_security_group_ids,
                application_cidr_blocks=config.network.application_cidr_blocks,
            ),
        )
        SecretsManagerEndpoint(
            self,
            "secrets-manager-endpoint",
            props=SecretsManagerEndpointProps(
                naming=naming,
                region=config.aws_region,
                vpc_id=config.network.vpc_id,
                vpc_cidr_block=config.network.vpc_cidr_block,
                subnets=config.network.dms_subnets,
                dms_security_group_id=network.dms_security_group.id,
                endpoint=config.network.secrets_manager_endpoint,
            ),
        )
        aurora_config = config.aurora
        master_password = MasterPassword(
            self,
            "master-password",
            props=MasterPasswordProps(
                naming=naming,
                kms_key_arn=database_key.arn,
                rotation_version=aurora_config.master_password_version,
                recovery_window_days=aurora_config.secret_recovery_window_days,
            ),
        )
        aurora = AuroraCluster(
            self,
            "aurora",
            props=AuroraClusterProps(
                naming=naming,
                partition=partition_name,
                account_id=account_id,
                engine_version=aurora_config.engine_version,
                instance_class=aurora_config.instance_class,
                reader_count=aurora_config.reader_count,
                subnet_ids=tuple(config.network.aurora_subnets),
                availability_zones=tuple(sorted(set(config.network.aurora_subnets.values()))),
                security_group_id=network.aurora_security_group.id,
                kms_key_arn=database_key.arn,
                master_username=aurora_config.master_username,
                master_password=master_password.value,
                master_password_version_id=master_password.version_id,
                database_name=aurora_config.database_name,
                backup_retention_days=aurora_config.backup_retention_days,
                preferred_backup_window=aurora_config.preferred_backup_window,
                preferred_maintenance_window=aurora_config.preferred_maintenance_window,
                deletion_protection=aurora_config.deletion_protection,
                skip_final_snapshot=aurora_config.skip_final_snapshot,
                performance_insights_retention_days=aurora_config.performance_insights_retention_days,
                monitoring_interval_seconds=aurora_config.monitoring_interval_seconds,
                log_retention_days=aurora_config.log_retention_days,
                log_min_duration_statement_ms=aurora_config.log_min_duration_statement_ms,
            ),
        )
        credentials = CredentialsSecret(
            self,
            "credentials",
            props=CredentialsSecretProps(
                naming=naming,
                kms_key_arn=database_key.arn,
                username=aurora_config.master_username,
                password=master_password.value,
                password_version_id=master_password.version_id,
                host=aurora.endpoint,
                port=POSTGRES_PORT,
                database_name=aurora_config.database_name,
                recovery_window_days=aurora_config.secret_recovery_window_days,
            ),
        )
        dms_config, source = config.dms, config.source
        dms = DmsReplication(
            self,
            "dms",
            props=DmsReplicationProps(
                naming=naming,
                account_id=account_id,
                partition=partition_name,
                region=config.aws_region,
                subnet_ids=tuple(config.network.dms_subnets),
                security_group_id=network.dms_security_group.id,
                kms_key_arn=database_key.arn,
                service_roles=dms_config.service_roles,
                replication_instance_class=dms_config.replication_instance_class,
                allocated_storage_gib=dms_config.allocated_storage_gib,
                engine_version=dms_config.engine_version,
                multi_az=dms_config.multi_az,
                preferred_maintenance_window=dms_config.preferred_maintenance_window,
                migration_type=dms_config.migration_type,
                task_log_retention_days=dms_config.task_log_retention_days,
                documents=TaskDocumentsProps(
                    include=rules_from(dms_config.include),
                    exclude=rules_from(dms_config.exclude),
                    lob_max_size_kb=dms_config.lob_max_size_kb,
                    control_schema=dms_config.control_schema,
                ),
                source=SourceEndpointProps(
                    database_name=source.database_name,
                    secret_arn=source.credentials_secret_arn,
                    secret_kms_key_arn=source.credentials_kms_key_arn,
                    ssl_mode=source.ssl_mode,
                    ca_certificate_pem=source.ca_certificate_file.read_text() if source.ca_certificate_file else None,
                    heartbeat_frequency_minutes=dms_config.heartbeat_frequency_minutes,
                ),
                target=TargetEndpointProps(
                    database_name=aurora_config.database_name,
                    secret_arn=credentials.arn,
                    secret_kms_key_arn=database_key.arn,
                ),
            ),
        )
        monitoring = Monitoring(
            self,
            "monitoring",
            props=MonitoringProps(
                naming=naming,
                account_id=account_id,
                partition=partition_name,
                region=config.aws_region,
                thresholds=config.monitoring,
                cluster_identifier=aurora.cluster_identifier,
                instance_identifiers=tuple(aurora.instance_identifiers),
                instance_class=aurora_config.instance_class,
                replication_instance_identifier=dms.replication_instance_identifier,
                replication_task_identifier=dms.task.replication_task_id,
                replication_task_resource_id=dms.task_resource_id,
            ),
        )

        self.database_key = database_key
        self.network = network
        self.aurora = aurora
        self.credentials = credentials
        self.dms = dms
        self.monitoring = monitoring
        self._outputs(
            cluster_endpoint=(aurora.endpoint, "Writer endpoint of the Aurora cluster (applications point here at cutover)"),
            reader_endpoint=(aurora.reader_endpoint, "Reader endpoint of the Aurora cluster"),
            secret_arn=(credentials.arn, "Secrets Manager secret with username, password, engine, port, host"),
            cluster_id=(aurora.cluster_identifier, "Aurora cluster identifier"),
            instance_ids=(aurora.instance_identifiers, "Aurora instance identifiers; the first is created as the writer"),
            aurora_security_group_id=(network.aurora_security_group.id, "Security group of Aurora (add application rules here)"),
            dms_security_group_id=(
                network.dms_security_group.id,
                "Security group of the DMS replication instance (an existing Secrets Manager endpoint must admit it on 443)",
            ),
            database_kms_key_arn=(database_key.arn, "CMK of the cluster, Performance Insights, secret and logs"),
            dms_task_arn=(dms.task_arn, "DMS replication task (full load and CDC); started by the operator, see the runbook"),
            dms_replication_instance_arn=(dms.replication_instance_arn, "DMS replication instance"),
            dms_source_endpoint_arn=(dms.source_endpoint.endpoint_arn, "DMS source endpoint (on-premises PostgreSQL)"),
            dms_target_endpoint_arn=(dms.target_endpoint.endpoint_arn, "DMS target endpoint (Aurora writer)"),
            alarm_topic_arn=(monitoring.topic_arn, "SNS topic every alarm and event subscription notifies"),
            dashboard_name=(monitoring.dashboard_name, "CloudWatch dashboard of the migration"),
        )

    def _outputs(self, **outputs: tuple[Any, str]) -> None:
        for name, (value, description) in outputs.items():
            TerraformOutput(self, name, value=value, description=description)

    def _configure_provider(self, config: EnvironmentConfig, emulator: LocalEmulator | None) -> None:
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
            default_tags=[AwsProviderDefaultTags(tags=default_tags(config))],
            **settings,
        )

    def _configure_backend(self, config: EnvironmentConfig, emulator: LocalEmulator | None) -> None:
        backend = config.state_backend
        S3Backend(
            self,
            bucket=backend.bucket,
            key=state_key(config),
            region=backend.region or config.aws_region,
            encrypt=True,
            kms_key_id=backend.kms_key_id,
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


def _logs_may_use_key(*, region: str, account_id: str, partition: str) -> dict[str, Any]:
    """CloudWatch Logs encrypts with the key directly, limited to this account's log groups."""
    return {
        "Sid": "CloudWatchLogsEncryptLogGroups",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:*"}},
    }
