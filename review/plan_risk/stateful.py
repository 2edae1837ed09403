"""Stateful resource types: the ones whose replacement or destruction loses data or identity, and what it costs.

A type in neither this table nor the reviewed stateless list (stateless.py) is judged as stateful: `unreviewed()`
describes it as "cannot tell", so a new type fails the gate until someone says what losing it costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Stateful:
    """A resource type whose replacement or destruction loses data or identity, and what that costs."""

    what: str
    replace_cost: str
    destroy_cost: str
    names: frozenset[str] = frozenset()
    """If set, only resources with one of these `name`s are stateful (account-wide roles)."""

    def covers(self, values: Mapping[str, Any]) -> bool:
        return not self.names or values.get("name") in self.names


def unreviewed(resource_type: str) -> Stateful:
    """A type nobody has reviewed: its loss is reported as unknown, and dangerous."""
    cannot_tell = (
        f"cannot tell: `{resource_type}` is on neither the stateful nor the reviewed stateless list "
        "(review/plan_risk/stateful.py, stateless.py), so this report cannot say what is lost: treat it as data "
        "until the type is reviewed"
    )
    return Stateful(what=f"unreviewed type `{resource_type}`", replace_cost=cannot_tell, destroy_cost=cannot_tell)


# The one table of stateful and identity-bearing resource types of this stack, with what losing them costs.
STATEFUL: dict[str, Stateful] = {
    "aws_rds_cluster": Stateful(
        what="Aurora cluster",
        replace_cost="replaces the cluster: all data is lost unless restored from a snapshot (the new cluster starts "
        "empty), and its instances are replaced with it",
        destroy_cost="destroys the cluster: all data is lost unless a final snapshot is taken and restored",
    ),
    "aws_rds_cluster_instance": Stateful(
        what="Aurora instance",
        replace_cost="replaces a database instance: its connections drop (a failover if it is the writer), the cluster "
        "runs with one instance less until the new one is available, and its Performance Insights history is lost",
        destroy_cost="destroys a database instance: capacity (or the writer, forcing a failover) is lost",
    ),
    "aws_db_instance": Stateful(
        what="RDS database instance",
        replace_cost="replaces the database instance: all data is lost unless restored from a snapshot (the new "
        "instance starts empty), and its endpoint may change",
        destroy_cost="destroys the database instance: all data is lost unless a final snapshot is taken and restored",
    ),
    "aws_s3_bucket": Stateful(
        what="S3 bucket",
        replace_cost="replaces the bucket: every object (and version) in it is deleted with the old bucket, or the "
        "apply fails on a non-empty bucket unless `force_destroy` is set",
        destroy_cost="deletes the bucket and, with `force_destroy`, every object and version in it",
    ),
    "aws_kms_key": Stateful(
        what="KMS key",
        replace_cost="replaces the KMS key: everything encrypted with it (cluster storage, secrets, logs, Performance "
        "Insights, the DMS instance) becomes unreadable once the old key is deleted, and what refers to it is replaced",
        destroy_cost="schedules the KMS key for deletion: everything encrypted with it becomes unreadable once it is deleted",
    ),
    "aws_kms_alias": Stateful(
        what="KMS alias",
        replace_cost="renames the key's alias: policies, scripts and other stacks that name the key by the old alias "
        "stop finding it (the key and its data are unaffected)",
        destroy_cost="removes the key's alias: whatever names the key by the alias stops finding it",
    ),
    "aws_secretsmanager_secret": Stateful(
        what="Secrets Manager secret",
        replace_cost="replaces the secret: it gets a new ARN (applications holding the old ARN lose the credentials) "
        "and the old secret and its value are deleted after the recovery window",
        destroy_cost="deletes the secret and its value (restorable only within the recovery window)",
    ),
    "aws_dms_replication_instance": Stateful(
        what="DMS replication instance",
        replace_cost="replaces the replication instance: running tasks stop, and the task on it is replaced too: "
        "replication starts from scratch",
        destroy_cost="destroys the replication instance: replication stops and its tasks go with it",
    ),
    "aws_dms_replication_task": Stateful(
        what="DMS replication task",
        replace_cost="replaces the DMS task: replication starts from scratch (a new full load into tables that already "
        "hold data, and the CDC position is lost: source changes since the last stop are not carried over)",
        destroy_cost="destroys the DMS task: replication stops and its CDC position and table statistics are lost",
    ),
    "aws_dms_endpoint": Stateful(
        what="DMS endpoint",
        replace_cost="replaces a DMS endpoint: its ARN changes, which replaces the replication task that uses it "
        "(replication starts from scratch)",
        destroy_cost="destroys a DMS endpoint: the task that uses it cannot run",
    ),
    "aws_cloudwatch_log_group": Stateful(
        what="log group",
        replace_cost="replaces the log group: every log event in it (PostgreSQL or DMS task logs) is deleted",
        destroy_cost="deletes the log group and every log event in it",
    ),
    "aws_sns_topic": Stateful(
        what="alarm topic",
        replace_cost="replaces the alarm topic: e-mail subscribers must confirm again, and alarms page no one until they do",
        destroy_cost="deletes the alarm topic: alarms and event subscriptions page no one",
    ),
    "aws_iam_role": Stateful(
        what="account-wide DMS service role",
        replace_cost="replaces an account-wide DMS service role: every replication instance in the account (other "
        "environments too) loses VPC access or CloudWatch logging until the new role is in place",
        destroy_cost="deletes an account-wide DMS service role: DMS in the whole account (other environments that set "
        '`dms.service_roles = "existing"` too) stops working',
        names=frozenset({"dms-vpc-role", "dms-cloudwatch-logs-role"}),
    ),
}
