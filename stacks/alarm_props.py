"""The config half of the Monitoring props: thresholds and max_connections, field by field from the config model.

Apart from stacks/props.py because it loads no provider class: the alarm table of docs/reference.md (docgen/reference.py)
takes the same path as the deployed alarms. tests/stacks/test_alarm_props.py checks that every threshold of
`[monitoring]` reaches the alarms.
"""

from __future__ import annotations

from config.model import AuroraConfig, MonitoringConfig
from contract.aurora import SERVERLESS_MIN_ACU, default_max_connections, serverless_v2_max_connections
from modules.alarms import AlarmThresholds


def alarm_thresholds(monitoring: MonitoringConfig) -> AlarmThresholds:
    return AlarmThresholds(
        aurora_cpu_percent=monitoring.aurora_cpu_percent,
        aurora_freeable_memory_mib=monitoring.aurora_freeable_memory_mib,
        aurora_replica_lag_ms=monitoring.aurora_replica_lag_ms,
        aurora_connections_percent=monitoring.aurora_connections_percent,
        aurora_free_local_storage_mib=monitoring.aurora_free_local_storage_mib,
        aurora_deadlocks_per_second=monitoring.aurora_deadlocks_per_second,
        aurora_max_used_transaction_ids=monitoring.aurora_max_used_transaction_ids,
        aurora_disk_queue_depth=monitoring.aurora_disk_queue_depth,
        aurora_read_latency_ms=monitoring.aurora_read_latency_ms,
        aurora_write_latency_ms=monitoring.aurora_write_latency_ms,
        aurora_swap_usage_mib=monitoring.aurora_swap_usage_mib,
        aurora_acu_utilization_percent=monitoring.aurora_acu_utilization_percent,
        dms_cdc_latency_seconds=monitoring.dms_cdc_latency_seconds,
        dms_cpu_percent=monitoring.dms_cpu_percent,
        dms_free_storage_gib=monitoring.dms_free_storage_gib,
        dms_freeable_memory_mib=monitoring.dms_freeable_memory_mib,
        dms_swap_usage_mib=monitoring.dms_swap_usage_mib,
        dms_cdc_incoming_changes=monitoring.dms_cdc_incoming_changes,
        dms_cdc_changes_on_disk=monitoring.dms_cdc_changes_on_disk,
        dms_validation_failed_rows=monitoring.dms_validation_failed_rows,
    )


def serverless_max_capacity_acu(aurora: AuroraConfig) -> float | None:
    """The maximum ACU of Serverless v2 instances; None for provisioned instance classes."""
    return aurora.serverless_max_capacity_acu if aurora.serverless else None


def instance_max_connections(aurora: AuroraConfig) -> int:
    """max_connections of one instance, which the connections alarm takes its share of."""
    max_acu = serverless_max_capacity_acu(aurora)
    if max_acu is None:
        return default_max_connections(aurora.instance_class)
    # The config requires both capacities with db.serverless; the minimum only matters for max_connections' cap.
    return serverless_v2_max_connections(max_acu, aurora.serverless_min_capacity_acu or SERVERLESS_MIN_ACU)
