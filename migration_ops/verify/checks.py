"""Post-deploy checks: each one a small function of a `VerifyContext` returning a frozen `CheckResult`.

The checks read the stack's outputs (names from `contract/outputs.py`) and ask
AWS what is really there; alarm names come from `contract/naming.py`. A missing output fails its check with
`output X missing` instead of crashing; an AWS error fails the check that
hit it; a connection or credentials problem stops the run (`VerifyAborted`),
because then no check result means anything. No check ever prints the
credentials secret's password.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from config import EnvironmentConfig
from contract.aurora import AURORA_ENGINE
from contract.dms import cdc_latency_metric
from contract.naming import (
    AURORA_CPU_ALARM,
    CDC_LATENCY_SIDES,
    Naming,
    cdc_latency_alarm_purpose,
    instance_alarm_purpose,
    role_alarm_purpose,
)
from contract.outputs import Output
from migration_ops import aws
from migration_ops.results import CheckResult, failed, passed, skipped

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricAlarmTypeDef
    from mypy_boto3_dms import DatabaseMigrationServiceClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_rds.type_defs import DBClusterTypeDef, DBInstanceTypeDef
    from mypy_boto3_secretsmanager import SecretsManagerClient

SECRET_KEYS = ("username", "password", "engine", "port", "host")
# Error codes that mean "these credentials do not work here", not "this resource is wrong".
_CREDENTIAL_ERROR_CODES = frozenset(
    {
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)


@dataclass(frozen=True, kw_only=True)
class AwsClients:
    rds: RDSClient
    dms: DatabaseMigrationServiceClient
    secretsmanager: SecretsManagerClient
    cloudwatch: CloudWatchClient


@dataclass(frozen=True, kw_only=True)
class VerifyContext:
    outputs: Mapping[str, Any]
    config: EnvironmentConfig
    """What should be deployed: the environment's config (with --suffix applied)."""
    aws: AwsClients
    emulated: bool
    """True when pointed at an emulator (--endpoint-url): checks that need a real network path are skipped."""
    connection_timeout_seconds: float = 600.0
    poll_interval_seconds: float = 10.0
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def naming(self) -> Naming:
        return Naming(prefix=self.config.name_prefix, suffix=self.config.environment_suffix)

    def output(self, name: Output) -> Any:
        value = self.outputs.get(name)
        if value is None or value in ("", []):
            raise MissingOutputError(name)
        return value

    def cached(self, key: str, load: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]


class MissingOutputError(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"output {name} missing")


class VerifyAbortedError(Exception):
    """The AWS API cannot be reached or the credentials are refused: no result would mean anything."""


Check = Callable[[VerifyContext], CheckResult]


# --- Aurora -----------------------------------------------------------------------------------


def _cluster(ctx: VerifyContext) -> DBClusterTypeDef | None:
    cluster_id = str(ctx.output(Output.CLUSTER_ID))

    def load() -> DBClusterTypeDef | None:
        try:
            clusters = ctx.aws.rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
        except ClientError as error:
            if _code(error) == "DBClusterNotFoundFault":
                return None
            raise
        return clusters[0] if clusters else None

    cluster: DBClusterTypeDef | None = ctx.cached(f"cluster:{cluster_id}", load)
    return cluster


def _instances(ctx: VerifyContext) -> list[DBInstanceTypeDef]:
    """Every instance that is a member of the cluster or named in output instance_ids."""
    cluster_id = str(ctx.output(Output.CLUSTER_ID))

    def load() -> list[DBInstanceTypeDef]:
        paginator = ctx.aws.rds.get_paginator("describe_db_instances")
        found: list[DBInstanceTypeDef] = []
        for page in paginator.paginate(Filters=[{"Name": "db-cluster-id", "Values": [cluster_id]}]):
            found.extend(page["DBInstances"])
        return found

    instances: list[DBInstanceTypeDef] = ctx.cached(f"instances:{cluster_id}", load)
    return instances


def check_cluster_available(ctx: VerifyContext) -> CheckResult:
    name = "aurora.cluster"
    cluster = _cluster(ctx)
    if cluster is None:
        return failed(name, f"cluster {ctx.output(Output.CLUSTER_ID)} not found")
    status = cluster.get("Status", "?")
    evidence = f"cluster {cluster['DBClusterIdentifier']} status={status}"
    return passed(name, evidence) if status == "available" else failed(name, f"{evidence} (expected available)")


