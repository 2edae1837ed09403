"""The Aurora PostgreSQL cluster: subnet group, parameter groups, log group, cluster, instances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf import Postcondition, TerraformResourceLifecycle
from constructs import Construct

from contract.aurora import AURORA_ENGINE, POSTGRES_PORT, engine_major
from contract.naming import Naming, postgresql_log_group
from modules.aurora_parameters import AuroraParameterGroups, AuroraParameterGroupsProps, DatabaseObservability
from modules.aws import (
    CloudwatchLogGroup,
    DbSubnetGroup,
    IamRole,
    IamRolePolicyAttachment,
    RdsCluster,
    RdsClusterInstance,
    RdsClusterServerlessv2ScalingConfiguration,
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
    """`major.minor` a new cluster is created with; ignored once it exists (AWS applies minor upgrades), except while
    `allow_major_version_upgrade` is set."""
    allow_major_version_upgrade: bool
    """The apply that moves the cluster to the major of `engine_version`, in place (runbook, Major version upgrades)."""
    instance_class: str
    """Class of the writer and every reader (`db.serverless`: Aurora Serverless v2)."""
    serverless_capacity_acu: tuple[float, float] | None
    """(min, max) ACUs of every Serverless v2 instance; set exactly when instance_class is `db.serverless`."""
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
    database_insights_mode: str = "standard"
    """`standard` or `advanced` (then the cluster's Performance Insights is on with 465 days, as RDS requires)."""
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
            # version is ignored after creation, except in the apply of a major upgrade (_major_upgrade_settings,
            # docs/design.md "Versions").
            engine_version=props.engine_version,
            **_major_upgrade_settings(props, instance_parameter_group=parameters.instance.name),
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
            # Always set (also while skipped): ignored after creation, it must already be there when
            # skip_final_snapshot is later turned off.
            final_snapshot_identifier=final_snapshot_identifier(naming),
            serverlessv2_scaling_configuration=(
                None
                if props.serverless_capacity_acu is None
                else RdsClusterServerlessv2ScalingConfiguration(
                    min_capacity=props.serverless_capacity_acu[0], max_capacity=props.serverless_capacity_acu[1]
                )
            ),
            **_database_insights_settings(props),
            depends_on=[self.log_group],
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
    def readers(self) -> list[RdsClusterInstance]:
        return self.instances[1:]

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


def _database_insights_settings(props: AuroraClusterProps) -> dict[str, Any]:
    """Database Insights on the cluster (provider 5.100 `aws_rds_cluster.database_insights_mode`). Advanced mode needs
    the cluster's Performance Insights enabled with 465 days (botocore rds CreateDBCluster.DatabaseInsightsMode)."""
    settings: dict[str, Any] = {"database_insights_mode": props.database_insights_mode}
    if props.database_insights_mode == "advanced":
        settings |= {
            "performance_insights_enabled": True,
            "performance_insights_retention_period": props.performance_insights_retention_days,
            "performance_insights_kms_key_id": props.kms_key_arn,
        }
    return settings


def final_snapshot_identifier(naming: Naming) -> str:
    """`<prefix>-cluster-final-<suffix>-<UTC creation time>`: unique per cluster created under the same name.

    A fixed name fails the second destroy of a rebuilt environment (RDS keeps the first final snapshot, and
    DeleteDBCluster refuses a FinalDBSnapshotIdentifier that exists: DBClusterSnapshotAlreadyExistsFault). Only the
    aws provider is available offline (no hashicorp/time `time_static`), so the creation time is Terraform's
    `timestamp()`, frozen by `ignore_changes` (FINAL_SNAPSHOT_IGNORED): the identifier in state is the one written at
    creation, and destroy uses what state holds. Digits and hyphens only, as RDS allows (letters, digits, hyphens).
    """
    return f'{naming.name("cluster-final")}-${{formatdate("YYYYMMDDhhmmss", timestamp())}}'


# timestamp() changes on every plan: without this, every plan would show an update of the cluster.
FINAL_SNAPSHOT_IGNORED = "final_snapshot_identifier"


def _major_upgrade_settings(props: AuroraClusterProps, *, instance_parameter_group: str) -> dict[str, Any]:
    """How `engine_version` reaches the cluster: only in the apply of a major upgrade, and in place.

    Normally the cluster ignores `engine_version` once created: AWS applies minor upgrades, and the 5.x provider
    would plan a downgrade to a full version (Read keeps only a configured prefix of the running version). A
    major-only pin ("15") would avoid that, but then the provider sends EngineVersion with every ModifyDBCluster
    (cluster.go, update: whenever engine_version != engine_version_actual), which RDS does not document for a
    running minor. So the major change is an explicit apply (`allow_major_version_upgrade`) that:

    - stops ignoring `engine_version`, so ModifyDBCluster carries the new version with AllowMajorVersionUpgrade
      (botocore rds ModifyDBCluster: required "when specifying a value for the EngineVersion parameter that is a
      different major version than the DB cluster's current version");
    - sends the new-family instance parameter group with it (DBInstanceParameterGroupName: "valid in combination
      with the AllowMajorVersionUpgrade parameter for a major version upgrade only"): RDS moves every instance,
      Terraform's and auto scaling's, to it, so the instances' own updates that follow are no-ops;
    - applies immediately: deferred to the maintenance window, the instances' new-family groups would be refused
      by the still old-major cluster in the same apply.

    `engine_version` and the parameter groups are updated in place: nothing here forces a new cluster (replacing
    it would destroy the data). A postcondition compares the running major (`engine_version_actual`) with the
    configured one, so a plan refuses a major change without the setting, and the setting left on afterwards.
    """
    major = engine_major(props.engine_version)
    running_major = 'tonumber(split(".", self.engine_version_actual)[0])'
    if props.allow_major_version_upgrade:
        condition = Postcondition(
            # In the plan: an older major still runs. After the apply: the configured version runs.
            condition=f"${{{running_major} < {major} || self.engine_version_actual == self.engine_version}}",
            error_message=(
                f"aurora.allow_major_version_upgrade is set, but the cluster already runs major {major} "
                "(or a newer one): set it back to false (runbook, Major version upgrades)."
            ),
        )
        return {
            "allow_major_version_upgrade": True,
            "db_instance_parameter_group_name": instance_parameter_group,
            "apply_immediately": True,
            "lifecycle": TerraformResourceLifecycle(ignore_changes=[FINAL_SNAPSHOT_IGNORED], postcondition=[condition]),
        }
    condition = Postcondition(
        condition=f"${{{running_major} == {major}}}",
        error_message=(
            f"aurora.engine_version is major {major} but the cluster runs another major: a major upgrade is an apply "
            "with aurora.allow_major_version_upgrade = true (runbook, Major version upgrades); a downgrade is a "
            "restore from a snapshot."
        ),
    )
    return {
        "allow_major_version_upgrade": False,
        "apply_immediately": False,
        # db_instance_parameter_group_name: kept as the last upgrade left it. Unset, the provider would send an empty
        # DBInstanceParameterGroupName; kept, it sends the name and retries without it when RDS answers "can only be
        # specified for a major version upgrade" (cluster.go, update).
        "lifecycle": TerraformResourceLifecycle(
            ignore_changes=["engine_version", "db_instance_parameter_group_name", FINAL_SNAPSHOT_IGNORED],
            postcondition=[condition],
        ),
    }
