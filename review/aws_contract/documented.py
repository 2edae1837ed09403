"""Rules AWS documents but does not put in its API models, each as data with its source."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from contract.aws_limits import (
    CLOUDWATCH_RETENTION_DAYS,
    PERFORMANCE_INSIGHTS_RETENTION_DAYS,
    PERFORMANCE_INSIGHTS_RETENTION_RULE,
)
from contract.passwords import DMS_FORBIDDEN_PASSWORD_CHARACTERS, RDS_FORBIDDEN_PASSWORD_CHARACTERS
from review.aws_contract.core import Stack, Violation, is_expression, values_at

Check = Callable[[Any], bool]


@dataclass(frozen=True, kw_only=True)
class DocumentedRule:
    resource_type: str
    attribute: str
    rule: str
    """What is allowed, as the violation line says it."""
    source: str
    holds: Check


def _identifier(max_length: int) -> Check:
    """1-<max> letters, digits or hyphens; first a letter; no hyphen at the end or two in a row."""
    shape = re.compile(rf"[A-Za-z](?:[A-Za-z0-9]|-(?!-)){{0,{max_length - 1}}}")

    def holds(value: Any) -> bool:
        return isinstance(value, str) and bool(shape.fullmatch(value)) and not value.endswith("-")

    return holds


def _one_of(*allowed: int) -> Check:
    return lambda value: value in allowed


def _between(low: int, high: int) -> Check:
    return lambda value: isinstance(value, int) and low <= value <= high


def _excludes(characters: str) -> Check:
    return lambda value: isinstance(value, str) and set(characters) <= set(value)


RDS_IDENTIFIER = "1-{n} letters, digits or hyphens; first a letter; no trailing hyphen or two consecutive hyphens"
DMS_IDENTIFIER = "ASCII letters, digits and hyphens; first a letter; no trailing hyphen or two consecutive hyphens"
SNS_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _rule(resource_type: str, attribute: str, rule: str, source: str, holds: Check) -> DocumentedRule:
    return DocumentedRule(resource_type=resource_type, attribute=attribute, rule=rule, source=source, holds=holds)


DOCUMENTED_RULES: tuple[DocumentedRule, ...] = (
    _rule("aws_rds_cluster", "cluster_identifier", RDS_IDENTIFIER.format(n=63),
          "botocore rds CreateDBCluster.DBClusterIdentifier documentation", _identifier(63)),
    _rule("aws_rds_cluster_instance", "identifier", RDS_IDENTIFIER.format(n=63),
          "botocore rds CreateDBInstance.DBInstanceIdentifier documentation", _identifier(63)),
    _rule("aws_rds_cluster_parameter_group", "name", RDS_IDENTIFIER.format(n=255),
          "botocore rds CreateDBParameterGroup.DBParameterGroupName documentation (the cluster variant states none)",
          _identifier(255)),
    _rule("aws_db_parameter_group", "name", RDS_IDENTIFIER.format(n=255),
          "botocore rds CreateDBParameterGroup.DBParameterGroupName documentation", _identifier(255)),
    _rule("aws_db_subnet_group", "name",
          "at most 255 letters, digits, periods, underscores, spaces or hyphens; first a letter; not 'default'",
          "botocore rds CreateDBSubnetGroup.DBSubnetGroupName documentation",
          lambda v: isinstance(v, str) and bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9._ -]{0,254}", v)) and v.lower() != "default"),
    _rule("aws_rds_cluster", "backup_retention_period", "1-35 days",
          "botocore rds CreateDBCluster.BackupRetentionPeriod documentation", _between(1, 35)),
    _rule("aws_rds_cluster_instance", "promotion_tier", "0-15",
          "botocore rds CreateDBInstance.PromotionTier documentation", _between(0, 15)),
    _rule("aws_rds_cluster_instance", "monitoring_interval", "one of 0, 1, 5, 10, 15, 30, 60",
          "botocore rds CreateDBInstance.MonitoringInterval documentation", _one_of(0, 1, 5, 10, 15, 30, 60)),
    _rule("aws_rds_cluster_instance", "performance_insights_retention_period", PERFORMANCE_INSIGHTS_RETENTION_RULE,
          "botocore rds CreateDBInstance.PerformanceInsightsRetentionPeriod documentation",
          _one_of(*PERFORMANCE_INSIGHTS_RETENTION_DAYS)),
    _rule("aws_dms_replication_instance", "replication_instance_id", RDS_IDENTIFIER.format(n=63),
          "botocore dms CreateReplicationInstance.ReplicationInstanceIdentifier documentation", _identifier(63)),
    _rule("aws_dms_endpoint", "endpoint_id", DMS_IDENTIFIER,
          "botocore dms CreateEndpoint.EndpointIdentifier documentation", _identifier(255)),
    _rule("aws_dms_replication_task", "replication_task_id", RDS_IDENTIFIER.format(n=255),
          "botocore dms CreateReplicationTask.ReplicationTaskIdentifier documentation", _identifier(255)),
    _rule("aws_dms_certificate", "certificate_id", DMS_IDENTIFIER,
          "botocore dms ImportCertificate.CertificateIdentifier documentation", _identifier(255)),
    _rule("aws_dms_replication_subnet_group", "replication_subnet_group_id",
          "at most 255 letters, digits, periods, underscores or hyphens; not 'default'",
          "botocore dms CreateReplicationSubnetGroup.ReplicationSubnetGroupIdentifier documentation",
          lambda v: isinstance(v, str) and bool(re.fullmatch(r"[A-Za-z0-9._-]{1,255}", v)) and v.lower() != "default"),
    _rule("aws_cloudwatch_log_group", "retention_in_days", f"one of {', '.join(map(str, CLOUDWATCH_RETENTION_DAYS))}",
          "botocore logs PutRetentionPolicy.retentionInDays documentation", _one_of(*CLOUDWATCH_RETENTION_DAYS)),
    _rule("aws_secretsmanager_secret", "recovery_window_in_days", "0 (delete at once) or 7-30",
          "botocore secretsmanager DeleteSecret.RecoveryWindowInDays documentation", lambda v: v == 0 or _between(7, 30)(v)),
    _rule("ephemeral.aws_secretsmanager_random_password", "exclude_characters",
          f"excludes what RDS ({RDS_FORBIDDEN_PASSWORD_CHARACTERS!r}) and DMS ({DMS_FORBIDDEN_PASSWORD_CHARACTERS!r}) refuse",
          "botocore rds CreateDBCluster.MasterUserPassword; DMS user guide, 'Creating source and target endpoints'",
          _excludes(RDS_FORBIDDEN_PASSWORD_CHARACTERS + DMS_FORBIDDEN_PASSWORD_CHARACTERS)),
    _rule("ephemeral.aws_secretsmanager_random_password", "password_length", "8-41 characters (the Aurora master password)",
          "botocore rds CreateDBCluster.MasterUserPassword documentation", _between(8, 41)),
    _rule("aws_kms_alias", "name", "starts with 'alias/' and not with 'alias/aws/' (reserved for AWS managed keys)",
          "botocore kms CreateAlias.AliasName documentation",
          lambda v: isinstance(v, str) and v.startswith("alias/") and not v.startswith("alias/aws/")),
    _rule("aws_kms_key", "deletion_window_in_days", "7-30 days",
          "botocore kms ScheduleKeyDeletion.PendingWindowInDays documentation", _between(7, 30)),
    _rule("aws_sns_topic", "name", "1-256 letters, digits, hyphens or underscores",
          "botocore sns CreateTopic.Name documentation", lambda v: isinstance(v, str) and bool(SNS_TOPIC_NAME.fullmatch(v))),
    _rule("aws_cloudwatch_metric_alarm", "period", "10, 30 or a multiple of 60 seconds",
          "botocore cloudwatch PutMetricAlarm.Period documentation",
          lambda v: isinstance(v, int) and (v in (10, 30) or (v > 0 and v % 60 == 0))),
)  # fmt: skip


def check(stack: Stack) -> Iterator[Violation]:
    for block in ("resource", "ephemeral"):
        prefix = "" if block == "resource" else f"{block}."
        for resource_type, address, body in stack.elements(block):
            for rule in DOCUMENTED_RULES:
                if rule.resource_type != f"{prefix}{resource_type}":
                    continue
                for attribute, value in values_at(body, rule.attribute):
                    if not is_expression(value) and not rule.holds(value):
                        yield Violation(
                            stack=stack.name,
                            address=address,
                            attribute=attribute,
                            value=value,
                            rule=rule.rule,
                            source=rule.source,
                        )