def check_cluster_engine(ctx: VerifyContext) -> CheckResult:
    name = "aurora.engine"
    cluster = _cluster(ctx)
    if cluster is None:
        return failed(name, f"cluster {ctx.output(Output.CLUSTER_ID)} not found")
    engine, version = cluster.get("Engine", "?"), cluster.get("EngineVersion", "?")
    wanted = ctx.config.aurora.engine_version
    evidence = f"engine={engine} version={version} (configured {wanted})"
    # The cluster is created at the configured version and AWS upgrades minors after that (README "Versions").
    if engine != AURORA_ENGINE or not _same_major_not_older(version, wanted):
        return failed(name, f"{evidence}; expected engine {AURORA_ENGINE} at major {wanted.split('.')[0]}, {wanted} or newer")
    return passed(name, evidence)


def _same_major_not_older(actual: str, configured: str) -> bool:
    def parts(version: str) -> tuple[int, ...]:
        return tuple(int(part) for part in version.split(".") if part.isdigit())

    running, wanted = parts(actual), parts(configured)
    return bool(running) and running[0] == wanted[0] and running >= wanted


def check_instances_available(ctx: VerifyContext) -> CheckResult:
    name = "aurora.instances"
    cluster = _cluster(ctx)
    if cluster is None:
        return failed(name, f"cluster {ctx.output(Output.CLUSTER_ID)} not found")
    expected_ids = [str(item) for item in ctx.output(Output.INSTANCE_IDS)]
    members = {member["DBInstanceIdentifier"]: member for member in cluster.get("DBClusterMembers", [])}
    described = {instance["DBInstanceIdentifier"]: instance for instance in _instances(ctx)}
    problems: list[str] = []
    missing = [identifier for identifier in expected_ids if identifier not in members or identifier not in described]
    if missing:
        problems.append(f"not in the cluster: {', '.join(missing)}")
    writers = [identifier for identifier, member in members.items() if member.get("IsClusterWriter")]
    readers = [identifier for identifier, member in members.items() if not member.get("IsClusterWriter")]
    if len(writers) != 1:
        problems.append(f"expected 1 writer, found {len(writers)}")
    if len(readers) < ctx.config.aurora.reader_count:
        problems.append(f"expected {ctx.config.aurora.reader_count} readers, found {len(readers)}")
    unavailable = [
        f"{identifier}={described[identifier].get('DBInstanceStatus', '?')}"
        for identifier in members
        if identifier in described and described[identifier].get("DBInstanceStatus") != "available"
    ]
    if unavailable:
        problems.append(f"not available: {', '.join(unavailable)}")

    def describe(identifier: str) -> str:
        instance = described.get(identifier)
        if instance is None:
            return identifier
        return f"{identifier} ({instance.get('AvailabilityZone', '?')}, {instance.get('DBInstanceStatus', '?')})"

    evidence = f"writer {', '.join(map(describe, writers)) or 'none'}; readers {', '.join(map(describe, readers)) or 'none'}"
    return failed(name, f"{'; '.join(problems)} -- {evidence}") if problems else passed(name, evidence)


def check_instance_zones(ctx: VerifyContext) -> CheckResult:
    name = "aurora.availability-zones"
    instances = _instances(ctx)
    zones = sorted({instance.get("AvailabilityZone", "?") for instance in instances})
    evidence = f"{len(instances)} instances in {len(zones)} AZs: {', '.join(zones) or 'none'}"
    return passed(name, evidence) if len(zones) >= 2 else failed(name, f"{evidence} (need >= 2)")


def check_performance_insights(ctx: VerifyContext) -> CheckResult:
    name = "aurora.performance-insights"
    instances = _instances(ctx)
    if not instances:
        return failed(name, f"no instances in cluster {ctx.output(Output.CLUSTER_ID)}")
    wanted = ctx.config.aurora.performance_insights_retention_days
    wrong = [
        f"{instance['DBInstanceIdentifier']} enabled={instance.get('PerformanceInsightsEnabled', False)} "
        f"retention={instance.get('PerformanceInsightsRetentionPeriod', '-')}"
        for instance in instances
        if not instance.get("PerformanceInsightsEnabled") or instance.get("PerformanceInsightsRetentionPeriod") != wanted
    ]
    if wrong:
        return failed(name, f"expected enabled with {wanted} days retention: {'; '.join(wrong)}")
    return passed(name, f"enabled with {wanted} days retention on {len(instances)} instances")


# --- DMS --------------------------------------------------------------------------------------


