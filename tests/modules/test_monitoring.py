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
from modules.alarms import MonitoringProps, Subscription
from modules.monitoring import Monitoring
from stacks.alarm_props import alarm_thresholds
from tests.environments import ENVIRONMENTS
from tests.helpers import Document, only_resource, resources, synth_props

INSTANCES = ("aurora-migration-db-1-unit", "aurora-migration-db-2-unit", "aurora-migration-db-3-unit")

BASE_PROPS = MonitoringProps(
    naming=Naming(prefix="aurora-migration", suffix="unit"),
    account_id="123456789012",
    partition="aws",
    region="eu-west-1",
    thresholds=alarm_thresholds(MonitoringConfig()),
    period_seconds=60,
    evaluation_periods=5,
    subscriptions=(
        Subscription(protocol="email", endpoint="dba@example.com"),
        Subscription(protocol="https", endpoint="https://pager.example.com/x"),
    ),
    cluster_identifier="aurora-migration-cluster-unit",
    instance_identifiers=INSTANCES,
    instance_max_connections=default_max_connections("db.r6g.large"),
    serverless_max_capacity_acu=None,
    reader_auto_scaling=False,
    replication_instance_identifier="aurora-migration-replication-unit",
    replication_task_identifier="aurora-migration-task-unit",
    replication_task_resource_id="TASKRESOURCEID",
    replication_task_arn="arn:aws:dms:eu-west-1:123456789012:task:TASKRESOURCEID",
)


def synth_monitoring(**changes: Any) -> Document:
    return synth_props(Monitoring, "monitoring", BASE_PROPS, **changes)


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
    assert len(alarms) == 3 * 8 + 3 + 2 + 1 + 2 + 1 + 4


def test_no_silent_alarms_every_alarm_notifies_the_topic_and_is_explained(unit: Document) -> None:
    topic_ref = f"${{aws_sns_topic.{next(iter(resources(unit, 'aws_sns_topic')))}.arn}}"
    for name, alarm in alarms_by_name(unit).items():
        assert alarm["alarm_actions"] == [topic_ref], name
        assert alarm["ok_actions"] == [topic_ref], name
        assert len(alarm["alarm_description"]) > 60, name
        assert (alarm["period"], alarm["evaluation_periods"]) == (60, 5)


