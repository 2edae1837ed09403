"""Alarms a DBA pages on, the encrypted SNS topic they notify, event subscriptions and a dashboard.

Every alarm comes from one factory (`_alarm`) and every metric from
modules/metrics.py, which the dashboard uses too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from constructs import Construct

from contract.aurora import GIB, MIB
from contract.naming import AURORA_CPU_ALARM, Naming, cdc_latency_alarm_purpose, instance_alarm_purpose
from modules.aws import (
    CloudwatchDashboard,
    CloudwatchMetricAlarm,
    DbEventSubscription,
    DmsEventSubscription,
    SnsTopic,
    SnsTopicPolicy,
    SnsTopicSubscription,
)
from modules.kms import EncryptionKey, EncryptionKeyProps
from modules.metrics import Metric, aurora_instance, aurora_writer, dms_instance, dms_task
from modules.moved import moved_from
from modules.policy import Statement, canonical_json, policy_document

Comparison = Literal["GreaterThanThreshold", "LessThanThreshold"]
# How each alarm treats periods without data, chosen per alarm in `alarm_specs`:
# - "missing": health metrics of an instance. Without any data the alarm goes to INSUFFICIENT_DATA (visible on the
#   dashboard, no page): an instance that stops reporting is down or being replaced, and the RDS/DMS event
#   subscriptions already page for failure, failover and maintenance, so the metric alarm does not page twice.
# - "notBreaching": metrics whose absence is normal. CDCLatency* is only published while the task is in CDC (not
#   before it starts, not during full load, not after it stops; a failed or stopped task is reported by the
#   replication-task event subscription). Deadlocks is a rate: a gap in it (e.g. during failover, which the cluster
#   event subscription reports) is not a deadlock.
MissingData = Literal["missing", "notBreaching"]
CLOUDWATCH = "cloudwatch.amazonaws.com"
RDS_EVENTS = "events.rds.amazonaws.com"
DMS_EVENTS = "dms.amazonaws.com"
PUBLISHING_SERVICES = (CLOUDWATCH, RDS_EVENTS, DMS_EVENTS)
RDS_CLUSTER_EVENTS = ("failover", "failure", "maintenance", "notification")
RDS_INSTANCE_EVENTS = ("availability", "failover", "failure", "low storage", "maintenance", "recovery")
DMS_INSTANCE_EVENTS = ("configuration change", "failover", "failure", "low storage", "maintenance")
DMS_TASK_EVENTS = ("configuration change", "failure", "state change")


@dataclass(frozen=True, kw_only=True)
class AlarmSpec:
    purpose: str
    metric: Metric
    comparison: Comparison
    threshold: float
    treat_missing_data: MissingData
    description: str


@dataclass(frozen=True, kw_only=True)
class AlarmThresholds:
    """When each alarm fires (the `monitoring` config table documents each value)."""

    aurora_cpu_percent: float
    aurora_freeable_memory_mib: int
    aurora_replica_lag_ms: int
    aurora_connections_percent: float
    """Share of `MonitoringProps.instance_max_connections`."""
    aurora_free_local_storage_mib: int
    aurora_deadlocks_per_second: float
    dms_cdc_latency_seconds: int
    dms_cpu_percent: float
    dms_free_storage_gib: int
    dms_freeable_memory_mib: int


@dataclass(frozen=True, kw_only=True)
class Subscription:
    """One subscriber of the alarm topic."""

    protocol: Literal["email", "https"]
    endpoint: str


@dataclass(frozen=True, kw_only=True)
class MonitoringProps:
    naming: Naming
    account_id: str
    partition: str
    region: str
    """Region of the dashboard's metrics."""
    thresholds: AlarmThresholds
    period_seconds: int
    """Length of one alarm evaluation period (and the dashboard's period)."""
    evaluation_periods: int
    """Consecutive breaching periods before an alarm fires."""
    subscriptions: tuple[Subscription, ...]
    """Who the alarm topic notifies; each is a resource of its own, keyed by protocol and endpoint."""
    cluster_identifier: str
    instance_identifiers: tuple[str, ...]
    """Writer first; readers after it."""
    instance_max_connections: int
    """max_connections of one instance: the connections alarm fires at `aurora_connections_percent` of it."""
    replication_instance_identifier: str
    replication_task_identifier: str
    replication_task_resource_id: str
    """The task's resource id (last field of its ARN): CloudWatch's ReplicationTaskIdentifier dimension."""


