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


def _among(*allowed: str) -> Check:
    return lambda value: value in allowed


def _excludes(characters: str) -> Check:
    return lambda value: isinstance(value, str) and set(characters) <= set(value)


RDS_IDENTIFIER = "1-{n} letters, digits or hyphens; first a letter; no trailing hyphen or two consecutive hyphens"
DMS_IDENTIFIER = "ASCII letters, digits and hyphens; first a letter; no trailing hyphen or two consecutive hyphens"
SNS_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
SNS_PROTOCOLS = ("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose")


def _ip_protocol(value: Any) -> bool:
    text = str(value)
    return text in ("tcp", "udp", "icmp", "icmpv6", "-1") or (text.isdigit() and 0 <= int(text) <= 255)


def _port(value: Any) -> bool:
    return isinstance(value, int) and -1 <= value <= 65535


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
    # Value sets and ranges the API reference states while botocore models the member as a plain string or integer
    # (docs/gates.md, "Documented value sets"; #26 box 11).
    _rule("aws_rds_cluster", "engine_mode", "provisioned or serverless (Serverless v2 is provisioned)",
          "botocore rds CreateDBCluster.EngineMode documentation", _among("provisioned", "serverless")),
    _rule("aws_rds_cluster", "port", "1150-65535", "botocore rds CreateDBCluster.Port documentation ('Valid Values')",
          _between(1150, 65535)),
    _rule("aws_rds_cluster", "storage_type", "aurora or aurora-iopt1 (Aurora DB clusters)",
          "botocore rds CreateDBCluster.StorageType documentation ('Valid Values')", _among("aurora", "aurora-iopt1")),
    _rule("aws_rds_cluster", "network_type", "IPV4 or DUAL",
          "botocore rds CreateDBCluster.NetworkType documentation ('Valid Values')", _among("IPV4", "DUAL")),
    _rule("aws_rds_cluster", "performance_insights_retention_period", PERFORMANCE_INSIGHTS_RETENTION_RULE,
          "botocore rds CreateDBCluster.PerformanceInsightsRetentionPeriod documentation",
          _one_of(*PERFORMANCE_INSIGHTS_RETENTION_DAYS)),
    _rule("aws_dms_replication_instance", "allocated_storage", "5-6144 GiB",
          "DMS API reference / user guide, CreateReplicationInstance AllocatedStorage (the model has no range)",
          _between(5, 6144)),
    _rule("aws_dms_replication_instance", "network_type", "IPV4 or DUAL (IPv6 only is not supported)",
          "botocore dms CreateReplicationInstance.NetworkType documentation", _among("IPV4", "DUAL")),
    _rule("aws_cloudwatch_metric_alarm", "treat_missing_data", "breaching, notBreaching, ignore or missing",
          "botocore cloudwatch PutMetricAlarm.TreatMissingData documentation ('Valid Values')",
          _among("breaching", "notBreaching", "ignore", "missing")),
    _rule("aws_cloudwatch_metric_alarm", "evaluation_periods", "1-86400 (period x evaluation_periods at most a day)",
          "botocore cloudwatch PutMetricAlarm.EvaluationPeriods documentation", _between(1, 86400)),
    _rule("aws_sns_topic_subscription", "protocol", f"one of {', '.join(SNS_PROTOCOLS)}",
          "botocore sns Subscribe.Protocol documentation ('Supported protocols')", _among(*SNS_PROTOCOLS)),
    *(_rule(kind, "ip_protocol", "tcp, udp, icmp, icmpv6, -1 (all) or a protocol number 0-255",
            "botocore ec2 AuthorizeSecurityGroupIngress.IpProtocol documentation", _ip_protocol)
      for kind in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")),
    *(_rule(kind, attribute, "a port 0-65535 (-1 with icmp or all protocols)",
            "botocore ec2 AuthorizeSecurityGroupIngress.FromPort/ToPort documentation", _port)
      for kind in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
      for attribute in ("from_port", "to_port")),
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class DocumentedBodyRule:
    """A documented rule across attributes of one resource (checked when each is a literal)."""

    resource_type: str
    attributes: tuple[str, ...]
    rule: str
    source: str
    holds: Callable[..., bool]


DOCUMENTED_BODY_RULES: tuple[DocumentedBodyRule, ...] = (
    DocumentedBodyRule(
        resource_type="aws_cloudwatch_metric_alarm", attributes=("period", "evaluation_periods"),
        rule="period x evaluation_periods at most 86,400 seconds (one day)",
        source="botocore cloudwatch PutMetricAlarm.EvaluationPeriods documentation",
        holds=lambda period, periods: period * periods <= 86400,
    ),
    DocumentedBodyRule(
        resource_type="aws_cloudwatch_metric_alarm", attributes=("datapoints_to_alarm", "evaluation_periods"),
        rule="datapoints_to_alarm (M) at most evaluation_periods (N)",
        source="botocore cloudwatch PutMetricAlarm.DatapointsToAlarm documentation ('M out of N')",
        holds=lambda datapoints, periods: datapoints <= periods,
    ),
    DocumentedBodyRule(
        resource_type="aws_rds_cluster", attributes=("database_insights_mode", "performance_insights_retention_period"),
        rule="database_insights_mode advanced needs performance_insights_retention_period 465",
        source="botocore rds CreateDBCluster.DatabaseInsightsMode documentation",
        holds=lambda mode, retention: mode != "advanced" or retention == 465,
    ),
)  # fmt: skip


def _body_violations(stack: Stack, resource_type: str, address: str, body: Any) -> Iterator[Violation]:
    for rule in DOCUMENTED_BODY_RULES:
        if rule.resource_type != resource_type or not isinstance(body, dict):
            continue
        values = [body.get(attribute) for attribute in rule.attributes]
        if rule.resource_type == "aws_rds_cluster" and values[0] == "advanced" and values[1] is None:
            values[1] = 7  # RDS's default retention
        if any(value is None or is_expression(value) or isinstance(value, bool) for value in values):
            continue
        if not rule.holds(*values):
            yield Violation(
                stack=stack.name, address=address, attribute=rule.attributes[0], value=values[0], rule=rule.rule,
                source=rule.source,
            )  # fmt: skip


def check(stack: Stack) -> Iterator[Violation]:
    for block in ("resource", "ephemeral"):
        prefix = "" if block == "resource" else f"{block}."
        for resource_type, address, body in stack.elements(block):
            if block == "resource":
                yield from _body_violations(stack, resource_type, address, body)
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
