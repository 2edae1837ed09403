"""Alarm thresholds and who gets paged (stacks/alarm_props.py turns them into the alarms' props)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from config.fields import Email, HttpsUrl, StrictModel


class MonitoringConfig(StrictModel):
    """Alarm thresholds and who gets paged."""

    alarm_email_addresses: tuple[Email, ...] = Field(default=(), description="E-mail subscriptions of the alarm topic.")
    alarm_https_endpoints: tuple[HttpsUrl, ...] = Field(default=(), description="HTTPS subscriptions (pager webhooks).")
    period_seconds: Literal[60, 300] = Field(default=60, description="Alarm evaluation period.")
    evaluation_periods: int = Field(default=5, ge=1, le=60, description="Consecutive breaching periods before an alarm fires.")
    aurora_cpu_percent: float = Field(default=80, gt=0, le=100, description="Aurora instance CPU alarm threshold.")
    aurora_freeable_memory_mib: int = Field(default=512, ge=1, description="Alarm when an instance has less memory free.")
    aurora_replica_lag_ms: int = Field(default=2000, ge=1, description="Alarm when a reader lags the writer by more (ms).")
    aurora_connections_percent: float = Field(
        default=80, gt=0, le=100, description="Alarm at this share of the instance class's default max_connections."
    )
    aurora_free_local_storage_mib: int = Field(
        default=5120, ge=1, description="Alarm when an instance has less local storage free."
    )
    aurora_deadlocks_per_second: float = Field(default=0, ge=0, description="Alarm when the deadlock rate exceeds this.")
    aurora_max_used_transaction_ids: int = Field(
        default=1_000_000_000,
        ge=100_000_000,
        le=2_000_000_000,
        description="Alarm when the writer's oldest unvacuumed transaction ID is older than this (MaximumUsedTransactionIDs; "
        "writes stop near 2.1 billion).",
    )
    aurora_disk_queue_depth: float = Field(
        default=100, gt=0, description="Alarm when more I/O requests than this wait for an instance's disk (DiskQueueDepth)."
    )
    aurora_read_latency_ms: float = Field(
        default=50, gt=0, le=10_000, description="Alarm when an instance's average disk read latency exceeds this (ms)."
    )
    aurora_write_latency_ms: float = Field(
        default=50, gt=0, le=10_000, description="Alarm when an instance's average disk write latency exceeds this (ms)."
    )
    aurora_swap_usage_mib: int = Field(
        default=256, ge=1, description="Alarm when an instance swaps more than this (published for some classes only)."
    )
    aurora_acu_utilization_percent: float = Field(
        default=90,
        gt=0,
        le=100,
        description='Serverless v2 (`aurora.instance_class = "db.serverless"`): alarm when an instance uses more than '
        "this share of the maximum ACU (replaces the free-memory alarm).",
    )
    dms_cdc_latency_seconds: int = Field(default=300, ge=1, description="CDCLatencySource / CDCLatencyTarget alarm threshold.")
    dms_cpu_percent: float = Field(default=80, gt=0, le=100, description="Replication instance CPU alarm threshold.")
    dms_free_storage_gib: int = Field(default=10, ge=1, description="Alarm when the replication instance has less storage free.")
    dms_freeable_memory_mib: int = Field(
        default=1024, ge=1, description="Alarm when the replication instance has less memory free."
    )
    dms_swap_usage_mib: int = Field(default=512, ge=1, description="Alarm when the replication instance swaps more than this.")
    dms_cdc_incoming_changes: int = Field(
        default=1_000_000, ge=1, description="Alarm when more change events than this wait to be applied (CDCIncomingChanges)."
    )
    dms_cdc_changes_on_disk: int = Field(
        default=100_000,
        ge=1,
        description="Alarm when more rows than this wait on the replication instance's disk (CDCChangesDiskSource / "
        "CDCChangesDiskTarget).",
    )
    dms_validation_failed_rows: int = Field(
        default=0, ge=0, description="Alarm when more rows than this failed DMS validation (0: any failed row pages)."
    )
