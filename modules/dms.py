"""DMS replication: subnet group, replication instance, TLS endpoints via Secrets Manager, the task."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformLocal, TerraformResourceLifecycle
from constructs import Construct

from contract.dms import (
    SOURCE_PLUGIN,
    TARGET_AFTER_CONNECT_SCRIPT,
    TARGET_SSL_MODE,
    MigrationType,
    ServiceRolesMode,
    SourceSslMode,
)
from contract.naming import Naming, dms_task_log_group
from modules.aws import (
    CloudwatchLogGroup,
    DmsCertificate,
    DmsEndpoint,
    DmsEndpointPostgresSettings,
    DmsReplicationInstance,
    DmsReplicationSubnetGroup,
    DmsReplicationTask,
)
from modules.dms_documents import TaskDocumentsProps, table_mappings, task_settings
from modules.dms_roles import (
    DmsServiceRoles,
    DmsServiceRolesProps,
    SecretsAccessRole,
    SecretsAccessRoleProps,
)


@dataclass(frozen=True, kw_only=True)
class SourceEndpointProps:
    """The on-premises PostgreSQL database (config table `source`)."""

    database_name: str
    secret_arn: str
    """Secret with the migration user's `username`, `password`, `host`, `port`."""
    secret_kms_key_arn: str | None
    """CMK of that secret, or None for the AWS-managed key."""
    ssl_mode: SourceSslMode
    ca_certificate_pem: str | None
    """PEM CA bundle of the source's certificate; present exactly when `ssl_mode` is a verify-* mode."""
    heartbeat_frequency_minutes: int
    dms_schema: str
    """Schema on the source for the heartbeat table (and the DDL capture artifacts)."""
    capture_ddl: bool
    """DMS CaptureDdls: off unless the migration user is a superuser (the artifacts need one)."""


@dataclass(frozen=True, kw_only=True)
class TargetEndpointProps:
    """The Aurora cluster, reached over TLS with its certificate verified (`TARGET_SSL_MODE`), with the credentials of
    a secret."""

    database_name: str
    secret_arn: str
    """The dedicated DMS target user's secret, or the master credentials secret (config `dms.target_user`)."""
    secret_kms_key_arn: str
    ca_certificate_pem: str
    """PEM bundle of the RDS certificate authorities (config `dms.target_ca_certificate_file`)."""


@dataclass(frozen=True, kw_only=True)
class DmsReplicationProps:
    """The values below are validated by the config model (config/model.py, `dms`, `source`, `network`)."""

    naming: Naming
    account_id: str
    partition: str
    region: str
    subnet_ids: tuple[str, ...]
    security_group_id: str
    kms_key_arn: str
    """CMK of the replication instance storage, the endpoints and the task log group."""
    service_roles: ServiceRolesMode
    replication_instance_class: str
    allocated_storage_gib: int
    engine_version: str
    """DMS engine a new replication instance is created with; ignored once it exists."""
    multi_az: bool
    preferred_maintenance_window: str
    migration_type: MigrationType
    task_log_retention_days: int
    documents: TaskDocumentsProps
    source: SourceEndpointProps
    target: TargetEndpointProps
    secrets_manager_endpoint_override: str | None = None
    """DNS name of the Secrets Manager VPC endpoint both endpoints read their secrets through
    (`secretsManagerEndpointOverride`), or None to resolve `secretsmanager.<region>.amazonaws.com` (private DNS)."""


def secrets_manager_override_attribute(dns_name: str | None) -> str | None:
    """The extra connection attribute of the DMS user guide, "Using secrets to access AWS Database Migration Service
    endpoints" (replication instance in a private subnet): `secretsManagerEndpointOverride=<VPC endpoint DNS>`."""
    return None if dns_name is None else f"secretsManagerEndpointOverride={dns_name}"


