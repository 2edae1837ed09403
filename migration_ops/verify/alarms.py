"""Verify checks of the alarms, found by their contract names (contract/naming.py): they exist, watch the right
metric and notify the stack's topic."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from contract.dms import cdc_latency_metric
from contract.naming import (
    AURORA_CPU_ALARM,
    CDC_LATENCY_SIDES,
    cdc_latency_alarm_purpose,
    instance_alarm_purpose,
    role_alarm_purpose,
)
from contract.outputs import Output
from migration_ops import aws
from migration_ops.results import CheckResult, failed, passed
from migration_ops.verify.context import VerifyContext

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import MetricAlarmTypeDef


def _named_alarms(ctx: VerifyContext, names: Sequence[str]) -> dict[str, MetricAlarmTypeDef]:
    found = ctx.aws.cloudwatch.describe_alarms(AlarmNames=list(names), AlarmTypes=["MetricAlarm"]).get("MetricAlarms", [])
    return {alarm["AlarmName"]: alarm for alarm in found}


def _found_alarms(ctx: VerifyContext, wanted: Iterable[str], topic_arn: str) -> tuple[dict[str, MetricAlarmTypeDef], list[str]]:
    """The wanted alarms that exist by name, and the problems so far: the missing ones, those not notifying the topic."""
    names = list(wanted)
    by_name = _named_alarms(ctx, names)
    problems = [f"{alarm_name} missing" for alarm_name in names if alarm_name not in by_name]
    return by_name, problems + _action_problems(list(by_name.values()), topic_arn)


def _action_problems(alarms: Sequence[MetricAlarmTypeDef], topic_arn: str) -> list[str]:
    problems = []
    for alarm in alarms:
        actions = alarm.get("AlarmActions", [])
        if not actions:
            problems.append(f"{alarm['AlarmName']} has no alarm actions")
        elif topic_arn not in actions:
            problems.append(f"{alarm['AlarmName']} does not notify {topic_arn} (actions: {', '.join(actions)})")
    return problems


def _dimension(alarm: MetricAlarmTypeDef, name: str) -> str | None:
    return next((item.get("Value") for item in alarm.get("Dimensions", []) if item.get("Name") == name), None)


def _verdict(name: str, problems: Sequence[str], evidence: str) -> CheckResult:
    return failed(name, "; ".join(problems)) if problems else passed(name, evidence)


def check_aurora_cpu_alarms(ctx: VerifyContext) -> CheckResult:
    """`aurora-cpu-utilization-db-<n>-<suffix>` exists with actions for each instance in output instance_ids; with
    reader auto scaling `aurora-cpu-utilization-{writer,readers}-<suffix>` watch the cluster's roles instead."""
    name = "alarms.aurora-cpu"
    topic_arn = str(ctx.output(Output.ALARM_TOPIC_ARN))
    if ctx.config.aurora.auto_scaling.enabled:
        return _check_role_cpu_alarms(ctx, name, topic_arn)
    instance_ids = [str(item) for item in ctx.output(Output.INSTANCE_IDS)]
    wanted = [ctx.naming.alarm(instance_alarm_purpose(AURORA_CPU_ALARM, number)) for number in range(1, len(instance_ids) + 1)]
    by_name, problems = _found_alarms(ctx, wanted, topic_arn)
    watched = {
        _dimension(alarm, "DBInstanceIdentifier") for alarm in by_name.values() if alarm.get("MetricName") == "CPUUtilization"
    }
    unwatched = [identifier for identifier in instance_ids if identifier not in watched]
    if unwatched:
        problems.append(f"no CPUUtilization alarm for {', '.join(unwatched)}")
    return _verdict(name, problems, f"{len(by_name)} alarms notifying the topic, one per instance: {', '.join(sorted(by_name))}")


def _check_role_cpu_alarms(ctx: VerifyContext, name: str, topic_arn: str) -> CheckResult:
    cluster_id = str(ctx.output(Output.CLUSTER_ID))
    wanted = {ctx.naming.alarm(role_alarm_purpose(AURORA_CPU_ALARM, role)): role for role in ("WRITER", "READER")}
    by_name, problems = _found_alarms(ctx, wanted, topic_arn)
    for alarm_name, role in wanted.items():
        if (alarm := by_name.get(alarm_name)) is None:
            continue
        watched = (alarm.get("MetricName"), _dimension(alarm, "DBClusterIdentifier"), _dimension(alarm, "Role"))
        if watched != ("CPUUtilization", cluster_id, role):
            problems.append(f"{alarm_name} watches {watched}, expected CPUUtilization of {cluster_id} role {role}")
    evidence = f"{', '.join(sorted(by_name))} watch the writer and the readers of {cluster_id} and notify the topic"
    return _verdict(name, problems, evidence)


def check_dms_latency_alarms(ctx: VerifyContext) -> CheckResult:
    """`dms-cdc-latency-{source,target}-<suffix>` exist with actions and watch the task in output dms_task_arn."""
    name = "alarms.dms-cdc-latency"
    topic_arn = str(ctx.output(Output.ALARM_TOPIC_ARN))
    task_resource_id = aws.task_resource_id(str(ctx.output(Output.DMS_TASK_ARN)))
    wanted = {ctx.naming.alarm(cdc_latency_alarm_purpose(side)): cdc_latency_metric(side) for side in CDC_LATENCY_SIDES}
    by_name, problems = _found_alarms(ctx, wanted, topic_arn)
    for alarm_name, metric in wanted.items():
        if (alarm := by_name.get(alarm_name)) is None:
            continue
        watched = (alarm.get("MetricName"), _dimension(alarm, "ReplicationTaskIdentifier"))
        if watched != (metric, task_resource_id):
            problems.append(f"{alarm_name} watches {watched[0]} of task {watched[1]}, expected {metric} of {task_resource_id}")
    return _verdict(name, problems, f"{', '.join(wanted)} watch task {task_resource_id} and notify the topic")
