"""In-place updates that cost data or take a protection away: risky attribute transitions, and updates that stop DMS.

Each is flagged like a replacement and acknowledged the same way: its kind of change is the row's `kind`
(`[[acknowledge]] change = "deletion-protection-off"`). An unset value (null) counts as the provider's default; a new
value known only after apply counts as risky (the report cannot tell). `apply_immediately` is deliberately not a row:
it is no setting of the database (the provider sends it with each modify call) and changing it alone changes nothing in
AWS; what it makes immediate (an instance class, an engine version) is an outage the runbook plans, not a data loss.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

REPLACE = "replace"
DESTROY = "destroy"
MOVED_TYPE = "moved-to-another-type"
STOPS_REPLICATION = "stops-replication-task"

Direction = Literal["turned-off", "turned-on", "lowered"]


@dataclass(frozen=True, kw_only=True)
class Transition:
    kind: str
    resource_types: tuple[str, ...]
    attribute: str
    direction: Direction
    default: Any
    """The provider's value when the attribute is unset (null)."""
    unlimited: tuple[Any, ...] = ()
    """For `lowered`: values that mean "no limit" (a log group's 0: never expire)."""
    cost: str
    source: str

    def _effective(self, value: Any) -> Any:
        value = self.default if value is None else value
        if self.direction == "lowered":
            if value in self.unlimited:
                return math.inf
            return value if isinstance(value, int | float) and not isinstance(value, bool) else None
        return value if isinstance(value, bool) else None

    def risky(self, before: Any, after: Any) -> bool:
        """Whether before -> after is this transition; a value of an unexpected kind counts as risky (cannot tell)."""
        old, new = self._effective(before), self._effective(after)
        if old is None or new is None:
            return bool(before != after)
        if self.direction == "turned-off":
            return old is True and new is False
        if self.direction == "turned-on":
            return old is False and new is True
        return bool(new < old)


RDS_DATABASES = ("aws_rds_cluster", "aws_db_instance")
TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        kind="deletion-protection-off",
        resource_types=RDS_DATABASES,
        attribute="deletion_protection",
        direction="turned-off",
        default=False,
        cost="AWS stops refusing to delete the database: the next destroy (a removed resource, a replacement, "
        "`cdktf destroy`) goes through, with all its data",
        source="terraform-provider-aws docs, `aws_rds_cluster` / `aws_db_instance` `deletion_protection`; Amazon Aurora "
        'User Guide, "Deleting Aurora DB clusters and DB instances" (deletion protection)',
    ),
    Transition(
        kind="final-snapshot-skipped",
        resource_types=RDS_DATABASES,
        attribute="skip_final_snapshot",
        direction="turned-on",
        default=False,
        cost="a later destroy deletes the database without a final snapshot: nothing is left to restore from once the "
        "automated backups go with it",
        source="terraform-provider-aws docs, `aws_rds_cluster` / `aws_db_instance` `skip_final_snapshot` (default false)",
    ),
    Transition(
        kind="backup-retention-lowered",
        resource_types=RDS_DATABASES,
        attribute="backup_retention_period",
        direction="lowered",
        default=1,
        cost="automated backups older than the new period are deleted, and point-in-time restore reaches back only "
        "that far (0 on an instance turns automated backups off and deletes them)",
        source='Amazon RDS / Aurora User Guide, "Backup retention period"',
    ),
    Transition(
        kind="kms-key-disabled",
        resource_types=("aws_kms_key",),
        attribute="is_enabled",
        direction="turned-off",
        default=True,
        cost="nothing encrypted with the key can be decrypted while it is disabled: the cluster becomes inaccessible "
        "(inaccessible-encryption-credentials), the secrets and the logs unreadable, DMS stops",
        source='AWS KMS Developer Guide, "Enabling and disabling keys"; Amazon Aurora User Guide, "Encrypting Amazon '
        'Aurora resources"',
    ),
    Transition(
        kind="kms-deletion-window-shortened",
        resource_types=("aws_kms_key",),
        attribute="deletion_window_in_days",
        direction="lowered",
        default=30,
        cost="a scheduled deletion of the key (a later destroy or replacement) completes sooner: less time to cancel "
        "it before everything encrypted with the key is lost for good",
        source="terraform-provider-aws docs, `aws_kms_key` `deletion_window_in_days` (7-30, default 30); AWS KMS "
        'Developer Guide, "Deleting AWS KMS keys"',
    ),
    Transition(
        kind="log-retention-shortened",
        resource_types=("aws_cloudwatch_log_group",),
        attribute="retention_in_days",
        direction="lowered",
        default=0,
        unlimited=(0,),
        cost="log events older than the new retention are deleted (0 or unset meant: never expire)",
        source='Amazon CloudWatch Logs User Guide, "Change log data retention in CloudWatch Logs"',
    ),
    Transition(
        kind="log-group-skip-destroy-off",
        resource_types=("aws_cloudwatch_log_group",),
        attribute="skip_destroy",
        direction="turned-off",
        default=False,
        cost="a later destroy deletes the log group and every event in it instead of leaving it in AWS",
        source="terraform-provider-aws docs, `aws_cloudwatch_log_group` `skip_destroy`",
    ),
    Transition(
        kind="force-destroy-on",
        resource_types=("aws_s3_bucket",),
        attribute="force_destroy",
        direction="turned-on",
        default=False,
        cost="a later destroy deletes every object and version in the bucket instead of failing on a non-empty bucket",
        source="terraform-provider-aws docs, `aws_s3_bucket` `force_destroy`",
    ),
    Transition(
        kind="secret-recovery-window-shortened",
        resource_types=("aws_secretsmanager_secret",),
        attribute="recovery_window_in_days",
        direction="lowered",
        default=30,
        cost="a later destroy deletes the secret sooner (0: at once, without recovery), so a mistaken delete of the "
        "credentials can no longer be undone in time",
        source="terraform-provider-aws docs, `aws_secretsmanager_secret` `recovery_window_in_days`; AWS Secrets Manager "
        'User Guide, "Delete an AWS Secrets Manager secret"',
    ),
)


