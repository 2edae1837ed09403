"""Monitoring: alarms, topic, event subscriptions and dashboard, on the synthesized JSON."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest

from config import EnvironmentConfig
from config.model import MonitoringConfig
from contract.aurora import GIB, MIB, default_max_connections
from contract.naming import Naming
from modules.alarms import AlarmThresholds, MonitoringProps, Subscription
from modules.monitoring import Monitoring
from tests.helpers import Document, only_resource, resources, synth_scope

ENVIRONMENTS = ["dev", "staging", "prod"]
INSTANCES = ("aurora-migration-db-1-unit", "aurora-migration-db-2-unit", "aurora-migration-db-3-unit")

BASE_PROPS = MonitoringProps(
    naming=Naming(prefix="aurora-migration", suffix="unit"),
    account_id="123456789012",
    partition="aws",
    region="eu-west-1",
    thresholds=AlarmThresholds.from_mapping(MonitoringConfig().model_dump()),
    period_seconds=60,
    evaluation_periods=5,
    subscriptions=(
        Subscription(protocol="email", endpoint="dba@example.com"),
        Subscription(protocol="https", endpoint="https://pager.example.com/x"),
    ),
    cluster_identifier="aurora-migration-cluster-unit",
    instance_identifiers=INSTANCES,
    instance_max_connections=default_max_connections("db.r6g.large"),
    replication_instance_identifier="aurora-migration-replication-unit",
    replication_task_identifier="aurora-migration-task-unit",
    replication_task_resource_id="TASKRESOURCEID",
)


def synth_monitoring(**changes: Any) -> Document:
    props = dataclasses.replace(BASE_PROPS, **changes)
    return synth_scope(lambda stack: Monitoring(stack, "monitoring", props=props))


@pytest.fixture(scope="module")
def unit() -> Document:
    return synth_monitoring()


@pytest.fixture(scope="module")
def tightened() -> Document:
    return synth_monitoring(
        thresholds=dataclasses.replace(
            BASE_PROPS.thresholds,
            aurora_cpu_percent=65,
            dms_cdc_latency_seconds=120,
            aurora_freeable_memory_mib=2048,
            aurora_connections_percent=50,
            dms_free_storage_gib=25,
        ),
        evaluation_periods=2,
        period_seconds=300,
    )


def alarms_by_name(document: Document) -> dict[str, dict[str, Any]]:
    return {alarm["alarm_name"]: alarm for alarm in resources(document, "aws_cloudwatch_metric_alarm").values()}


def test_cpu_alarm_per_instance_named_aurora_cpu_utilization(unit: Document) -> None:
    alarms = alarms_by_name(unit)
    cpu = {name: alarm for name, alarm in alarms.items() if name.startswith("aurora-cpu-utilization-")}
    assert sorted(cpu) == [f"aurora-cpu-utilization-db-{n}-unit" for n in (1, 2, 3)]
    for number, instance in enumerate(INSTANCES, start=1):
        alarm = cpu[f"aurora-cpu-utilization-db-{number}-unit"]
        assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == ("AWS/RDS", "CPUUtilization", "Average")
        assert alarm["dimensions"] == {"DBInstanceIdentifier": instance}
        assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 80)


@pytest.mark.parametrize("side", ["Source", "Target"])
def test_dms_cdc_latency_alarms_watch_the_task_over_300_seconds(unit: Document, side: str) -> None:
    alarm = alarms_by_name(unit)[f"dms-cdc-latency-{side.lower()}-unit"]
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == ("AWS/DMS", f"CDCLatency{side}", "Maximum")
    assert alarm["dimensions"] == {
        "ReplicationInstanceIdentifier": "aurora-migration-replication-unit",
        "ReplicationTaskIdentifier": "TASKRESOURCEID",
    }
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 300)
    assert alarm["treat_missing_data"] == "notBreaching", "a task that is not running must not page"


def test_every_alarm_a_dba_pages_on_exists_with_metric_and_threshold(unit: Document) -> None:
    alarms = alarms_by_name(unit)
    limit = round(default_max_connections("db.r6g.large") * 0.8)
    expected = {
        "aurora-freeable-memory-db-1-unit": ("AWS/RDS", "FreeableMemory", "Minimum", "LessThanThreshold", 512 * MIB),
        "aurora-connections-db-2-unit": ("AWS/RDS", "DatabaseConnections", "Maximum", "GreaterThanThreshold", limit),
        "aurora-free-local-storage-db-3-unit": ("AWS/RDS", "FreeLocalStorage", "Minimum", "LessThanThreshold", 5120 * MIB),
        "aurora-replica-lag-unit": ("AWS/RDS", "AuroraReplicaLagMaximum", "Maximum", "GreaterThanThreshold", 2000),
        "aurora-deadlocks-unit": ("AWS/RDS", "Deadlocks", "Average", "GreaterThanThreshold", 0),
        "dms-cpu-utilization-unit": ("AWS/DMS", "CPUUtilization", "Average", "GreaterThanThreshold", 80),
        "dms-free-storage-unit": ("AWS/DMS", "FreeStorageSpace", "Minimum", "LessThanThreshold", 10 * GIB),
        "dms-freeable-memory-unit": ("AWS/DMS", "FreeableMemory", "Minimum", "LessThanThreshold", 1024 * MIB),
    }
    for name, (namespace, metric, statistic, comparison, threshold) in expected.items():
        alarm = alarms[name]
        assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == (namespace, metric, statistic), name
        assert (alarm["comparison_operator"], alarm["threshold"]) == (comparison, threshold), name
    assert not [name for name in alarms if name.startswith("aurora-replica-lag-db-")], (
        "a per-reader lag alarm watches the wrong instance after a failover"
    )
    assert alarms["aurora-replica-lag-unit"]["dimensions"] == {
        "DBClusterIdentifier": "aurora-migration-cluster-unit",
        "Role": "WRITER",
    }, "the writer publishes the largest lag of its readers, whichever instance is the writer"
    assert alarms["aurora-deadlocks-unit"]["dimensions"] == {
        "DBClusterIdentifier": "aurora-migration-cluster-unit",
        "Role": "WRITER",
    }
    assert alarms["dms-free-storage-unit"]["dimensions"] == {"ReplicationInstanceIdentifier": "aurora-migration-replication-unit"}
    assert len(alarms) == 3 * 4 + 1 + 1 + 2 + 3


def test_no_silent_alarms_every_alarm_notifies_the_topic_and_is_explained(unit: Document) -> None:
    topic_ref = f"${{aws_sns_topic.{next(iter(resources(unit, 'aws_sns_topic')))}.arn}}"
    for name, alarm in alarms_by_name(unit).items():
        assert alarm["alarm_actions"] == [topic_ref], name
        assert alarm["ok_actions"] == [topic_ref], name
        assert len(alarm["alarm_description"]) > 60, name
        assert (alarm["period"], alarm["evaluation_periods"]) == (60, 5)


def test_treat_missing_data_is_chosen_per_alarm(unit: Document) -> None:
    """Metrics that are absent in normal operation never page; instance health goes to INSUFFICIENT_DATA instead."""
    absent_is_normal = {"aurora-deadlocks-unit", "dms-cdc-latency-source-unit", "dms-cdc-latency-target-unit"}
    choices = {name: alarm["treat_missing_data"] for name, alarm in alarms_by_name(unit).items()}
    assert {name for name, choice in choices.items() if choice == "notBreaching"} == absent_is_normal
    assert {choice for name, choice in choices.items() if name not in absent_is_normal} == {"missing"}


def test_thresholds_and_periods_follow_config(tightened: Document) -> None:
    alarms = alarms_by_name(tightened)
    assert alarms["aurora-cpu-utilization-db-1-unit"]["threshold"] == 65
    assert alarms["dms-cdc-latency-target-unit"]["threshold"] == 120
    assert alarms["aurora-freeable-memory-db-2-unit"]["threshold"] == 2048 * MIB
    assert alarms["aurora-connections-db-1-unit"]["threshold"] == round(default_max_connections("db.r6g.large") / 2)
    assert alarms["dms-free-storage-unit"]["threshold"] == 25 * GIB
    assert {(a["period"], a["evaluation_periods"]) for a in alarms.values()} == {(300, 2)}


def test_connection_limit_follows_the_instance_class() -> None:
    assert default_max_connections("db.r6g.large") == 1802
    assert default_max_connections("db.r6g.16xlarge") == 5000


def test_topic_is_encrypted_with_a_key_publishers_may_use(unit: Document) -> None:
    topic = only_resource(unit, "aws_sns_topic")
    assert topic["name"] == "aurora-migration-alarms-unit"
    [(key_id, key)] = resources(unit, "aws_kms_key").items()
    assert topic["kms_master_key_id"] == f"${{aws_kms_key.{key_id}.arn}}"
    assert key["enable_key_rotation"] is True
    statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
    assert set(statements) == {"AccountAdministersKeyThroughIam", "CloudWatchAlarmsOfThisAccountUseKey", "RdsAndDmsEventsUseKey"}
    assert statements["AccountAdministersKeyThroughIam"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    cloudwatch = statements["CloudWatchAlarmsOfThisAccountUseKey"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    events = statements["RdsAndDmsEventsUseKey"]
    assert events["Principal"] == {"Service": ["events.rds.amazonaws.com", "dms.amazonaws.com"]}
    for statement in (cloudwatch, events):
        assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_key_policy_has_no_wildcard_principal(unit: Document) -> None:
    for statement in json.loads(only_resource(unit, "aws_kms_key")["policy"])["Statement"]:
        principal = statement["Principal"]
        assert principal != "*", statement["Sid"]
        values = [value for entry in principal.values() for value in ([entry] if isinstance(entry, str) else entry)]
        assert values and all("*" not in value for value in values), statement["Sid"]


def test_topic_policy_admits_only_the_publishing_services_of_this_account(unit: Document) -> None:
    topic_ref = f"${{aws_sns_topic.{next(iter(resources(unit, 'aws_sns_topic')))}.arn}}"
    policy_resource = only_resource(unit, "aws_sns_topic_policy")
    assert policy_resource["arn"] == topic_ref
    statements = {s["Sid"]: s for s in json.loads(policy_resource["policy"])["Statement"]}
    assert set(statements) == {"AlarmAndEventServicesOfThisAccountPublish", "AccountManagesTopic"}
    publish = statements["AlarmAndEventServicesOfThisAccountPublish"]
    assert publish["Principal"] == {"Service": ["cloudwatch.amazonaws.com", "events.rds.amazonaws.com", "dms.amazonaws.com"]}
    assert publish["Action"] == "sns:Publish"
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    account = statements["AccountManagesTopic"]
    assert account["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert "Condition" not in account
    assert all(statement["Effect"] == "Allow" and statement["Resource"] == topic_ref for statement in statements.values())


def test_alarms_and_event_subscriptions_wait_for_the_topic_policy(unit: Document) -> None:
    [policy_id] = resources(unit, "aws_sns_topic_policy")
    waiting = {
        resource_type: resources(unit, resource_type)
        for resource_type in ("aws_cloudwatch_metric_alarm", "aws_db_event_subscription", "aws_dms_event_subscription")
    }
    assert all(waiting.values())
    for resource_type, found in waiting.items():
        for key, resource in found.items():
            assert resource.get("depends_on") == [f"aws_sns_topic_policy.{policy_id}"], f"{resource_type}.{key}"


def test_subscriptions_follow_config(unit: Document) -> None:
    subscriptions = sorted((s["protocol"], s["endpoint"]) for s in resources(unit, "aws_sns_topic_subscription").values())
    assert subscriptions == [("email", "dba@example.com"), ("https", "https://pager.example.com/x")]
    assert resources(synth_monitoring(subscriptions=()), "aws_sns_topic_subscription") == {}


def test_removing_a_subscriber_leaves_the_others_alone(unit: Document) -> None:
    """Subscriptions are keyed by what they deliver to: the remaining one keeps its address (and confirmation)."""
    before = resources(unit, "aws_sns_topic_subscription")
    after = resources(synth_monitoring(subscriptions=BASE_PROPS.subscriptions[1:]), "aws_sns_topic_subscription")
    assert set(after) < set(before) and len(after) == 1
    [kept] = after
    assert {key: value for key, value in after[kept].items() if key != "//"} == {
        key: value for key, value in before[kept].items() if key != "//"
    }


def test_rds_and_dms_events_go_to_the_topic(unit: Document) -> None:
    rds = {s["source_type"]: s for s in resources(unit, "aws_db_event_subscription").values()}
    assert rds["db-cluster"]["source_ids"] == ["aurora-migration-cluster-unit"]
    assert {"failover", "failure", "maintenance"} <= set(rds["db-cluster"]["event_categories"])
    assert rds["db-instance"]["source_ids"] == list(INSTANCES)
    assert {"failover", "failure", "low storage", "maintenance"} <= set(rds["db-instance"]["event_categories"])
    dms = {s["source_type"]: s for s in resources(unit, "aws_dms_event_subscription").values()}
    assert dms["replication-instance"]["source_ids"] == ["aurora-migration-replication-unit"]
    assert "failure" in dms["replication-instance"]["event_categories"]
    assert dms["replication-task"]["source_ids"] == ["aurora-migration-task-unit"]
    assert {"failure", "state change"} <= set(dms["replication-task"]["event_categories"])


def dashboard_body(document: Document) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(only_resource(document, "aws_cloudwatch_dashboard")["dashboard_body"])
    return body


def test_dashboard_is_json_and_shows_only_this_stacks_resources(unit: Document) -> None:
    dashboard = only_resource(unit, "aws_cloudwatch_dashboard")
    assert dashboard["dashboard_name"] == "aurora-migration-unit"
    body = dashboard_body(unit)
    metric_widgets = [w for w in body["widgets"] if w["type"] == "metric"]
    titles = [w["properties"]["title"] for w in metric_widgets]
    for wanted in ("CPU", "connections", "replica lag", "commit latency", "CDC latency", "throughput", "validation"):
        assert any(wanted.lower() in t.lower() for t in titles), wanted
    task = {"ReplicationInstanceIdentifier": "aurora-migration-replication-unit", "ReplicationTaskIdentifier": "TASKRESOURCEID"}
    writer = {"DBClusterIdentifier": "aurora-migration-cluster-unit", "Role": "WRITER"}
    allowed = [{"DBInstanceIdentifier": instance} for instance in INSTANCES] + [task, writer]
    shown = set()
    for widget in metric_widgets:
        assert widget["properties"]["region"] == "eu-west-1"
        for entry in widget["properties"]["metrics"]:
            namespace, metric, *pairs, options = entry
            dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
            assert dimensions in allowed, entry
            assert namespace == ("AWS/DMS" if dimensions == task else "AWS/RDS"), entry
            assert set(options) == {"stat", "label"}, entry
            shown.add(metric)
    assert {"ValidationFailedOverallCount", "FullLoadThroughputRowsTarget", "CDCLatencySource", "CDCLatencyTarget"} <= shown


def test_dashboard_alarm_widget_lists_every_alarm_of_the_stack(unit: Document) -> None:
    [alarm_widget] = [w for w in dashboard_body(unit)["widgets"] if w["type"] == "alarm"]
    expected = {f"${{aws_cloudwatch_metric_alarm.{key}.arn}}" for key in resources(unit, "aws_cloudwatch_metric_alarm")}
    assert len(alarm_widget["properties"]["alarms"]) == len(expected)
    assert set(alarm_widget["properties"]["alarms"]) == expected


def test_dashboard_body_is_canonical_and_reproducible(unit: Document) -> None:
    body_text = only_resource(unit, "aws_cloudwatch_dashboard")["dashboard_body"]
    assert body_text == json.dumps(json.loads(body_text), sort_keys=True, separators=(",", ":"))
    assert only_resource(synth_monitoring(), "aws_cloudwatch_dashboard")["dashboard_body"] == body_text


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_each_environment_has_topic_alarms_events_and_dashboard(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    document = synthesized[suffix]
    alarms = alarms_by_name(document)
    instances = 1 + environments[suffix].aurora.reader_count
    cpu = [n for n in alarms if re.fullmatch(rf"aurora-cpu-utilization-db-\d-{suffix}", n)]
    assert len(cpu) == instances
    assert {f"dms-cdc-latency-source-{suffix}", f"dms-cdc-latency-target-{suffix}"} <= set(alarms)
    assert alarms[f"aurora-cpu-utilization-db-1-{suffix}"]["dimensions"]["DBInstanceIdentifier"].startswith(
        "${aws_rds_cluster_instance."
    )
    assert len(resources(document, "aws_db_event_subscription")) == 2
    assert len(resources(document, "aws_dms_event_subscription")) == 2
    body = json.loads(only_resource(document, "aws_cloudwatch_dashboard")["dashboard_body"])
    assert body["widgets"]
    assert {"alarm_topic_arn", "dashboard_name"} <= set(document["output"])


def test_prod_pages_through_the_webhook_and_evaluates_faster(synthesized: dict[str, Document]) -> None:
    prod = synthesized["prod"]
    protocols = sorted(s["protocol"] for s in resources(prod, "aws_sns_topic_subscription").values())
    assert protocols == ["email", "https"]
    assert {a["evaluation_periods"] for a in alarms_by_name(prod).values()} == {3}
