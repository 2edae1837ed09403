"""Config becomes construct props here and nowhere else: one small adapter per construct.

Each adapter takes the validated environment config and the attributes of the
constructs it is wired to; the constructs never see the config model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from config.model import DmsConfig, EnvironmentConfig, TableSelection
from contract.aurora import POSTGRES_PORT, READER_SCALING_METRICS
from contract.naming import Naming
from modules.alarms import MonitoringProps, Subscription
from modules.aurora import AuroraCluster, AuroraClusterProps
from modules.aurora_parameters import DatabaseObservability
from modules.credentials import CredentialsSecretProps
from modules.dms import DmsReplication, DmsReplicationProps, SourceEndpointProps, TargetEndpointProps
from modules.dms_documents import TableRule, TaskDocumentsProps
from modules.dms_target_secret import DmsTargetSecretProps
from modules.kms import EncryptionKeyProps
from modules.master_password import MasterPassword, MasterPasswordProps
from modules.network import MigrationNetworkProps
from modules.policy import Statement
from modules.reader_scaling import ReaderAutoScalingProps
from modules.secrets_endpoint import SecretsManagerEndpointProps
from modules.user_secret import UserSecretProps
from stacks.alarm_props import alarm_thresholds, instance_max_connections, serverless_max_capacity_acu


@dataclass(frozen=True, kw_only=True)
class StackContext:
    """What every adapter needs besides the config: names and the account the stack deploys to (tokens)."""

    config: EnvironmentConfig
    naming: Naming
    account_id: str
    partition: str


def naming_of(config: EnvironmentConfig) -> Naming:
    return Naming(prefix=config.name_prefix, suffix=config.environment_suffix)


def database_key_props(ctx: StackContext) -> EncryptionKeyProps:
    return EncryptionKeyProps(
        alias_name=ctx.naming.name("database"),
        description=f"Aurora, DMS, credentials secret and logs of {ctx.naming.stack_name}",
        account_id=ctx.account_id,
        partition=ctx.partition,
        service_statements=(_logs_may_use_key(ctx),),
    )


def network_props(ctx: StackContext) -> MigrationNetworkProps:
    network, source = ctx.config.network, ctx.config.source
    return MigrationNetworkProps(
        naming=ctx.naming,
        vpc_id=network.vpc_id,
        database_port=POSTGRES_PORT,
        source_cidr_block=source.cidr_block,
        source_port=source.port,
        application_security_group_ids=network.application_security_group_ids,
        application_cidr_blocks=network.application_cidr_blocks,
    )


def secrets_endpoint_props(ctx: StackContext, *, dms_security_group_id: str) -> SecretsManagerEndpointProps:
    network = ctx.config.network
    return SecretsManagerEndpointProps(
        naming=ctx.naming,
        region=ctx.config.aws_region,
        vpc_id=network.vpc_id,
        vpc_cidr_block=network.vpc_cidr_block,
        subnets=network.dms_subnets,
        dms_security_group_id=dms_security_group_id,
        endpoint=network.secrets_manager_endpoint,
    )


def master_password_props(ctx: StackContext, *, kms_key_arn: str) -> MasterPasswordProps:
    aurora = ctx.config.aurora
    return MasterPasswordProps(
        naming=ctx.naming,
        kms_key_arn=kms_key_arn,
        rotation_version=aurora.master_password_version,
        recovery_window_days=aurora.secret_recovery_window_days,
    )


def aurora_props(
    ctx: StackContext, *, security_group_id: str, kms_key_arn: str, master_password: MasterPassword
) -> AuroraClusterProps:
    aurora, subnets = ctx.config.aurora, ctx.config.network.aurora_subnets
    return AuroraClusterProps(
        naming=ctx.naming,
        partition=ctx.partition,
        account_id=ctx.account_id,
        engine_version=aurora.engine_version,
        allow_major_version_upgrade=aurora.allow_major_version_upgrade,
        instance_class=aurora.instance_class,
        serverless_capacity_acu=(
            (aurora.serverless_min_capacity_acu, aurora.serverless_max_capacity_acu)
            if aurora.serverless_min_capacity_acu is not None and aurora.serverless_max_capacity_acu is not None
            else None
        ),
        reader_count=aurora.reader_count,
        subnet_ids=tuple(subnets),
        availability_zones=tuple(sorted(set(subnets.values()))),
        security_group_id=security_group_id,
        kms_key_arn=kms_key_arn,
        master_username=aurora.master_username,
        master_password=master_password.value,
        master_password_version_id=master_password.version_id,
        database_name=aurora.database_name,
        backup_retention_days=aurora.backup_retention_days,
        preferred_backup_window=aurora.preferred_backup_window,
        preferred_maintenance_window=aurora.preferred_maintenance_window,
        deletion_protection=aurora.deletion_protection,
        skip_final_snapshot=aurora.skip_final_snapshot,
        performance_insights_retention_days=aurora.performance_insights_retention_days,
        database_insights_mode=aurora.database_insights_mode,
        monitoring_interval_seconds=aurora.monitoring_interval_seconds,
        log_retention_days=aurora.log_retention_days,
        log_min_duration_statement_ms=aurora.log_min_duration_statement_ms,
        observability=DatabaseObservability(
            log_temp_files_kb=ctx.config.observability.log_temp_files_kb,
            log_autovacuum_min_duration_ms=ctx.config.observability.log_autovacuum_min_duration_ms,
            auto_explain_min_duration_ms=ctx.config.observability.auto_explain_min_duration_ms,
            pgaudit_log=ctx.config.observability.pgaudit_log,
            pgaudit_object_audit=ctx.config.observability.pgaudit_object_audit,
        ),
    )


def reader_scaling_props(ctx: StackContext, *, cluster: AuroraCluster) -> ReaderAutoScalingProps | None:
    """None when `aurora.auto_scaling` is off: then the stack has no scaling resources at all."""
    aurora = ctx.config.aurora
    scaling = aurora.auto_scaling
    if not scaling.enabled:
        return None
    return ReaderAutoScalingProps(
        naming=ctx.naming,
        cluster_identifier=cluster.cluster_identifier,
        min_readers=aurora.reader_count,
        max_readers=scaling.max_readers,
        predefined_metric=READER_SCALING_METRICS[scaling.metric],
        target_value=scaling.target_value,
        scale_in_cooldown_seconds=scaling.scale_in_cooldown_seconds,
        scale_out_cooldown_seconds=scaling.scale_out_cooldown_seconds,
        readers=tuple(cluster.readers),
    )


class _LoginAtCluster(TypedDict):
    """What every login secret of the stack shares: the key, the cluster's writer, its database, the recovery window."""

    kms_key_arn: str
    host: str
    port: int
    database_name: str
    recovery_window_days: int