def alarm_specs(props: MonitoringProps) -> list[AlarmSpec]:
    """Every alarm of the environment, in a stable order."""
    limits = props.thresholds
    max_connections = props.instance_max_connections
    connection_limit = round(max_connections * limits.aurora_connections_percent / 100)
    specs: list[AlarmSpec] = []
    for number, instance in enumerate(props.instance_identifiers, start=1):
        specs += [
            AlarmSpec(
                purpose=instance_alarm_purpose(AURORA_CPU_ALARM, number),
                metric=aurora_instance("CPUUtilization", instance),
                comparison="GreaterThanThreshold",
                threshold=limits.aurora_cpu_percent,
                treat_missing_data="missing",
                description=f"CPU of {instance} above {limits.aurora_cpu_percent:g}%. Check Performance Insights top SQL and "
                "whether the DMS full load or a batch job is running; scale the instance class if sustained.",
            ),
            AlarmSpec(
                purpose=instance_alarm_purpose("aurora-freeable-memory", number),
                metric=aurora_instance("FreeableMemory", instance, statistic="Minimum"),
                comparison="LessThanThreshold",
                threshold=limits.aurora_freeable_memory_mib * MIB,
                treat_missing_data="missing",
                description=f"Less than {limits.aurora_freeable_memory_mib} MiB free on {instance}. Check connection count and "
                "work_mem-heavy queries in Performance Insights; the instance may swap or restart.",
            ),
            AlarmSpec(
                purpose=instance_alarm_purpose("aurora-connections", number),
                metric=aurora_instance("DatabaseConnections", instance, statistic="Maximum"),
                comparison="GreaterThanThreshold",
                threshold=connection_limit,
                treat_missing_data="missing",
                description=f"More than {connection_limit} connections on {instance} ({limits.aurora_connections_percent:g}% of "
                f"max_connections {max_connections}). Look for connection leaks or a missing pool before new logins fail.",
            ),
            AlarmSpec(
                purpose=instance_alarm_purpose("aurora-free-local-storage", number),
                metric=aurora_instance("FreeLocalStorage", instance, statistic="Minimum"),
                comparison="LessThanThreshold",
                threshold=limits.aurora_free_local_storage_mib * MIB,
                treat_missing_data="missing",
                description=f"Less than {limits.aurora_free_local_storage_mib} MiB local storage on {instance}. Temporary files "
                "and logs fill it: check log_temp_files output and large sorts or index builds.",
            ),
        ]
    specs += [
        # Reader ids change roles on failover (a reader becomes the writer); AuroraReplicaLagMaximum is published
        # by the writer for all of its readers (Aurora user guide, "Amazon CloudWatch metrics for Amazon Aurora"),
        # and the Role=WRITER dimension follows whichever instance is the writer.
        AlarmSpec(
            purpose="aurora-replica-lag",
            metric=aurora_writer("AuroraReplicaLagMaximum", props.cluster_identifier, statistic="Maximum"),
            comparison="GreaterThanThreshold",
            threshold=limits.aurora_replica_lag_ms,
            treat_missing_data="missing",
            description=f"A reader lags the writer by more than {limits.aurora_replica_lag_ms} ms (the largest lag of any "
            "reader, measured on whichever instance is the writer, so it survives failovers). Readers may serve stale "
            "data; check the writer's write volume and each reader's CPU (dashboard, per-instance replica lag).",
        ),
        AlarmSpec(
            purpose="aurora-deadlocks",
            metric=aurora_writer("Deadlocks", props.cluster_identifier),
            comparison="GreaterThanThreshold",
            threshold=limits.aurora_deadlocks_per_second,
            treat_missing_data="notBreaching",
            description="Deadlocks on the writer. Read the PostgreSQL log (log_lock_waits) for the statements involved; "
            "during the migration also check that applications are not writing to Aurora before cutover.",
        ),
        *(
            AlarmSpec(
                purpose=cdc_latency_alarm_purpose(side.lower()),
                metric=dms_task(f"CDCLatency{side}", props.replication_instance_identifier, props.replication_task_resource_id),
                comparison="GreaterThanThreshold",
                threshold=limits.dms_cdc_latency_seconds,
                treat_missing_data="notBreaching",
                description=f"DMS replication lag ({'reading the source' if side == 'Source' else 'applying to Aurora'}) above "
                f"{limits.dms_cdc_latency_seconds} s. {hint} Cutover must wait until it is near 0.",
            )
            for side, hint in (
                ("Source", "Check the source's WAL volume, the network path and the replication slot."),
                ("Target", "Check Aurora writer CPU/locks and the task's apply errors in the task log."),
            )
        ),
        AlarmSpec(
            purpose="dms-cpu-utilization",
            metric=dms_instance("CPUUtilization", props.replication_instance_identifier),
            comparison="GreaterThanThreshold",
            threshold=limits.dms_cpu_percent,
            treat_missing_data="missing",
            description=f"Replication instance CPU above {limits.dms_cpu_percent:g}%. Latency will follow: consider a larger "
            "dms.replication_instance_class or fewer parallel full-load subtasks.",
        ),
        AlarmSpec(
            purpose="dms-free-storage",
            metric=dms_instance("FreeStorageSpace", props.replication_instance_identifier, statistic="Minimum"),
            comparison="LessThanThreshold",
            threshold=limits.dms_free_storage_gib * GIB,
            treat_missing_data="missing",
            description=f"Less than {limits.dms_free_storage_gib} GiB free on the replication instance. Swapped changes and "
            "task logs fill it when the target falls behind; raise dms.allocated_storage_gib.",
        ),
        AlarmSpec(
            purpose="dms-freeable-memory",
            metric=dms_instance("FreeableMemory", props.replication_instance_identifier, statistic="Minimum"),
            comparison="LessThanThreshold",
            threshold=limits.dms_freeable_memory_mib * MIB,
            treat_missing_data="missing",
            description=f"Less than {limits.dms_freeable_memory_mib} MiB free on the replication instance. Large transactions "
            "or LOBs are buffered in memory; check the task's memory settings or use a larger class.",
        ),
    ]
    return specs


