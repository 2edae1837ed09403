"""Alarms a DBA pages on, the encrypted SNS topic they notify, event subscriptions, EventBridge rules for the DMS
task's state changes and (with reader auto scaling) the events of the readers auto scaling adds, and a dashboard.

Every alarm is a spec of modules/alarms.py made by one factory (`_alarm`); every
metric comes from modules/metrics.py, which the dashboard uses too.
"""

from __future__ import annotations

import hashlib

from constructs import Construct

from contract.dms import cdc_latency_metric
from contract.naming import CDC_LATENCY_SIDES
from modules.alarms import AlarmSpec, MonitoringProps, Subscription, alarm_specs
from modules.aws import (
    CloudwatchDashboard,
    CloudwatchEventRule,
    CloudwatchEventTarget,
    CloudwatchMetricAlarm,
    DbEventSubscription,
    DmsEventSubscription,
    SnsTopic,
    SnsTopicPolicy,
    SnsTopicSubscription,
)
from modules.kms import EncryptionKey, EncryptionKeyProps
from modules.metrics import Metric, Statistic, aurora_instance, aurora_role, aurora_writer, dms_task
from modules.moved import moved_from
from modules.policy import Statement, canonical_json, policy_document

CLOUDWATCH = "cloudwatch.amazonaws.com"
RDS_EVENTS = "events.rds.amazonaws.com"
DMS_EVENTS = "dms.amazonaws.com"
PUBLISHING_SERVICES = (CLOUDWATCH, RDS_EVENTS, DMS_EVENTS)
RDS_CLUSTER_EVENTS = ("failover", "failure", "maintenance", "notification")
RDS_INSTANCE_EVENTS = ("availability", "failover", "failure", "low storage", "maintenance", "recovery")
DMS_INSTANCE_EVENTS = ("configuration change", "failover", "failure", "low storage", "maintenance")
DMS_TASK_EVENTS = ("configuration change", "failure", "state change")
EVENTBRIDGE = "events.amazonaws.com"
# DMS sends task state changes to EventBridge as `source` aws.dms, `detail-type` "DMS Replication Task State Change",
# with the task's ARN in `resources` and `detail.eventType` such as REPLICATION_TASK_STARTED/_STOPPED/_FAILED (DMS user
# guide, "Working with Amazon EventBridge events and notifications in AWS Database Migration Service"; EventBridge
# events reference, "AWS Database Migration Service events"; DMS engine 3.4.6 and later).
DMS_TASK_STATE_SOURCE = "aws.dms"
DMS_TASK_STATE_DETAIL_TYPE = "DMS Replication Task State Change"
# Readers that Aurora Auto Scaling adds are named `application-autoscaling-<uuid>` and carry the tag
# `application-autoscaling:resourceId` = `cluster:<cluster id>` (Aurora user guide, "Using Amazon Aurora Auto Scaling
# with Aurora Replicas", "DB instance IDs and tagging"). RDS puts the source's tags in the body of what it sends to
# EventBridge (Aurora user guide, "Amazon RDS event notification tags and attributes"), beside `EventCategories`,
# `SourceIdentifier`, `SourceArn` (same guide, "Overview of events for Aurora", DB instance event). The tag is the
# only field that names the cluster: the identifier prefix is shared by every auto-scaled reader of the account, and
# an RDS subscription without source ids would page for every instance of the account and region.
RDS_EVENT_SOURCE = "aws.rds"
RDS_INSTANCE_EVENT_DETAIL_TYPE = "RDS DB Instance Event"
AUTO_SCALING_RESOURCE_TAG = "application-autoscaling:resourceId"


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
        # Created before the topic policy, which admits EventBridge only for this rule (aws:SourceArn).
        self.task_state_rule = CloudwatchEventRule(
            self,
            "dms-task-state-rule",
            name=naming.name("dms-task-state"),
            description=f"State changes of DMS task {props.replication_task_identifier} (started, stopped, failed) to "
            "the alarm topic",
            event_pattern=dms_task_state_pattern(props.replication_task_arn),
        )
        # The instance event subscription names Terraform's instances; readers auto scaling adds reach the topic
        # through this rule (by the tag auto scaling gives them).
        self.auto_scaled_reader_rule = (
            CloudwatchEventRule(
                self,
                "auto-scaled-reader-events-rule",
                name=naming.name("auto-scaled-reader-events"),
                description=f"Events of the readers Aurora Auto Scaling adds to {props.cluster_identifier} (not in "
                "Terraform, so not in the RDS instance event subscription) to the alarm topic",
                event_pattern=auto_scaled_reader_events_pattern(props.cluster_identifier),
            )
            if props.reader_auto_scaling
            else None
        )
        # Alarms and event subscriptions wait for the policy that lets their service publish: RDS and DMS check
        # that they may publish when the subscription is created, and a new alarm's first OK notification is sent
        # straight away.
        self.topic_policy = SnsTopicPolicy(
            self,
            "topic-policy",
            arn=self.topic.arn,
            policy=_topic_policy(
                self.topic.arn,
                account_id=props.account_id,
                partition=props.partition,
                event_rule_arn=self.task_state_rule.arn,
                auto_scaled_reader_rule_arn=None if self.auto_scaled_reader_rule is None else self.auto_scaled_reader_rule.arn,
            ),
        )
        for target, rule in (
            ("dms-task-state-target", self.task_state_rule),
            ("auto-scaled-reader-events-target", self.auto_scaled_reader_rule),
        ):
            if rule is not None:
                CloudwatchEventTarget(
                    self, target, rule=rule.name, target_id="alarm-topic", arn=self.topic.arn, depends_on=[self.topic_policy]
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
        cluster = props.cluster_identifier
        dms_id, task_id = props.replication_instance_identifier, props.replication_task_resource_id

        def per_instance(name: str, statistic: Statistic = "Average") -> list[Metric]:
            """One line per instance; with reader auto scaling the writer and the readers' worst value instead (the
            instances Terraform knows are not all there are)."""
            if props.reader_auto_scaling:
                worst: Statistic = "Minimum" if statistic == "Minimum" else "Maximum"
                return [aurora_role(name, cluster, role, statistic=worst) for role in ("WRITER", "READER")]
            return [aurora_instance(name, i, statistic=statistic) for i in instances]

        panels: list[tuple[str, list[Metric]]] = [
            ("Aurora CPU %", per_instance("CPUUtilization")),
            ("Aurora connections", per_instance("DatabaseConnections", "Maximum")),
            (
                "Aurora replica lag (ms)",  # every instance: after a failover the first one is a reader
                [
                    aurora_writer("AuroraReplicaLagMaximum", props.cluster_identifier, statistic="Maximum"),
                    *([] if props.reader_auto_scaling else per_instance("AuroraReplicaLag", "Maximum")),
                ],
            ),
            ("Aurora commit latency (ms)", per_instance("CommitLatency")),
            ("Aurora disk latency (s)", [*per_instance("ReadLatency"), *per_instance("WriteLatency")]),
            ("Aurora disk queue depth", per_instance("DiskQueueDepth")),
            (
                "Aurora oldest unvacuumed transaction ID age",
                [aurora_writer("MaximumUsedTransactionIDs", cluster, statistic="Maximum")],
            ),
            *(
                []
                if props.serverless_max_capacity_acu is None
                else [
                    (
                        f"Aurora Serverless v2 capacity (ACU, maximum {props.serverless_max_capacity_acu:g})",
                        per_instance("ServerlessDatabaseCapacity", "Maximum"),
                    )
                ]
            ),
            ("DMS CDC latency (s)", [dms_task(cdc_latency_metric(side), dms_id, task_id) for side in CDC_LATENCY_SIDES]),
            (
                "DMS full-load throughput (rows/s)",
                [dms_task("FullLoadThroughputRowsTarget", dms_id, task_id, statistic="Average")],
            ),
            ("DMS validation failures", [dms_task("ValidationFailedOverallCount", dms_id, task_id)]),
            (
                "DMS changes waiting (events, rows on disk)",
                [
                    dms_task(name, dms_id, task_id)
                    for name in ("CDCIncomingChanges", "CDCChangesDiskSource", "CDCChangesDiskTarget")
                ],
            ),
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
    """CloudWatch, RDS events, DMS and EventBridge publish to the encrypted topic, so SNS asks KMS for a data key on
    their behalf.

    CloudWatch alarms carry aws:SourceAccount on that request, so its grant is limited to alarms of this account.
    For RDS and DMS event delivery AWS documents only the unconditioned statement (SNS developer guide, "Enable
    compatibility between event sources from AWS services and encrypted topics"); a condition key the request does
    not carry would drop every event silently. Those two, and EventBridge, are confined by the topic policy instead
    (this account; for EventBridge this stack's rule): the key only encrypts messages that policy lets them publish.
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
        # EventBridge delivering to an encrypted topic: the same two actions, documented without a condition (SNS
        # developer guide, same page; EventBridge user guide, "Amazon EventBridge targets", SNS and encrypted topics).
        # The topic policy admits it only for this stack's rule (aws:SourceArn) in this account.
        {
            "Sid": "EventBridgeRulesUseKey",
            "Effect": "Allow",
            "Principal": {"Service": EVENTBRIDGE},
            "Action": actions,
            "Resource": "*",
        },
    )


def dms_task_state_pattern(task_arn: str) -> str:
    """EventBridge pattern: state changes of this stack's task only (its ARN in `resources`)."""
    return canonical_json(
        {"source": [DMS_TASK_STATE_SOURCE], "detail-type": [DMS_TASK_STATE_DETAIL_TYPE], "resources": [task_arn]}
    )


def auto_scaled_reader_events_pattern(cluster_identifier: str) -> str:
    """EventBridge pattern: instance events, in the categories the instance subscription has, of the readers auto
    scaling added to this cluster (their `application-autoscaling:resourceId` tag in `detail.Tags`)."""
    return canonical_json(
        {
            "source": [RDS_EVENT_SOURCE],
            "detail-type": [RDS_INSTANCE_EVENT_DETAIL_TYPE],
            "detail": {
                "EventCategories": list(RDS_INSTANCE_EVENTS),
                "Tags": {AUTO_SCALING_RESOURCE_TAG: [f"cluster:{cluster_identifier}"]},
            },
        }
    )


def _eventbridge_publishes(sid: str, topic_arn: str, *, rule_arn: str, account_id: str) -> Statement:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": EVENTBRIDGE},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}, "StringEquals": {"aws:SourceAccount": account_id}},
    }


def _topic_policy(
    topic_arn: str, *, account_id: str, partition: str, event_rule_arn: str, auto_scaled_reader_rule_arn: str | None
) -> str:
    """Only the alarm and event services acting for this account publish; the account itself administers the topic.

    EventBridge publishes for the rules of this stack only: aws:SourceArn is the rule (EventBridge user guide, "Using
    resource-based policies for Amazon EventBridge", Amazon SNS permissions), aws:SourceAccount this account.
    """
    reader_rule = (
        []
        if auto_scaled_reader_rule_arn is None
        else [
            _eventbridge_publishes(
                "AutoScaledReaderEventsRuleOfThisStackPublishes",
                topic_arn,
                rule_arn=auto_scaled_reader_rule_arn,
                account_id=account_id,
            )
        ]
    )
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
            _eventbridge_publishes(
                "DmsTaskStateRuleOfThisStackPublishes", topic_arn, rule_arn=event_rule_arn, account_id=account_id
            ),
            *reader_rule,
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