def test_treat_missing_data_is_chosen_per_alarm(unit: Document) -> None:
    """Metrics that are absent in normal operation never page; instance health goes to INSUFFICIENT_DATA instead."""
    absent_is_normal = {
        "aurora-deadlocks-unit",
        "dms-cdc-latency-source-unit",
        "dms-cdc-latency-target-unit",
        "dms-cdc-incoming-changes-unit",
        "dms-cdc-changes-disk-source-unit",
        "dms-cdc-changes-disk-target-unit",
        "dms-validation-failures-unit",
        *(f"aurora-swap-usage-db-{n}-unit" for n in (1, 2, 3)),
    }
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
    assert set(statements) == {
        "AccountAdministersKeyThroughIam",
        "CloudWatchAlarmsOfThisAccountUseKey",
        "RdsAndDmsEventsUseKey",
        "EventBridgeRulesUseKey",
    }
    assert statements["AccountAdministersKeyThroughIam"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    cloudwatch = statements["CloudWatchAlarmsOfThisAccountUseKey"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    events = statements["RdsAndDmsEventsUseKey"]
    assert events["Principal"] == {"Service": ["events.rds.amazonaws.com", "dms.amazonaws.com"]}
    eventbridge = statements["EventBridgeRulesUseKey"]
    assert eventbridge["Principal"] == {"Service": "events.amazonaws.com"}
    for statement in (cloudwatch, events, eventbridge):
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
    assert set(statements) == {
        "AlarmAndEventServicesOfThisAccountPublish",
        "DmsTaskStateRuleOfThisStackPublishes",
        "AccountManagesTopic",
    }
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
    aurora = environments[suffix].aurora
    cpu = [n for n in alarms if re.fullmatch(rf"aurora-cpu-utilization-db-\d-{suffix}", n)]
    assert {f"dms-cdc-latency-source-{suffix}", f"dms-cdc-latency-target-{suffix}"} <= set(alarms)
    if aurora.auto_scaling.enabled:
        assert cpu == []
        assert alarms[f"aurora-cpu-utilization-readers-{suffix}"]["dimensions"]["Role"] == "READER"
        assert alarms[f"aurora-cpu-utilization-writer-{suffix}"]["dimensions"]["DBClusterIdentifier"].startswith(
            "${aws_rds_cluster."
        )
    else:
        assert len(cpu) == 1 + aurora.reader_count
        assert alarms[f"aurora-cpu-utilization-db-1-{suffix}"]["dimensions"]["DBInstanceIdentifier"].startswith(
            "${aws_rds_cluster_instance."
        )
    # The DMS task's state changes; with auto scaling also the events of the readers it adds.
    assert len(resources(document, "aws_cloudwatch_event_rule")) == 1 + aurora.auto_scaling.enabled
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


WRITER = {"DBClusterIdentifier": "aurora-migration-cluster-unit", "Role": "WRITER"}
READER = {"DBClusterIdentifier": "aurora-migration-cluster-unit", "Role": "READER"}
TASK = {"ReplicationInstanceIdentifier": "aurora-migration-replication-unit", "ReplicationTaskIdentifier": "TASKRESOURCEID"}
REPLICATION_INSTANCE = {"ReplicationInstanceIdentifier": "aurora-migration-replication-unit"}

# name -> namespace, metric, dimensions, statistic, comparison, threshold, treat_missing_data (defaults of MonitoringConfig)
NEW_ALARMS: dict[str, tuple[str, str, dict[str, str], str, str, float, str]] = {
    "aurora-max-used-transaction-ids-unit": (
        "AWS/RDS", "MaximumUsedTransactionIDs", WRITER, "Maximum", "GreaterThanThreshold", 1_000_000_000, "missing",
    ),
    "aurora-disk-queue-depth-db-2-unit": (
        "AWS/RDS", "DiskQueueDepth", {"DBInstanceIdentifier": INSTANCES[1]}, "Average", "GreaterThanThreshold", 100, "missing",
    ),
    "aurora-read-latency-db-1-unit": (
        "AWS/RDS", "ReadLatency", {"DBInstanceIdentifier": INSTANCES[0]}, "Average", "GreaterThanThreshold", 0.05, "missing",
    ),
    "aurora-write-latency-db-3-unit": (
        "AWS/RDS", "WriteLatency", {"DBInstanceIdentifier": INSTANCES[2]}, "Average", "GreaterThanThreshold", 0.05, "missing",
    ),
    "aurora-swap-usage-db-1-unit": (
        "AWS/RDS", "SwapUsage", {"DBInstanceIdentifier": INSTANCES[0]}, "Maximum", "GreaterThanThreshold", 256 * MIB,
        "notBreaching",
    ),
    "dms-cdc-incoming-changes-unit": (
        "AWS/DMS", "CDCIncomingChanges", TASK, "Maximum", "GreaterThanThreshold", 1_000_000, "notBreaching",
    ),
    "dms-cdc-changes-disk-source-unit": (
        "AWS/DMS", "CDCChangesDiskSource", TASK, "Maximum", "GreaterThanThreshold", 100_000, "notBreaching",
    ),
    "dms-cdc-changes-disk-target-unit": (
        "AWS/DMS", "CDCChangesDiskTarget", TASK, "Maximum", "GreaterThanThreshold", 100_000, "notBreaching",
    ),
    "dms-validation-failures-unit": (
        "AWS/DMS", "ValidationFailedOverallCount", TASK, "Maximum", "GreaterThanThreshold", 0, "notBreaching",
    ),
    "dms-swap-usage-unit": (
        "AWS/DMS", "SwapUsage", REPLICATION_INSTANCE, "Maximum", "GreaterThanThreshold", 512 * MIB, "missing",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(NEW_ALARMS))
def test_alarms_a_dba_also_pages_on(unit: Document, name: str) -> None:
    namespace, metric, dimensions, statistic, comparison, threshold, missing = NEW_ALARMS[name]
    alarm = alarms_by_name(unit)[name]
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == (namespace, metric, statistic)
    assert alarm["dimensions"] == dimensions
    assert (alarm["comparison_operator"], alarm["threshold"]) == (comparison, threshold)
    assert alarm["treat_missing_data"] == missing


def test_new_thresholds_follow_config() -> None:
    thresholds = dataclasses.replace(
        BASE_PROPS.thresholds,
        aurora_max_used_transaction_ids=500_000_000,
        aurora_read_latency_ms=20,
        aurora_disk_queue_depth=32,
        dms_validation_failed_rows=10,
        dms_cdc_changes_on_disk=5000,
    )
    alarms = alarms_by_name(synth_monitoring(thresholds=thresholds))
    assert alarms["aurora-max-used-transaction-ids-unit"]["threshold"] == 500_000_000
    assert alarms["aurora-read-latency-db-2-unit"]["threshold"] == 0.02
    assert alarms["aurora-disk-queue-depth-db-3-unit"]["threshold"] == 32
    assert alarms["dms-validation-failures-unit"]["threshold"] == 10
    assert alarms["dms-cdc-changes-disk-target-unit"]["threshold"] == 5000


def test_every_new_alarm_says_what_to_check_first(unit: Document) -> None:
    alarms = alarms_by_name(unit)
    for name in NEW_ALARMS:
        assert "Check" in alarms[name]["alarm_description"] or "Read " in alarms[name]["alarm_description"], name


@pytest.fixture(scope="module")
def auto_scaled() -> Document:
    return synth_monitoring(reader_auto_scaling=True)


def test_with_reader_auto_scaling_no_alarm_is_bound_to_an_instance(auto_scaled: Document) -> None:
    """Auto scaling removes readers Terraform does not know: alarms watch the cluster's writer and reader roles."""
    alarms = alarms_by_name(auto_scaled)
    assert not [name for name, alarm in alarms.items() if "DBInstanceIdentifier" in alarm["dimensions"]]
    assert not [name for name in alarms if re.search(r"-db-\d", name)]
    families = (
        "aurora-cpu-utilization", "aurora-freeable-memory", "aurora-connections", "aurora-free-local-storage",
        "aurora-disk-queue-depth", "aurora-read-latency", "aurora-write-latency", "aurora-swap-usage",
    )  # fmt: skip
    for family in families:
        assert alarms[f"{family}-writer-unit"]["dimensions"] == WRITER, family
        assert alarms[f"{family}-readers-unit"]["dimensions"] == READER, family
    assert len(alarms) == 2 * 8 + 3 + 2 + 1 + 2 + 1 + 4


def test_role_alarms_let_the_worst_instance_decide(auto_scaled: Document) -> None:
    alarms = alarms_by_name(auto_scaled)
    assert alarms["aurora-cpu-utilization-readers-unit"]["statistic"] == "Maximum", "an average hides one hot reader"
    assert alarms["aurora-freeable-memory-readers-unit"]["statistic"] == "Minimum"
    assert alarms["aurora-cpu-utilization-readers-unit"]["threshold"] == 80
    assert alarms["aurora-swap-usage-writer-unit"]["treat_missing_data"] == "notBreaching"
    assert alarms["aurora-cpu-utilization-writer-unit"]["treat_missing_data"] == "missing"
    assert "a reader" in alarms["aurora-cpu-utilization-readers-unit"]["alarm_description"]


def test_dashboard_with_auto_scaling_shows_roles_not_instances(auto_scaled: Document) -> None:
    entries = [e for w in dashboard_body(auto_scaled)["widgets"] if w["type"] == "metric" for e in w["properties"]["metrics"]]
    shown = [dict(zip(e[2:-1:2], e[3:-1:2], strict=True)) for e in entries]
    assert not [d for d in shown if "DBInstanceIdentifier" in d]
    assert READER in shown and WRITER in shown


@pytest.fixture(scope="module")
def serverless() -> Document:
    from contract.aurora import serverless_v2_max_connections

    return synth_monitoring(serverless_max_capacity_acu=16.0, instance_max_connections=serverless_v2_max_connections(16, 1))


def test_serverless_watches_acu_utilization_instead_of_free_memory(serverless: Document) -> None:
    alarms = alarms_by_name(serverless)
    assert not [name for name in alarms if name.startswith("aurora-freeable-memory")]
    acu = alarms["aurora-acu-utilization-db-2-unit"]
    assert (acu["namespace"], acu["metric_name"], acu["statistic"]) == ("AWS/RDS", "ACUUtilization", "Maximum")
    assert acu["dimensions"] == {"DBInstanceIdentifier": INSTANCES[1]}
    assert (acu["comparison_operator"], acu["threshold"], acu["treat_missing_data"]) == ("GreaterThanThreshold", 90, "missing")
    assert "16 ACU" in acu["alarm_description"]


def test_serverless_connection_limit_derives_from_max_acu(serverless: Document) -> None:
    """Aurora user guide, "Maximum connections for Aurora Serverless v2": 3,360 at 16 ACU (Aurora PostgreSQL)."""
    alarm = alarms_by_name(serverless)["aurora-connections-db-1-unit"]
    assert alarm["threshold"] == round(3360 * 0.8)
    assert "maximum of 16 ACU" in alarm["alarm_description"]


def test_serverless_v2_max_connections_table() -> None:
    from contract.aurora import serverless_v2_max_connections

    assert serverless_v2_max_connections(1, 1) == 189
    assert serverless_v2_max_connections(16, 2) == 3360
    assert serverless_v2_max_connections(12, 2) == 1669, "between rows: the lower row, so the alarm fires early"
    assert serverless_v2_max_connections(64, 1) == 5000
    assert serverless_v2_max_connections(64, 0.5) == 2000, "a minimum of 0.5 ACU caps max_connections at 2,000"


def test_serverless_dashboard_shows_capacity(serverless: Document) -> None:
    titles = [w["properties"]["title"] for w in dashboard_body(serverless)["widgets"] if w["type"] == "metric"]
    assert any("Serverless v2 capacity" in t and "16" in t for t in titles)


def test_dms_task_state_changes_reach_the_topic_through_eventbridge(unit: Document) -> None:
    [(rule_id, rule)] = resources(unit, "aws_cloudwatch_event_rule").items()
    assert rule["name"] == "aurora-migration-dms-task-state-unit"
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.dms"],
        "detail-type": ["DMS Replication Task State Change"],
        "resources": ["arn:aws:dms:eu-west-1:123456789012:task:TASKRESOURCEID"],
    }
    target = only_resource(unit, "aws_cloudwatch_event_target")
    assert target["rule"] == f"${{aws_cloudwatch_event_rule.{rule_id}.name}}"
    assert target["arn"] == f"${{aws_sns_topic.{next(iter(resources(unit, 'aws_sns_topic')))}.arn}}"
    [policy_id] = resources(unit, "aws_sns_topic_policy")
    assert target["depends_on"] == [f"aws_sns_topic_policy.{policy_id}"]


def test_topic_policy_admits_eventbridge_only_for_this_stacks_rule(unit: Document) -> None:
    [rule_id] = resources(unit, "aws_cloudwatch_event_rule")
    statements = {s["Sid"]: s for s in json.loads(only_resource(unit, "aws_sns_topic_policy")["policy"])["Statement"]}
    rule = statements["DmsTaskStateRuleOfThisStackPublishes"]
    assert rule["Principal"] == {"Service": "events.amazonaws.com"}
    assert rule["Action"] == "sns:Publish"
    assert rule["Condition"] == {
        "ArnEquals": {"aws:SourceArn": f"${{aws_cloudwatch_event_rule.{rule_id}.arn}}"},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }
    others = [s for sid, s in statements.items() if sid != "DmsTaskStateRuleOfThisStackPublishes"]
    assert all("events.amazonaws.com" not in json.dumps(s["Principal"]) for s in others)


def test_dms_event_subscription_stays_beside_the_rule(unit: Document) -> None:
    dms = {s["source_type"]: s for s in resources(unit, "aws_dms_event_subscription").values()}
    assert {"failure", "state change"} <= set(dms["replication-task"]["event_categories"])


def test_without_auto_scaling_no_reader_rule(unit: Document) -> None:
    rules = resources(unit, "aws_cloudwatch_event_rule").values()
    assert [rule["name"] for rule in rules] == ["aurora-migration-dms-task-state-unit"]


def test_events_of_auto_scaled_readers_reach_the_topic_by_their_cluster_tag(auto_scaled: Document) -> None:
    """Auto-scaled readers are not in the instance subscription's fixed ids: a rule matches them by the tag Aurora
    Auto Scaling gives them (`application-autoscaling:resourceId` = `cluster:<id>`), in the subscription's categories."""
    rules = {rule["name"]: (key, rule) for key, rule in resources(auto_scaled, "aws_cloudwatch_event_rule").items()}
    rule_id, rule = rules["aurora-migration-auto-scaled-reader-events-unit"]
    subscription = next(
        s for s in resources(auto_scaled, "aws_db_event_subscription").values() if s["source_type"] == "db-instance"
    )
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.rds"],
        "detail-type": ["RDS DB Instance Event"],
        "detail": {
            "EventCategories": subscription["event_categories"],
            "Tags": {"application-autoscaling:resourceId": ["cluster:aurora-migration-cluster-unit"]},
        },
    }
    targets = {target["rule"]: target for target in resources(auto_scaled, "aws_cloudwatch_event_target").values()}
    target = targets[f"${{aws_cloudwatch_event_rule.{rule_id}.name}}"]
    assert target["arn"] == f"${{aws_sns_topic.{next(iter(resources(auto_scaled, 'aws_sns_topic')))}.arn}}"
    [policy_id] = resources(auto_scaled, "aws_sns_topic_policy")
    assert target["depends_on"] == [f"aws_sns_topic_policy.{policy_id}"]
    # Terraform's instances keep their subscription (fixed ids, never every instance of the account).
    assert subscription["source_ids"] == list(INSTANCES)


def test_topic_policy_admits_eventbridge_for_the_reader_rule_of_this_stack_only(auto_scaled: Document) -> None:
    rules = {rule["name"]: key for key, rule in resources(auto_scaled, "aws_cloudwatch_event_rule").items()}
    policy = json.loads(only_resource(auto_scaled, "aws_sns_topic_policy")["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    reader = statements["AutoScaledReaderEventsRuleOfThisStackPublishes"]
    assert reader["Principal"] == {"Service": "events.amazonaws.com"}
    assert reader["Condition"] == {
        "ArnEquals": {
            "aws:SourceArn": f"${{aws_cloudwatch_event_rule.{rules['aurora-migration-auto-scaled-reader-events-unit']}.arn}}"
        },
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }
    assert statements["DmsTaskStateRuleOfThisStackPublishes"]["Condition"]["ArnEquals"] == {
        "aws:SourceArn": f"${{aws_cloudwatch_event_rule.{rules['aurora-migration-dms-task-state-unit']}.arn}}"
    }