def check_replication_instance(ctx: VerifyContext) -> CheckResult:
    name = "dms.replication-instance"
    arn = str(ctx.output(Output.DMS_REPLICATION_INSTANCE_ARN))
    found = ctx.aws.dms.describe_replication_instances(Filters=[{"Name": "replication-instance-arn", "Values": [arn]}])
    instances = found.get("ReplicationInstances", [])
    if not instances:
        return failed(name, f"{arn} not found")
    instance = instances[0]
    klass, multi_az, status = (
        instance.get("ReplicationInstanceClass", "?"),
        instance.get("MultiAZ", False),
        instance.get("ReplicationInstanceStatus", "?"),
    )
    evidence = f"{instance.get('ReplicationInstanceIdentifier', arn)} class={klass} multi_az={multi_az} status={status}"
    problems = []
    if klass != ctx.config.dms.replication_instance_class:
        problems.append(f"class should be {ctx.config.dms.replication_instance_class}")
    if multi_az != ctx.config.dms.multi_az:
        problems.append(f"multi_az should be {ctx.config.dms.multi_az}")
    if status != "available":
        problems.append("status should be available")
    return failed(name, f"{evidence} ({'; '.join(problems)})") if problems else passed(name, evidence)


def check_replication_task(ctx: VerifyContext) -> CheckResult:
    name = "dms.task"
    arn = str(ctx.output(Output.DMS_TASK_ARN))
    found = ctx.aws.dms.describe_replication_tasks(
        Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WithoutSettings=True
    )
    tasks = found.get("ReplicationTasks", [])
    if not tasks:
        return failed(name, f"{arn} not found")
    task = tasks[0]
    migration_type, status = task.get("MigrationType", "?"), task.get("Status", "?")
    evidence = f"{task.get('ReplicationTaskIdentifier', arn)} type={migration_type} status={status}"
    if migration_type != ctx.config.dms.migration_type:
        return failed(name, f"{evidence} (expected type {ctx.config.dms.migration_type})")
    if status == "failed":
        return failed(name, f"{evidence}: {task.get('LastFailureMessage', 'no failure message')}")
    return passed(name, evidence)


_ENDPOINT_OUTPUTS = (("source", Output.DMS_SOURCE_ENDPOINT_ARN), ("target", Output.DMS_TARGET_ENDPOINT_ARN))


def _endpoint_arns(ctx: VerifyContext) -> dict[str, str]:
    return {kind: str(ctx.output(output)) for kind, output in _ENDPOINT_OUTPUTS}


def check_endpoints(ctx: VerifyContext) -> CheckResult:
    name = "dms.endpoints"
    described: list[str] = []
    problems: list[str] = []
    for kind, arn in _endpoint_arns(ctx).items():
        found = ctx.aws.dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [arn]}]).get("Endpoints", [])
        if not found:
            problems.append(f"{kind} endpoint {arn} not found")
            continue
        endpoint = found[0]
        endpoint_type = str(endpoint.get("EndpointType", "?")).lower()
        described.append(
            f"{kind} {endpoint.get('EndpointIdentifier', arn)} ({endpoint.get('EngineName', '?')}, "
            f"ssl={endpoint.get('SslMode', '?')}, status={endpoint.get('Status', '?')})"
        )
        if endpoint_type != kind:
            problems.append(f"{kind} endpoint has type {endpoint_type}")
    evidence = "; ".join(described)
    return failed(name, "; ".join(problems + ([evidence] if evidence else []))) if problems else passed(name, evidence)


def check_endpoint_connections(ctx: VerifyContext) -> CheckResult:
    name = "dms.connections"
    endpoints = _endpoint_arns(ctx)
    instance_arn = str(ctx.output(Output.DMS_REPLICATION_INSTANCE_ARN))
    if ctx.emulated:
        return skipped(name, "skipped: emulator (test-connection needs the real source and Aurora reachable from DMS)")
    dms = ctx.aws.dms
    for arn in endpoints.values():
        try:
            dms.test_connection(ReplicationInstanceArn=instance_arn, EndpointArn=arn)
        except ClientError as error:
            if _code(error) != "InvalidResourceStateFault":  # a test already running is as good as a new one
                raise
    deadline = time.monotonic() + ctx.connection_timeout_seconds
    while True:
        statuses = {kind: _connection(dms, instance_arn, arn) for kind, arn in endpoints.items()}
        if all(status != "testing" for status, _ in statuses.values()) or time.monotonic() >= deadline:
            break
        time.sleep(ctx.poll_interval_seconds)
    evidence = "; ".join(
        f"{kind} {status}" + (f" ({message})" if message else "") for kind, (status, message) in statuses.items()
    )
    if all(status == "successful" for status, _ in statuses.values()):
        return passed(name, evidence)
    if any(status == "testing" for status, _ in statuses.values()):
        return failed(name, f"{evidence} after {ctx.connection_timeout_seconds:.0f}s")
    return failed(name, evidence)


