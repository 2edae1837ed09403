"""Verify checks of DMS: the replication instance, the task, the endpoints and their connections."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from contract.outputs import Output
from migration_ops.results import CheckResult, failed, passed, skipped
from migration_ops.verify.context import VerifyContext, error_code

if TYPE_CHECKING:
    from mypy_boto3_dms import DatabaseMigrationServiceClient


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


SECRETS_MANAGER_OVERRIDE = "secretsManagerEndpointOverride"


def _secrets_manager_override(extra_connection_attributes: str) -> str | None:
    """The value of `secretsManagerEndpointOverride` in `name=value;...` extra connection attributes, if any."""
    for attribute in extra_connection_attributes.split(";"):
        name, _, value = attribute.partition("=")
        if name.strip() == SECRETS_MANAGER_OVERRIDE and value.strip():
            return value.strip()
    return None


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
        override = _secrets_manager_override(str(endpoint.get("ExtraConnectionAttributes", "")))
        described.append(
            f"{kind} {endpoint.get('EndpointIdentifier', arn)} ({endpoint.get('EngineName', '?')}, "
            f"ssl={endpoint.get('SslMode', '?')}, status={endpoint.get('Status', '?')}"
            + (f", secrets via {override}" if override else "")
            + ")"
        )
        if endpoint_type != kind:
            problems.append(f"{kind} endpoint has type {endpoint_type}")
        if ctx.config.dms.secrets_manager_endpoint_override and not override:
            problems.append(f"{kind} endpoint has no {SECRETS_MANAGER_OVERRIDE} (dms.secrets_manager_endpoint_override)")
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
            if error_code(error) != "InvalidResourceStateFault":  # a test already running is as good as a new one
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