def _login_at(ctx: StackContext, *, kms_key_arn: str, cluster: AuroraCluster) -> _LoginAtCluster:
    aurora = ctx.config.aurora
    return _LoginAtCluster(
        kms_key_arn=kms_key_arn,
        host=cluster.endpoint,
        port=cluster.port,
        database_name=aurora.database_name,
        recovery_window_days=aurora.secret_recovery_window_days,
    )


def credentials_props(
    ctx: StackContext, *, kms_key_arn: str, master_password: MasterPassword, cluster: AuroraCluster
) -> CredentialsSecretProps:
    return CredentialsSecretProps(
        naming=ctx.naming,
        username=ctx.config.aurora.master_username,
        password=master_password.value,
        password_version_id=master_password.version_id,
        **_login_at(ctx, kms_key_arn=kms_key_arn, cluster=cluster),
    )


def dms_target_secret_props(ctx: StackContext, *, kms_key_arn: str, cluster: AuroraCluster) -> DmsTargetSecretProps | None:
    """None when `dms.target_user` is "master": the target endpoint then reads the credentials secret."""
    dms = ctx.config.dms
    if dms.target_user != "dedicated":
        return None
    return DmsTargetSecretProps(
        naming=ctx.naming,
        username=dms.target_username,
        password_version=dms.target_password_version,
        **_login_at(ctx, kms_key_arn=kms_key_arn, cluster=cluster),
    )


def application_secret_props(ctx: StackContext, *, kms_key_arn: str, cluster: AuroraCluster) -> UserSecretProps:
    """The applications' own user (`aurora.application_username`); the master secret stays with DMS set-up and operators."""
    aurora = ctx.config.aurora
    return UserSecretProps(
        name=ctx.naming.application_secret_name,
        description="Credentials of the applications' database user (not the master user); the role is created on "
        'Aurora by the runbook ("The application user")',
        username=aurora.application_username,
        password_version=aurora.application_password_version,
        **_login_at(ctx, kms_key_arn=kms_key_arn, cluster=cluster),
    )


