"""Verify checks of Aurora: the cluster, its engine, its instances, their zones, Performance Insights, and the
instances Terraform does not manage (readers Aurora Auto Scaling added)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from contract.aurora import AURORA_ENGINE
from contract.aws_limits import ADVANCED_DATABASE_INSIGHTS_RETENTION_DAYS
from contract.outputs import Output
from migration_ops.results import CheckResult, failed, passed, warned
from migration_ops.verify.context import VerifyContext, error_code

if TYPE_CHECKING:
    from mypy_boto3_rds.type_defs import DBClusterTypeDef, DBInstanceTypeDef

# Aurora user guide, "Using Amazon Aurora Auto Scaling with Aurora Replicas", "DB instance IDs and tagging".
AUTO_SCALING_INSTANCE_PREFIX = "application-autoscaling-"


def _cluster(ctx: VerifyContext) -> DBClusterTypeDef | None:
    cluster_id = str(ctx.output(Output.CLUSTER_ID))

    def load() -> DBClusterTypeDef | None:
        try:
            clusters = ctx.aws.rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
        except ClientError as error:
            if error_code(error) == "DBClusterNotFoundFault":
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
    # The cluster is created at the configured version and AWS upgrades minors after that (docs/design.md "Versions").
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


def _managed_ids(ctx: VerifyContext) -> set[str]:
    """Terraform's instances: output instance_ids."""
    return {str(item) for item in ctx.output(Output.INSTANCE_IDS)}


def _performance_insights(instance: DBInstanceTypeDef) -> str:
    if not instance.get("PerformanceInsightsEnabled"):
        return "Performance Insights off"
    return f"Performance Insights on ({instance.get('PerformanceInsightsRetentionPeriod', '-')} days)"


def check_performance_insights(ctx: VerifyContext) -> CheckResult:
    """On, with the configured retention, on Terraform's instances; the others are aurora.unmanaged-instances'."""
    name = "aurora.performance-insights"
    managed = _managed_ids(ctx)
    every = _instances(ctx)
    instances = [instance for instance in every if instance["DBInstanceIdentifier"] in managed]
    if not instances:
        return failed(name, f"none of {', '.join(sorted(managed))} in cluster {ctx.output(Output.CLUSTER_ID)}")
    wanted = ctx.config.aurora.performance_insights_retention_days
    wrong = [
        f"{instance['DBInstanceIdentifier']} enabled={instance.get('PerformanceInsightsEnabled', False)} "
        f"retention={instance.get('PerformanceInsightsRetentionPeriod', '-')}"
        for instance in instances
        if not instance.get("PerformanceInsightsEnabled") or instance.get("PerformanceInsightsRetentionPeriod") != wanted
    ]
    if wrong:
        return failed(name, f"expected enabled with {wanted} days retention: {'; '.join(wrong)}")
    others = len(every) - len(instances)
    outside = f" ({others} outside Terraform: see aurora.unmanaged-instances)" if others else ""
    return passed(name, f"enabled with {wanted} days retention on {len(instances)} instances{outside}")


def check_unmanaged_instances(ctx: VerifyContext) -> CheckResult:
    """Instances of the cluster that are not Terraform's (not in output instance_ids) WARN, never FAIL: readers Aurora
    Auto Scaling added (`application-autoscaling-*`) are expected with `aurora.auto_scaling`, but they lack what the
    stack gives its own instances (runbook, "Reader auto scaling")."""
    name = "aurora.unmanaged-instances"
    cluster_id = str(ctx.output(Output.CLUSTER_ID))
    managed = _managed_ids(ctx)
    others = [instance for instance in _instances(ctx) if instance["DBInstanceIdentifier"] not in managed]
    if not others:
        return passed(name, f"every instance of {cluster_id} is one of Terraform's ({len(managed)} in instance_ids)")

    def describe(instance: DBInstanceTypeDef) -> str:
        identifier = instance["DBInstanceIdentifier"]
        origin = "added by Aurora Auto Scaling" if identifier.startswith(AUTO_SCALING_INSTANCE_PREFIX) else "not this stack's"
        return (
            f"{identifier} ({origin}, {instance.get('DBInstanceStatus', '?')}): not in Terraform, "
            f"{_performance_insights(instance)}"
        )

    return warned(
        name,
        f"{len(others)} instance(s) of {cluster_id} outside Terraform: {'; '.join(map(describe, others))}",
        fix='expected with aurora.auto_scaling (runbook, "Reader auto scaling": what these readers lack); otherwise '
        "delete them before a destroy",
    )


def check_database_insights(ctx: VerifyContext) -> CheckResult:
    """The cluster's Database Insights mode (RDS DescribeDBClusters `DatabaseInsightsMode`), and for `advanced` the
    cluster's Performance Insights retention RDS requires with it (botocore rds CreateDBCluster.DatabaseInsightsMode)."""
    name = "aurora.database-insights"
    cluster = _cluster(ctx)
    if cluster is None:
        return failed(name, f"cluster {ctx.output(Output.CLUSTER_ID)} not found")
    wanted = ctx.config.aurora.database_insights_mode
    mode = cluster.get("DatabaseInsightsMode", "standard")  # absent: RDS reports no mode, which is standard
    retention = cluster.get("PerformanceInsightsRetentionPeriod", "-")
    evidence = f"cluster {cluster['DBClusterIdentifier']} database_insights_mode={mode} (configured {wanted})"
    if mode != wanted:
        return failed(name, evidence)
    if wanted == "advanced" and retention != ADVANCED_DATABASE_INSIGHTS_RETENTION_DAYS:
        return failed(name, f"{evidence}; advanced needs {ADVANCED_DATABASE_INSIGHTS_RETENTION_DAYS} days of "
                      f"Performance Insights retention, the cluster has {retention}")  # fmt: skip
    return passed(name, evidence)