def _connection(dms: DatabaseMigrationServiceClient, instance_arn: str, endpoint_arn: str) -> tuple[str, str]:
    connections = dms.describe_connections(
        Filters=[
            {"Name": "endpoint-arn", "Values": [endpoint_arn]},
            {"Name": "replication-instance-arn", "Values": [instance_arn]},
        ]
    ).get("Connections", [])
    if not connections:
        return "missing", ""
    return str(connections[0].get("Status", "?")), str(connections[0].get("LastFailureMessage", ""))


# --- Credentials secret -----------------------------------------------------------------------


def check_credentials_secret(ctx: VerifyContext) -> CheckResult:
    name = "secret.credentials"
    arn = str(ctx.output(Output.SECRET_ARN))
    secret_string = ctx.aws.secretsmanager.get_secret_value(SecretId=arn).get("SecretString")
    if secret_string is None:
        return failed(name, f"{arn} has no SecretString (binary secret?)")
    try:
        document = json.loads(secret_string)
    except ValueError:
        return failed(name, f"{arn} is not a JSON document")  # never echo the value: it may hold the password
    if not isinstance(document, dict):
        return failed(name, f"{arn} is JSON but not an object")
    missing = [key for key in SECRET_KEYS if document.get(key) in (None, "")]
    shown = ", ".join(f"{key}={document.get(key)!r}" for key in ("username", "engine", "port", "host") if key in document)
    password_note = "password present" if document.get("password") not in (None, "") else "password missing"
    evidence = f"{shown}, {password_note}"
    problems = []
    if missing:
        problems.append(f"missing keys: {', '.join(missing)}")
    if "username" in document and document["username"] != ctx.config.aurora.master_username:
        problems.append(f"username should be {ctx.config.aurora.master_username!r}")
    return failed(name, f"{'; '.join(problems)} -- {evidence}") if problems else passed(name, evidence)


# --- Alarms -----------------------------------------------------------------------------------


def _named_alarms(ctx: VerifyContext, names: Sequence[str]) -> dict[str, MetricAlarmTypeDef]:
    found = ctx.aws.cloudwatch.describe_alarms(AlarmNames=list(names), AlarmTypes=["MetricAlarm"]).get("MetricAlarms", [])
    return {alarm["AlarmName"]: alarm for alarm in found}


def _alarm_problems(alarms: Sequence[MetricAlarmTypeDef], topic_arn: str) -> list[str]:
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


def check_aurora_cpu_alarms(ctx: VerifyContext) -> CheckResult:
    """`aurora-cpu-utilization-db-<n>-<suffix>` exists with actions for each instance in output instance_ids; with
    reader auto scaling `aurora-cpu-utilization-{writer,readers}-<suffix>` watch the cluster's roles instead."""
    name = "alarms.aurora-cpu"
    topic_arn = str(ctx.output(Output.ALARM_TOPIC_ARN))
    if ctx.config.aurora.auto_scaling.enabled:
        return _check_role_cpu_alarms(ctx, name, topic_arn)
    instance_ids = [str(item) for item in ctx.output(Output.INSTANCE_IDS)]
    wanted = [ctx.naming.alarm(instance_alarm_purpose(AURORA_CPU_ALARM, number)) for number in range(1, len(instance_ids) + 1)]
    by_name = _named_alarms(ctx, wanted)
    problems = [f"{alarm_name} missing" for alarm_name in wanted if alarm_name not in by_name]
    problems += _alarm_problems(list(by_name.values()), topic_arn)
    watched = {
        _dimension(alarm, "DBInstanceIdentifier") for alarm in by_name.values() if alarm.get("MetricName") == "CPUUtilization"
    }
    unwatched = [identifier for identifier in instance_ids if identifier not in watched]
    if unwatched:
        problems.append(f"no CPUUtilization alarm for {', '.join(unwatched)}")
    if problems:
        return failed(name, "; ".join(problems))
    return passed(name, f"{len(by_name)} alarms notifying the topic, one per instance: {', '.join(sorted(by_name))}")