def dms_props(
    ctx: StackContext,
    *,
    security_group_id: str,
    kms_key_arn: str,
    target_secret_arn: str,
    secrets_manager_endpoint_dns_name: str | None = None,
) -> DmsReplicationProps:
    """`target_secret_arn`: the dedicated DMS target user's secret, or the credentials secret (`dms.target_user`);
    `secrets_manager_endpoint_dns_name`: the Secrets Manager VPC endpoint's DNS name, which the endpoints name only
    with `dms.secrets_manager_endpoint_override`."""
    config = ctx.config
    dms, source = config.dms, config.source
    return DmsReplicationProps(
        naming=ctx.naming,
        account_id=ctx.account_id,
        partition=ctx.partition,
        region=config.aws_region,
        subnet_ids=tuple(config.network.dms_subnets),
        security_group_id=security_group_id,
        kms_key_arn=kms_key_arn,
        service_roles=dms.service_roles,
        replication_instance_class=dms.replication_instance_class,
        allocated_storage_gib=dms.allocated_storage_gib,
        engine_version=dms.engine_version,
        multi_az=dms.multi_az,
        preferred_maintenance_window=dms.preferred_maintenance_window,
        migration_type=dms.migration_type,
        task_log_retention_days=dms.task_log_retention_days,
        documents=task_documents_props(dms),
        source=SourceEndpointProps(
            database_name=source.database_name,
            secret_arn=source.credentials_secret_arn,
            secret_kms_key_arn=source.credentials_kms_key_arn,
            ssl_mode=source.ssl_mode,
            ca_certificate_pem=source.ca_certificate_file.read_text() if source.ca_certificate_file else None,
            heartbeat_frequency_minutes=dms.heartbeat_frequency_minutes,
            dms_schema=dms.source_schema,
            capture_ddl=dms.capture_ddl,
        ),
        target=TargetEndpointProps(
            database_name=config.aurora.database_name,
            secret_arn=target_secret_arn,
            secret_kms_key_arn=kms_key_arn,
            ca_certificate_pem=dms.target_ca_certificate_file.read_text(),
        ),
        secrets_manager_endpoint_override=secrets_manager_endpoint_dns_name if dms.secrets_manager_endpoint_override else None,
    )


def monitoring_props(ctx: StackContext, *, cluster: AuroraCluster, replication: DmsReplication) -> MonitoringProps:
    monitoring, aurora = ctx.config.monitoring, ctx.config.aurora
    return MonitoringProps(
        naming=ctx.naming,
        account_id=ctx.account_id,
        partition=ctx.partition,
        region=ctx.config.aws_region,
        thresholds=alarm_thresholds(monitoring),
        period_seconds=monitoring.period_seconds,
        evaluation_periods=monitoring.evaluation_periods,
        subscriptions=(
            *(Subscription(protocol="email", endpoint=address) for address in monitoring.alarm_email_addresses),
            *(Subscription(protocol="https", endpoint=url) for url in monitoring.alarm_https_endpoints),
        ),
        cluster_identifier=cluster.cluster_identifier,
        instance_identifiers=tuple(cluster.instance_identifiers),
        instance_max_connections=instance_max_connections(aurora),
        serverless_max_capacity_acu=serverless_max_capacity_acu(aurora),
        reader_auto_scaling=aurora.auto_scaling.enabled,
        replication_instance_identifier=replication.replication_instance_identifier,
        replication_task_identifier=replication.task_identifier,
        replication_task_resource_id=replication.task_resource_id,
        replication_task_arn=replication.task_arn,
    )


def task_documents_props(dms: DmsConfig) -> TaskDocumentsProps:
    return TaskDocumentsProps(
        include=_rules(dms.include),
        exclude=_rules(dms.exclude),
        lob_max_size_kb=dms.lob_max_size_kb,
        control_schema=dms.control_schema,
    )


def _rules(selections: tuple[TableSelection, ...]) -> tuple[TableRule, ...]:
    return tuple(TableRule(schema_name=s.schema_name, table_name=s.table_name) for s in selections)


def _logs_may_use_key(ctx: StackContext) -> Statement:
    """CloudWatch Logs encrypts with the key directly, limited to this account's log groups."""
    region = ctx.config.aws_region
    return {
        "Sid": "CloudWatchLogsEncryptLogGroups",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{ctx.partition}:logs:{region}:{ctx.account_id}:*"}},
    }
