"""Terraform attributes mapped to the API members they become, checked against botocore's shapes.

The mapping is data (MODEL_RULES), one row per attribute. A test asserts that
every mapped member exists in the installed botocore model, so a botocore
upgrade that renames one fails loudly instead of silently checking nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.model import ListShape, Shape, StringShape, StructureShape

from review.aws_contract.core import Stack, Violation, is_expression, values_at


@dataclass(frozen=True, kw_only=True)
class ModelRule:
    resource_type: str
    """`aws_...` for resources, `ephemeral.aws_...` / `data.aws_...` for the other blocks."""
    attribute: str
    """Dotted path inside the block (nested blocks: `postgres_settings.plugin_name`)."""
    service: str
    operation: str
    member: str
    """Dotted member path inside the operation's input shape."""

    @property
    def api(self) -> str:
        return f"{self.service} {self.operation}.{self.member}"


def _rules(resource_type: str, service: str, operation: str, *pairs: tuple[str, str]) -> list[ModelRule]:
    return [ModelRule(resource_type=resource_type, attribute=a, service=service, operation=operation, member=m) for a, m in pairs]


MODEL_RULES: tuple[ModelRule, ...] = (
    *_rules(
        "aws_dms_endpoint", "dms", "CreateEndpoint",
        ("endpoint_id", "EndpointIdentifier"), ("endpoint_type", "EndpointType"), ("engine_name", "EngineName"),
        ("ssl_mode", "SslMode"), ("database_name", "DatabaseName"),
        ("postgres_settings.plugin_name", "PostgreSQLSettings.PluginName"),
        ("postgres_settings.heartbeat_frequency", "PostgreSQLSettings.HeartbeatFrequency"),
        ("postgres_settings.heartbeat_schema", "PostgreSQLSettings.HeartbeatSchema"),
        ("postgres_settings.ddl_artifacts_schema", "PostgreSQLSettings.DdlArtifactsSchema"),
        ("postgres_settings.after_connect_script", "PostgreSQLSettings.AfterConnectScript"),
        ("postgres_settings.database_mode", "PostgreSQLSettings.DatabaseMode"),
        ("postgres_settings.map_long_varchar_as", "PostgreSQLSettings.MapLongVarcharAs"),
    ),
    *_rules(
        "aws_dms_replication_instance", "dms", "CreateReplicationInstance",
        ("replication_instance_id", "ReplicationInstanceIdentifier"), ("replication_instance_class", "ReplicationInstanceClass"),
        ("allocated_storage", "AllocatedStorage"), ("engine_version", "EngineVersion"),
        ("preferred_maintenance_window", "PreferredMaintenanceWindow"), ("network_type", "NetworkType"),
    ),
    *_rules(
        "aws_dms_replication_task", "dms", "CreateReplicationTask",
        ("replication_task_id", "ReplicationTaskIdentifier"), ("migration_type", "MigrationType"),
    ),
    *_rules(
        "aws_dms_replication_subnet_group", "dms", "CreateReplicationSubnetGroup",
        ("replication_subnet_group_id", "ReplicationSubnetGroupIdentifier"),
        ("replication_subnet_group_description", "ReplicationSubnetGroupDescription"),
    ),
    *_rules("aws_dms_certificate", "dms", "ImportCertificate", ("certificate_id", "CertificateIdentifier")),
    *_rules(
        "aws_dms_event_subscription", "dms", "CreateEventSubscription",
        ("name", "SubscriptionName"), ("source_type", "SourceType"),
    ),
    *_rules(
        "aws_rds_cluster", "rds", "CreateDBCluster",
        ("cluster_identifier", "DBClusterIdentifier"), ("engine", "Engine"), ("engine_version", "EngineVersion"),
        ("engine_mode", "EngineMode"), ("database_insights_mode", "DatabaseInsightsMode"),
        ("database_name", "DatabaseName"), ("master_username", "MasterUsername"),
        ("port", "Port"), ("backup_retention_period", "BackupRetentionPeriod"),
        ("preferred_backup_window", "PreferredBackupWindow"), ("preferred_maintenance_window", "PreferredMaintenanceWindow"),
        ("enabled_cloudwatch_logs_exports", "EnableCloudwatchLogsExports"), ("storage_type", "StorageType"),
    ),
    *_rules(
        "aws_appautoscaling_target", "application-autoscaling", "RegisterScalableTarget",
        ("service_namespace", "ServiceNamespace"), ("scalable_dimension", "ScalableDimension"), ("resource_id", "ResourceId"),
        ("min_capacity", "MinCapacity"), ("max_capacity", "MaxCapacity"),
    ),
    *_rules(
        "aws_appautoscaling_policy", "application-autoscaling", "PutScalingPolicy",
        ("name", "PolicyName"), ("policy_type", "PolicyType"), ("service_namespace", "ServiceNamespace"),
        ("scalable_dimension", "ScalableDimension"), ("resource_id", "ResourceId"),
        ("target_tracking_scaling_policy_configuration.target_value", "TargetTrackingScalingPolicyConfiguration.TargetValue"),
        (
            "target_tracking_scaling_policy_configuration.predefined_metric_specification.predefined_metric_type",
            "TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType",
        ),
        *(
            (f"target_tracking_scaling_policy_configuration.{attribute}", f"TargetTrackingScalingPolicyConfiguration.{member}")
            for attribute, member in (("scale_in_cooldown", "ScaleInCooldown"), ("scale_out_cooldown", "ScaleOutCooldown"))
        ),
    ),
    *_rules(
        "aws_rds_cluster_instance", "rds", "CreateDBInstance",
        ("identifier", "DBInstanceIdentifier"), ("instance_class", "DBInstanceClass"), ("engine", "Engine"),
        ("promotion_tier", "PromotionTier"), ("monitoring_interval", "MonitoringInterval"),
        ("performance_insights_retention_period", "PerformanceInsightsRetentionPeriod"),
        ("preferred_maintenance_window", "PreferredMaintenanceWindow"), ("availability_zone", "AvailabilityZone"),
    ),
    *_rules(
        "aws_rds_cluster_parameter_group", "rds", "CreateDBClusterParameterGroup",
        ("name", "DBClusterParameterGroupName"), ("family", "DBParameterGroupFamily"), ("description", "Description"),
    ),
    *_rules(
        "aws_db_parameter_group", "rds", "CreateDBParameterGroup",
        ("name", "DBParameterGroupName"), ("family", "DBParameterGroupFamily"), ("description", "Description"),
    ),
    *_rules(
        "aws_db_subnet_group", "rds", "CreateDBSubnetGroup",
        ("name", "DBSubnetGroupName"), ("description", "DBSubnetGroupDescription"),
    ),
    *_rules(
        "aws_db_event_subscription", "rds", "CreateEventSubscription", ("name", "SubscriptionName"), ("source_type", "SourceType")
    ),
    *_rules(
        "aws_cloudwatch_metric_alarm", "cloudwatch", "PutMetricAlarm",
        ("alarm_name", "AlarmName"), ("alarm_description", "AlarmDescription"), ("comparison_operator", "ComparisonOperator"),
        ("statistic", "Statistic"), ("namespace", "Namespace"), ("metric_name", "MetricName"), ("period", "Period"),
        ("evaluation_periods", "EvaluationPeriods"), ("treat_missing_data", "TreatMissingData"),
        ("datapoints_to_alarm", "DatapointsToAlarm"), ("unit", "Unit"),
    ),
    *_rules("aws_cloudwatch_dashboard", "cloudwatch", "PutDashboard", ("dashboard_name", "DashboardName")),
    *_rules(
        "aws_cloudwatch_event_rule", "events", "PutRule",
        ("name", "Name"), ("description", "Description"), ("event_pattern", "EventPattern"), ("state", "State"),
        ("event_bus_name", "EventBusName"),
    ),
    *_rules(
        "aws_cloudwatch_event_target", "events", "PutTargets",
        ("rule", "Rule"), ("target_id", "Targets.Id"), ("arn", "Targets.Arn"), ("event_bus_name", "EventBusName"),
    ),
    *_rules(
        "aws_cloudwatch_log_group", "logs", "CreateLogGroup",
        ("name", "logGroupName"), ("kms_key_id", "kmsKeyId"), ("log_group_class", "logGroupClass"),
    ),
    *_rules("aws_cloudwatch_log_group", "logs", "PutRetentionPolicy", ("retention_in_days", "retentionInDays")),
    *_rules(
        "aws_kms_key", "kms", "CreateKey",
        ("description", "Description"), ("key_usage", "KeyUsage"), ("customer_master_key_spec", "KeySpec"), ("policy", "Policy"),
    ),
    *_rules("aws_kms_key", "kms", "ScheduleKeyDeletion", ("deletion_window_in_days", "PendingWindowInDays")),
    *_rules("aws_kms_alias", "kms", "CreateAlias", ("name", "AliasName")),
    *_rules(
        "aws_secretsmanager_secret", "secretsmanager", "CreateSecret",
        ("name", "Name"), ("description", "Description"), ("kms_key_id", "KmsKeyId"),
    ),
    *_rules("aws_secretsmanager_secret", "secretsmanager", "DeleteSecret", ("recovery_window_in_days", "RecoveryWindowInDays")),
    *_rules(
        "ephemeral.aws_secretsmanager_random_password", "secretsmanager", "GetRandomPassword",
        ("password_length", "PasswordLength"), ("exclude_characters", "ExcludeCharacters"),
    ),
    *_rules("aws_sns_topic", "sns", "CreateTopic", ("name", "Name")),
    *_rules("aws_sns_topic_subscription", "sns", "Subscribe", ("protocol", "Protocol")),
    *_rules(
        "aws_iam_role", "iam", "CreateRole",
        ("name", "RoleName"), ("description", "Description"), ("assume_role_policy", "AssumeRolePolicyDocument"),
        ("path", "Path"), ("max_session_duration", "MaxSessionDuration"),
    ),
    *_rules("aws_iam_role_policy", "iam", "PutRolePolicy", ("name", "PolicyName"), ("policy", "PolicyDocument")),
    *_rules("aws_iam_role_policy_attachment", "iam", "AttachRolePolicy", ("policy_arn", "PolicyArn")),
    *_rules(
        "aws_security_group", "ec2", "CreateSecurityGroup", ("name", "GroupName"), ("description", "Description")
    ),
    *_rules(
        "aws_vpc_endpoint", "ec2", "CreateVpcEndpoint",
        ("vpc_endpoint_type", "VpcEndpointType"), ("service_name", "ServiceName"), ("ip_address_type", "IpAddressType"),
    ),
    *_rules(
        "aws_vpc_security_group_ingress_rule", "ec2", "AuthorizeSecurityGroupIngress",
        ("ip_protocol", "IpPermissions.IpProtocol"), ("from_port", "IpPermissions.FromPort"), ("to_port", "IpPermissions.ToPort"),
    ),
    *_rules(
        "aws_vpc_security_group_egress_rule", "ec2", "AuthorizeSecurityGroupEgress",
        ("ip_protocol", "IpPermissions.IpProtocol"), ("from_port", "IpPermissions.FromPort"), ("to_port", "IpPermissions.ToPort"),
    ),
)  # fmt: skip


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def member_shape(rule: ModelRule) -> Shape:
    """The botocore shape of the rule's member; KeyError if the installed model has no such member."""
    shape: Shape | None = _session().get_service_model(rule.service).operation_model(rule.operation).input_shape
    for part in rule.member.split("."):
        while isinstance(shape, ListShape):
            shape = shape.member
        if not isinstance(shape, StructureShape):
            raise KeyError(f"{rule.api}: {part} is not inside a structure")
        shape = shape.members[part]
    assert shape is not None
    return shape