def _check_role_cpu_alarms(ctx: VerifyContext, name: str, topic_arn: str) -> CheckResult:
    cluster_id = str(ctx.output(Output.CLUSTER_ID))
    wanted = {ctx.naming.alarm(role_alarm_purpose(AURORA_CPU_ALARM, role)): role for role in ("WRITER", "READER")}
    by_name = _named_alarms(ctx, list(wanted))
    problems = [f"{alarm_name} missing" for alarm_name in wanted if alarm_name not in by_name]
    problems += _alarm_problems(list(by_name.values()), topic_arn)
    for alarm_name, role in wanted.items():
        alarm = by_name.get(alarm_name)
        if alarm is None:
            continue
        watched = (alarm.get("MetricName"), _dimension(alarm, "DBClusterIdentifier"), _dimension(alarm, "Role"))
        if watched != ("CPUUtilization", cluster_id, role):
            problems.append(f"{alarm_name} watches {watched}, expected CPUUtilization of {cluster_id} role {role}")
    if problems:
        return failed(name, "; ".join(problems))
    return passed(name, f"{', '.join(sorted(by_name))} watch the writer and the readers of {cluster_id} and notify the topic")


def check_dms_latency_alarms(ctx: VerifyContext) -> CheckResult:
    """`dms-cdc-latency-{source,target}-<suffix>` exist with actions and watch the task in output dms_task_arn."""
    name = "alarms.dms-cdc-latency"
    topic_arn = str(ctx.output(Output.ALARM_TOPIC_ARN))
    task_resource_id = aws.task_resource_id(str(ctx.output(Output.DMS_TASK_ARN)))
    wanted = {ctx.naming.alarm(cdc_latency_alarm_purpose(side)): cdc_latency_metric(side) for side in CDC_LATENCY_SIDES}
    by_name = _named_alarms(ctx, list(wanted))
    problems = [f"{alarm_name} missing" for alarm_name in wanted if alarm_name not in by_name]
    problems += _alarm_problems(list(by_name.values()), topic_arn)
    for alarm_name, metric in wanted.items():
        alarm = by_name.get(alarm_name)
        if alarm is None:
            continue
        watched = (alarm.get("MetricName"), _dimension(alarm, "ReplicationTaskIdentifier"))
        if watched != (metric, task_resource_id):
            problems.append(f"{alarm_name} watches {watched[0]} of task {watched[1]}, expected {metric} of {task_resource_id}")
    if problems:
        return failed(name, "; ".join(problems))
    return passed(name, f"{', '.join(wanted)} watch task {task_resource_id} and notify the topic")


# --- Running ----------------------------------------------------------------------------------

CHECKS: dict[str, Check] = {
    "aurora.cluster": check_cluster_available,
    "aurora.engine": check_cluster_engine,
    "aurora.instances": check_instances_available,
    "aurora.availability-zones": check_instance_zones,
    "aurora.performance-insights": check_performance_insights,
    "dms.replication-instance": check_replication_instance,
    "dms.task": check_replication_task,
    "dms.endpoints": check_endpoints,
    "dms.connections": check_endpoint_connections,
    "secret.credentials": check_credentials_secret,
    "alarms.aurora-cpu": check_aurora_cpu_alarms,
    "alarms.dms-cdc-latency": check_dms_latency_alarms,
}


def run_check(name: str, check: Check, ctx: VerifyContext) -> CheckResult:
    """Run one check; turn a missing output or an AWS error into a FAIL, and stop on connection problems."""
    try:
        return check(ctx)
    except MissingOutputError as error:
        return failed(name, str(error))
    except ClientError as error:
        if _code(error) in _CREDENTIAL_ERROR_CODES:
            raise VerifyAbortedError(f"AWS refused the credentials ({_code(error)}): {_message(error)}") from error
        return failed(name, f"AWS error {_code(error)}: {_message(error)}")
    except BotoCoreError as error:  # no route, no credentials, no region, timeouts
        raise VerifyAbortedError(f"cannot reach AWS: {error}") from error


def iter_checks(ctx: VerifyContext, *, skip: frozenset[str] = frozenset()) -> Iterator[CheckResult]:
    """Results in CHECKS order, each as soon as it is known."""
    for name, check in CHECKS.items():
        yield skipped(name, "skipped: --skip") if name in skip else run_check(name, check, ctx)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))
