"""The config half of the Monitoring props: thresholds and max_connections, field by field from the config model.

Apart from stacks/props.py because it loads no provider class: the README's alarm table (docgen/reference.py)
takes the same path as the deployed alarms. tests/stacks/test_alarm_props.py checks that every threshold of
`[monitoring]` reaches the alarms.
"""

from __future__ import annotations

from dataclasses import fields

from config.model import AuroraConfig, MonitoringConfig
from contract.aurora import SERVERLESS_MIN_ACU, default_max_connections, serverless_v2_max_connections
from modules.alarms import AlarmThresholds


def alarm_thresholds(monitoring: MonitoringConfig) -> AlarmThresholds:
    """Every threshold is the `monitoring` value of the same name."""
    return AlarmThresholds(**{threshold.name: getattr(monitoring, threshold.name) for threshold in fields(AlarmThresholds)})


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