def shape_problems(shape: Shape, value: Any) -> Iterator[str]:
    """What botocore's shape says about `value`: enum, length, numeric range, pattern."""
    if isinstance(shape, ListShape) and isinstance(value, list):
        for item in value:
            yield from shape_problems(shape.member, item)
        return
    metadata = shape.metadata
    if isinstance(shape, StringShape) and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            yield f"enum {shape.name}: {' | '.join(shape.enum)}"
        if "min" in metadata and len(value) < metadata["min"]:
            yield f"{shape.name}: at least {metadata['min']} characters"
        if "max" in metadata and len(value) > metadata["max"]:
            yield f"{shape.name}: at most {metadata['max']} characters"
        pattern = metadata.get("pattern")
        if pattern and not _matches(pattern, value):
            yield f"{shape.name}: pattern {pattern}"
    elif shape.type_name in ("integer", "long", "double", "float") and isinstance(value, int | float | str):
        try:
            number = float(value)
        except ValueError:
            yield f"{shape.name}: a number"
            return
        if "min" in metadata and number < metadata["min"]:
            yield f"{shape.name}: at least {metadata['min']}"
        if "max" in metadata and number > metadata["max"]:
            yield f"{shape.name}: at most {metadata['max']}"


def _matches(pattern: str, value: str) -> bool:
    """AWS patterns are Java regular expressions; the few Python cannot compile are not checked."""
    try:
        return re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value, flags=re.DOTALL) is not None
    except re.error:
        return True


def check(stack: Stack) -> Iterator[Violation]:
    by_type: dict[str, list[ModelRule]] = {}
    for rule in MODEL_RULES:
        by_type.setdefault(rule.resource_type, []).append(rule)
    for block in ("resource", "data", "ephemeral"):
        prefix = "" if block == "resource" else f"{block}."
        for resource_type, address, body in stack.elements(block):
            for rule in by_type.get(f"{prefix}{resource_type}", []):
                shape = member_shape(rule)
                for attribute, value in values_at(body, rule.attribute):
                    if is_expression(value) or (isinstance(value, list) and any(is_expression(v) for v in value)):
                        continue
                    for problem in shape_problems(shape, value):
                        yield Violation(
                            stack=stack.name,
                            address=address,
                            attribute=attribute,
                            value=value,
                            rule=problem,
                            source=f"botocore {botocore.__version__} {rule.api}",
                        )