class Monitoring(Construct):
    """Exposes `topic_arn` and `dashboard_name`."""

    def __init__(self, scope: Construct, id_: str, *, props: MonitoringProps) -> None:
        super().__init__(scope, id_)
        naming = props.naming
        key = EncryptionKey(
            self,
            "alerts-key",
            props=EncryptionKeyProps(
                alias_name=naming.name("alerts"),
                description=f"Alarm topic of {naming.stack_name}",
                account_id=props.account_id,
                partition=props.partition,
                service_statements=_publishers_may_use_key(account_id=props.account_id),
            ),
        )
        self.topic = SnsTopic(self, "topic", name=naming.name("alarms"), kms_master_key_id=key.arn)
        # Alarms and event subscriptions wait for the policy that lets their service publish: RDS and DMS check
        # that they may publish when the subscription is created, and a new alarm's first OK notification is sent
        # straight away.
        self.topic_policy = SnsTopicPolicy(
            self,
            "topic-policy",
            arn=self.topic.arn,
            policy=_topic_policy(self.topic.arn, account_id=props.account_id, partition=props.partition),
        )
        for former_position, subscription in enumerate(props.subscriptions):
            topic_subscription = SnsTopicSubscription(
                self,
                subscription_id(subscription),
                topic_arn=self.topic.arn,
                protocol=subscription.protocol,
                endpoint=subscription.endpoint,
            )
            moved_from(topic_subscription, f"subscription-{former_position}")

        self.alarms = [self._alarm(spec, props) for spec in alarm_specs(props)]
        self._event_subscriptions(props)
        self.dashboard_name = naming.stack_name
        CloudwatchDashboard(self, "dashboard", dashboard_name=self.dashboard_name, dashboard_body=self._dashboard_body(props))

    @property
    def topic_arn(self) -> str:
        return self.topic.arn

    def _alarm(self, spec: AlarmSpec, props: MonitoringProps) -> CloudwatchMetricAlarm:
        return CloudwatchMetricAlarm(
            self,
            spec.purpose,
            alarm_name=props.naming.alarm(spec.purpose),
            alarm_description=spec.description,
            namespace=spec.metric.namespace,
            metric_name=spec.metric.name,
            dimensions=spec.metric.as_dimensions(),
            statistic=spec.metric.statistic,
            comparison_operator=spec.comparison,
            threshold=spec.threshold,
            period=props.period_seconds,
            evaluation_periods=props.evaluation_periods,
            treat_missing_data=spec.treat_missing_data,
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            depends_on=[self.topic_policy],
        )

    def _event_subscriptions(self, props: MonitoringProps) -> None:
        naming = props.naming
        DbEventSubscription(
            self,
            "rds-cluster-events",
            name=naming.name("rds-cluster-events"),
            sns_topic=self.topic.arn,
            source_type="db-cluster",
            source_ids=[props.cluster_identifier],
            event_categories=list(RDS_CLUSTER_EVENTS),
            depends_on=[self.topic_policy],
        )
        DbEventSubscription(
            self,
            "rds-instance-events",
            name=naming.name("rds-instance-events"),
            sns_topic=self.topic.arn,
            source_type="db-instance",
            source_ids=list(props.instance_identifiers),
            event_categories=list(RDS_INSTANCE_EVENTS),
            depends_on=[self.topic_policy],
        )
        for source_type, source_id, categories in (
            ("replication-instance", props.replication_instance_identifier, DMS_INSTANCE_EVENTS),
            ("replication-task", props.replication_task_identifier, DMS_TASK_EVENTS),
        ):
            DmsEventSubscription(
                self,
                f"dms-{source_type}-events",
                name=naming.name(f"dms-{source_type.removeprefix('replication-')}-events"),
                sns_topic_arn=self.topic.arn,
                source_type=source_type,
                source_ids=[source_id],
                event_categories=list(categories),
                depends_on=[self.topic_policy],
            )

    def _dashboard_body(self, props: MonitoringProps) -> str:
        instances = props.instance_identifiers
        dms_id, task_id = props.replication_instance_identifier, props.replication_task_resource_id
        panels: list[tuple[str, list[Metric]]] = [
            ("Aurora CPU %", [aurora_instance("CPUUtilization", i) for i in instances]),
            ("Aurora connections", [aurora_instance("DatabaseConnections", i, statistic="Maximum") for i in instances]),
            (
                "Aurora replica lag (ms)",  # every instance: after a failover the first one is a reader
                [
                    aurora_writer("AuroraReplicaLagMaximum", props.cluster_identifier, statistic="Maximum"),
                    *[aurora_instance("AuroraReplicaLag", i, statistic="Maximum") for i in instances],
                ],
            ),
            ("Aurora commit latency (ms)", [aurora_instance("CommitLatency", i) for i in instances]),
            ("DMS CDC latency (s)", [dms_task(f"CDCLatency{side}", dms_id, task_id) for side in ("Source", "Target")]),
            (
                "DMS full-load throughput (rows/s)",
                [dms_task("FullLoadThroughputRowsTarget", dms_id, task_id, statistic="Average")],
            ),
            ("DMS validation failures", [dms_task("ValidationFailedOverallCount", dms_id, task_id)]),
        ]
        width, height = 12, 6
        widgets: list[dict[str, object]] = [
            {
                "type": "metric",
                "x": (index % 2) * width,
                "y": (index // 2) * height,
                "width": width,
                "height": height,
                "properties": {
                    "title": title,
                    "region": props.region,
                    "view": "timeSeries",
                    "stacked": False,
                    "period": props.period_seconds,
                    "metrics": [metric.as_widget_entry() for metric in metrics],
                },
            }
            for index, (title, metrics) in enumerate(panels)
        ]
        widgets.append(
            {
                "type": "alarm",
                "x": 0,
                "y": ((len(panels) + 1) // 2) * height,
                "width": 2 * width,
                "height": height,
                "properties": {"title": "Alarm states", "alarms": [alarm.arn for alarm in self.alarms]},
            }
        )
        return canonical_json({"widgets": widgets})


def subscription_id(subscription: Subscription) -> str:
    """Keyed by what it delivers to, not its position: removing one subscriber leaves the others (and their
    confirmations) alone. A digest, because endpoints are URLs and e-mail addresses, not construct ids."""
    digest = hashlib.sha256(f"{subscription.protocol}:{subscription.endpoint}".encode()).hexdigest()[:12]
    return f"subscription-{subscription.protocol}-{digest}"


def _publishers_may_use_key(*, account_id: str) -> tuple[Statement, ...]:
    """CloudWatch, RDS events and DMS publish to the encrypted topic, so SNS asks KMS for a data key on their behalf.

    CloudWatch alarms carry aws:SourceAccount on that request, so its grant is limited to alarms of this account.
    For RDS and DMS event delivery AWS documents only the unconditioned statement (SNS developer guide, "Enable
    compatibility between event sources from AWS services and encrypted topics"); a condition key the request does
    not carry would drop every event silently. Those two are confined to this account by the topic policy instead:
    the key only encrypts messages that policy lets them publish.
    """
    actions = ["kms:Decrypt", "kms:GenerateDataKey*"]
    return (
        {
            "Sid": "CloudWatchAlarmsOfThisAccountUseKey",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDWATCH},
            "Action": actions,
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        {
            "Sid": "RdsAndDmsEventsUseKey",
            "Effect": "Allow",
            "Principal": {"Service": [RDS_EVENTS, DMS_EVENTS]},
            "Action": actions,
            "Resource": "*",
        },
    )


def _topic_policy(topic_arn: str, *, account_id: str, partition: str) -> str:
    """Only the alarm and event services acting for this account publish; the account itself administers the topic."""
    return policy_document(
        [
            {
                "Sid": "AlarmAndEventServicesOfThisAccountPublish",
                "Effect": "Allow",
                "Principal": {"Service": list(PUBLISHING_SERVICES)},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            {
                "Sid": "AccountManagesTopic",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": [
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic",
                    "sns:Publish",
                ],
                "Resource": topic_arn,
            },
        ]
    )