class DmsReplication(Construct):
    """Exposes the ARNs of the task, replication instance and endpoints, and the ids CloudWatch uses."""

    def __init__(self, scope: Construct, id_: str, *, props: DmsReplicationProps) -> None:
        super().__init__(scope, id_)
        naming = props.naming
        service_roles = DmsServiceRoles(
            self,
            "service-roles",
            props=DmsServiceRolesProps(mode=props.service_roles, account_id=props.account_id, partition=props.partition),
        )
        secret_keys = tuple(arn for arn in (props.source.secret_kms_key_arn, props.target.secret_kms_key_arn) if arn is not None)
        secrets_role = SecretsAccessRole(
            self,
            "secrets-access",
            props=SecretsAccessRoleProps(
                naming=naming,
                account_id=props.account_id,
                region=props.region,
                secret_arns=(props.source.secret_arn, props.target.secret_arn),
                kms_key_arns=secret_keys,
            ),
        )
        subnet_group = DmsReplicationSubnetGroup(
            self,
            "subnets",
            replication_subnet_group_id=naming.name("dms"),
            replication_subnet_group_description="Private subnets of the DMS replication instance",
            subnet_ids=list(props.subnet_ids),
            depends_on=service_roles.ready,
        )
        replication_instance_id = naming.replication_instance_identifier
        # DMS writes task logs here; created first so they expire and are encrypted.
        CloudwatchLogGroup(
            self,
            "task-log",
            name=dms_task_log_group(replication_instance_id),
            retention_in_days=props.task_log_retention_days,
            kms_key_id=props.kms_key_arn,
        )
        self.replication_instance = DmsReplicationInstance(
            self,
            "instance",
            replication_instance_id=replication_instance_id,
            replication_instance_class=props.replication_instance_class,
            allocated_storage=props.allocated_storage_gib,
            # The version a new instance is created with. Auto minor upgrades change it and the provider has no
            # prefix rule for DMS, so the next plan would propose a downgrade: ignored after creation (docs/design.md "Versions").
            engine_version=props.engine_version,
            multi_az=props.multi_az,
            publicly_accessible=False,
            kms_key_arn=props.kms_key_arn,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            apply_immediately=False,
            preferred_maintenance_window=props.preferred_maintenance_window,
            replication_subnet_group_id=subnet_group.replication_subnet_group_id,
            vpc_security_group_ids=[props.security_group_id],
            depends_on=service_roles.ready,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["engine_version"]),
        )

        extra_connection_attributes = secrets_manager_override_attribute(props.secrets_manager_endpoint_override)
        certificate_arn = None
        if props.source.ssl_mode.startswith("verify"):
            certificate_arn = DmsCertificate(
                self,
                "source-ca",
                certificate_id=naming.name("source-ca"),
                certificate_pem=props.source.ca_certificate_pem,
            ).certificate_arn
        self.source_endpoint = DmsEndpoint(
            self,
            "source",
            endpoint_id=naming.name("source"),
            endpoint_type="source",
            engine_name="postgres",
            database_name=props.source.database_name,
            secrets_manager_arn=props.source.secret_arn,
            secrets_manager_access_role_arn=secrets_role.arn,
            extra_connection_attributes=extra_connection_attributes,
            ssl_mode=props.source.ssl_mode,
            certificate_arn=certificate_arn,
            kms_key_arn=props.kms_key_arn,
            postgres_settings=DmsEndpointPostgresSettings(
                heartbeat_enable=True,
                heartbeat_frequency=props.source.heartbeat_frequency_minutes,
                heartbeat_schema=props.source.dms_schema,
                plugin_name=SOURCE_PLUGIN,
                capture_ddls=props.source.capture_ddl,
                ddl_artifacts_schema=props.source.dms_schema if props.source.capture_ddl else None,
                fail_tasks_on_lob_truncation=True,
            ),
        )
        self.target_endpoint = DmsEndpoint(
            self,
            "target",
            endpoint_id=naming.name("target"),
            endpoint_type="target",
            engine_name="aurora-postgresql",
            database_name=props.target.database_name,
            secrets_manager_arn=props.target.secret_arn,
            secrets_manager_access_role_arn=secrets_role.arn,
            extra_connection_attributes=extra_connection_attributes,
            ssl_mode=TARGET_SSL_MODE,
            certificate_arn=DmsCertificate(
                self, "target-ca", certificate_id=naming.name("target-ca"), certificate_pem=props.target.ca_certificate_pem
            ).certificate_arn,
            kms_key_arn=props.kms_key_arn,
            postgres_settings=DmsEndpointPostgresSettings(after_connect_script=TARGET_AFTER_CONNECT_SCRIPT),
        )
        self.task = DmsReplicationTask(
            self,
            "task",
            replication_task_id=naming.replication_task_identifier,
            migration_type=props.migration_type,
            replication_instance_arn=self.replication_instance.replication_instance_arn,
            source_endpoint_arn=self.source_endpoint.endpoint_arn,
            target_endpoint_arn=self.target_endpoint.endpoint_arn,
            table_mappings=table_mappings(props.documents),
            replication_task_settings=task_settings(props.documents),
            # Starting replication is an operator step (docs/runbook.md), never a side effect of deploy.
            start_replication_task=False,
        )
        self._task_resource_id = TerraformLocal(
            self, "task-resource-id", Fn.element(Fn.split(":", self.task.replication_task_arn), 6)
        )

    @property
    def task_arn(self) -> str:
        return self.task.replication_task_arn

    @property
    def task_resource_id(self) -> str:
        """The id CloudWatch uses as ReplicationTaskIdentifier: the last field of the task ARN.

        A local keeps the expression (and its quotes) out of JSON documents that embed it.
        """
        return str(self._task_resource_id.as_string)

    @property
    def replication_instance_arn(self) -> str:
        return self.replication_instance.replication_instance_arn

    @property
    def replication_instance_identifier(self) -> str:
        return self.replication_instance.replication_instance_id

    @property
    def task_identifier(self) -> str:
        """`replication_task_id`: what DMS event subscriptions name as their source."""
        return self.task.replication_task_id

    @property
    def source_endpoint_arn(self) -> str:
        return self.source_endpoint.endpoint_arn

    @property
    def target_endpoint_arn(self) -> str:
        return self.target_endpoint.endpoint_arn