@dataclass(frozen=True, kw_only=True)
class ReplicationStop:
    """An in-place update of a DMS resource that stops (or fails against) a running replication task."""

    resource_type: str
    what: str
    exempt: frozenset[str]
    """Attributes whose change alone sends no modify call (the provider's `HasChangesExcept`)."""
    source: str

    def cost(self, after: Mapping[str, Any], environment: str) -> str:
        resume = f"`python -m migration_ops.cutover start --env {environment or '<env>'} --resume`"
        if self.resource_type == "aws_dms_replication_task":
            if after.get("start_replication_task") is True:
                return (
                    "stops the running task for the modification, then resumes it (`start_replication_task`); "
                    f"if it does not, {resume}"
                )
            return (
                "stops a running replication task: the provider stops it before modifying it and restarts it only with "
                "`start_replication_task = true`, which this stack leaves false, so replication stays stopped (CDC "
                f"latency grows, the source keeps WAL for the slot) until {resume}"
            )
        if after.get("pause_replication_tasks") is True:
            return (
                "stops a running replication task: the provider stops the running tasks that use this endpoint and "
                f"restarts only those it stopped; check `cutover status`, and if the task is stopped, {resume}"
            )
        return (
            "stops a running replication task: DMS modifies an endpoint only while the tasks that use it are stopped, "
            "and the provider stops them only with `pause_replication_tasks = true`, which this stack does not set, so "
            "the apply fails part-way while the task runs: `cutover pause` first, deploy, then " + resume
        )


PROVIDER_DMS = "terraform-provider-aws internal/service/dms"
REPLICATION_STOPS: dict[str, ReplicationStop] = {
    "aws_dms_replication_task": ReplicationStop(
        resource_type="aws_dms_replication_task",
        what="DMS replication task",
        exempt=frozenset({"tags", "tags_all", "start_replication_task"}),
        source=f"{PROVIDER_DMS}/replication_task.go, `resourceReplicationTaskUpdate` (stops a running task before "
        "ModifyReplicationTask; restarts only with `start_replication_task`)",
    ),
    "aws_dms_endpoint": ReplicationStop(
        resource_type="aws_dms_endpoint",
        what="DMS endpoint",
        exempt=frozenset({"tags", "tags_all"}),
        source=f"{PROVIDER_DMS}/endpoint.go, `resourceEndpointUpdate` (stops the endpoint's running tasks only with "
        "`pause_replication_tasks`, and restarts those); terraform-provider-aws #27661 (ModifyEndpoint refused while "
        "the task runs)",
    ),
}

KINDS: frozenset[str] = frozenset(
    {REPLACE, DESTROY, MOVED_TYPE, STOPS_REPLICATION} | {transition.kind for transition in TRANSITIONS}
)
"""Every kind of change an acknowledgement may name."""
