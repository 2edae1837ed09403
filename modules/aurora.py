"""The Aurora PostgreSQL cluster: subnet group, parameter groups, log group, cluster, instances."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from contract.aurora import AURORA_ENGINE, POSTGRES_PORT
from contract.naming import Naming, postgresql_log_group
from modules.aurora_parameters import AuroraParameterGroups, AuroraParameterGroupsProps, DatabaseObservability
from modules.aws import (
    CloudwatchLogGroup,
    DbSubnetGroup,
    IamRole,
    IamRolePolicyAttachment,
    RdsCluster,
    RdsClusterInstance,
)
from modules.expressions import version_number
from modules.policy import service_trust_policy

ENHANCED_MONITORING_POLICY = "policy/service-role/AmazonRDSEnhancedMonitoringRole"


@dataclass(frozen=True, kw_only=True)
class AuroraClusterProps:
    """The values below are validated by the config model (config/model.py, `aurora` and `network`)."""

    naming: Naming
    partition: str
    account_id: str
    engine_version: str
    """`major.minor` a new cluster is created with; ignored once it exists (AWS applies minor upgrades)."""
    instance_class: str
    """Class of the writer and every reader."""
    reader_count: int
    """Readers besides the writer."""
    subnet_ids: tuple[str, ...]
    availability_zones: tuple[str, ...]
    """Distinct AZs of the subnets; the writer takes the first, readers the others in turn."""
    security_group_id: str
    kms_key_arn: str
    """CMK of the storage, Performance Insights and the PostgreSQL log group."""
    master_username: str
    master_password: str
    """Ephemeral token of the master password (MasterPassword.value); written only to `master_password_wo`."""
    master_password_version_id: str
    """Version id of the master password secret: the cluster's password is rewritten whenever it changes."""
    database_name: str
    """Database created with the cluster (the DMS target database)."""
    backup_retention_days: int
    preferred_backup_window: str
    preferred_maintenance_window: str
    deletion_protection: bool
    skip_final_snapshot: bool
    performance_insights_retention_days: int
    monitoring_interval_seconds: int
    """Enhanced Monitoring interval of every instance."""
    log_retention_days: int
    log_min_duration_statement_ms: int
    observability: DatabaseObservability
    """Preloaded libraries and tuning/audit logging of the parameter groups."""

    @property
    def instance_zones(self) -> tuple[str, ...]:
        """Writer in the first AZ, readers round-robin starting with the next one."""
        zones = self.availability_zones
        return tuple(zones[index % len(zones)] for index in range(self.reader_count + 1))


class AuroraCluster(Construct):
    """Exposes `endpoint`, `reader_endpoint`, `cluster_identifier`, `instance_identifiers`, `port`."""

    port = POSTGRES_PORT

    def __init__(self, scope: Construct, id_: str, *, props: AuroraClusterProps) -> None:
        super().__init__(scope, id_)
        naming = props.naming
        cluster_identifier = naming.cluster_identifier

        subnet_group = DbSubnetGroup(
            self,
            "subnets",
            name=naming.name("aurora"),
            description="Private subnets of the Aurora cluster",
            subnet_ids=list(props.subnet_ids),
        )
        parameters = AuroraParameterGroups(
            self,
            "parameters",
            props=AuroraParameterGroupsProps(
                naming=naming,
                engine_version=props.engine_version,
                log_min_duration_statement_ms=props.log_min_duration_statement_ms,
                observability=props.observability,
            ),
        )
        # Created before the cluster exports to it; otherwise RDS creates it without expiry.
        self.log_group = CloudwatchLogGroup(
            self,
            "postgresql-log",
            name=postgresql_log_group(cluster_identifier),
            retention_in_days=props.log_retention_days,
            kms_key_id=props.kms_key_arn,
        )
        monitoring_role = IamRole(
            self,
            "monitoring-role",
            name=naming.name("rds-monitoring"),
            assume_role_policy=service_trust_policy("monitoring.rds.amazonaws.com", account_id=props.account_id),
        )
        IamRolePolicyAttachment(
            self,
            "monitoring-policy",
            role=monitoring_role.name,
            policy_arn=f"arn:{props.partition}:iam::aws:{ENHANCED_MONITORING_POLICY}",
        )

        self.cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=cluster_identifier,
            engine=AURORA_ENGINE,
            engine_mode="provisioned",
            # The version a new cluster is created with. AWS applies minor upgrades (auto_minor_version_upgrade on
            # the instances) and the 5.x provider would then plan a downgrade to this full version, so the
            # version is ignored after creation (see `lifecycle` below and README "Versions").
            engine_version=props.engine_version,
            allow_major_version_upgrade=False,
            port=POSTGRES_PORT,
            database_name=props.database_name,
            master_username=props.master_username,
            master_password_wo=props.master_password,
            # Any new version of the master password secret rewrites the cluster's password in the same apply.
            master_password_wo_version=version_number(props.master_password_version_id),
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[props.security_group_id],
            db_cluster_parameter_group_name=parameters.cluster.name,
            storage_encrypted=True,
            kms_key_id=props.kms_key_arn,
            iam_database_authentication_enabled=True,
            copy_tags_to_snapshot=True,
            enabled_cloudwatch_logs_exports=["postgresql"],
            backup_retention_period=props.backup_retention_days,
            preferred_backup_window=props.preferred_backup_window,
            preferred_maintenance_window=props.preferred_maintenance_window,
            deletion_protection=props.deletion_protection,
            skip_final_snapshot=props.skip_final_snapshot,
            final_snapshot_identifier=None if props.skip_final_snapshot else naming.name("cluster-final"),
            apply_immediately=False,
            depends_on=[self.log_group],
            # A major-only pin ("15") would avoid the downgrade plan, but then provider 5.x sends EngineVersion
            # with every ModifyDBCluster (cluster.go update path), which RDS does not document for a running minor.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["engine_version"]),
        )

        self.instances: list[RdsClusterInstance] = []
        for index, zone in enumerate(props.instance_zones):
            is_writer = index == 0
            instance = RdsClusterInstance(
                self,
                f"instance-{index + 1}",
                identifier=naming.instance_identifier(index + 1),
                cluster_identifier=self.cluster.id,
                engine=AURORA_ENGINE,
                instance_class=props.instance_class,
                availability_zone=zone,
                db_subnet_group_name=subnet_group.name,
                db_parameter_group_name=parameters.instance.name,
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                # The first reader (another AZ) is the preferred failover target.
                promotion_tier=1 if is_writer else (0 if index == 1 else 2),
                performance_insights_enabled=True,
                performance_insights_retention_period=props.performance_insights_retention_days,
                performance_insights_kms_key_id=props.kms_key_arn,
                monitoring_interval=props.monitoring_interval_seconds,
                monitoring_role_arn=monitoring_role.arn,
                copy_tags_to_snapshot=True,
                preferred_maintenance_window=props.preferred_maintenance_window,
                apply_immediately=False,
                # Aurora makes the first instance to come up the writer: readers wait for it.
                depends_on=None if is_writer else [self.instances[0]],
            )
            self.instances.append(instance)

    @property
    def endpoint(self) -> str:
        return self.cluster.endpoint

    @property
    def reader_endpoint(self) -> str:
        return self.cluster.reader_endpoint

    @property
    def cluster_identifier(self) -> str:
        return self.cluster.cluster_identifier

    @property
    def instance_identifiers(self) -> list[str]:
        return [instance.identifier for instance in self.instances]
