"""Every alarm threshold of `[monitoring]` reaches the alarms: one typed path from the config model to the specs."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import cast

import pytest

from config import EnvironmentConfig
from config.model import AuroraConfig, MonitoringConfig
from contract.naming import Naming
from modules.alarms import AlarmSpec, AlarmThresholds, alarm_specs
from modules.aurora import AuroraCluster
from modules.dms import DmsReplication
from stacks.props import StackContext, monitoring_props

# `[monitoring]` fields that are not thresholds: who is paged and how long a period is.
NOT_THRESHOLDS = frozenset({"alarm_email_addresses", "alarm_https_endpoints", "period_seconds", "evaluation_periods"})
THRESHOLDS = sorted(set(MonitoringConfig.model_fields) - NOT_THRESHOLDS)
# The ACU alarm exists on Serverless v2 only, the free-memory alarm on provisioned classes only: both are checked.
AURORA_VARIANTS = {
    "provisioned": AuroraConfig(),
    "serverless": AuroraConfig(instance_class="db.serverless", serverless_min_capacity_acu=0.5, serverless_max_capacity_acu=16),
}
CLUSTER = SimpleNamespace(cluster_identifier="cluster", instance_identifiers=["db-1", "db-2", "db-3"])
REPLICATION = SimpleNamespace(
    replication_instance_identifier="replication", task_identifier="task", task_resource_id="TASK", task_arn="arn:task"
)


def specs(config: EnvironmentConfig, *, aurora: AuroraConfig, monitoring: MonitoringConfig) -> list[AlarmSpec]:
    """The alarms of `config` with these sections, through the stack's own adapter (stacks/props.py)."""
    changed = config.model_copy(update={"aurora": aurora, "monitoring": monitoring})
    ctx = StackContext(config=changed, naming=Naming(prefix="p", suffix="s"), account_id="123456789012", partition="aws")
    props = monitoring_props(ctx, cluster=cast(AuroraCluster, CLUSTER), replication=cast(DmsReplication, REPLICATION))
    assert props.thresholds == dataclasses.replace(props.thresholds, **{name: getattr(monitoring, name) for name in THRESHOLDS})
    return alarm_specs(props)


def distinctive(name: str) -> float:
    """A valid value for `name` unlike its default (about half of it, plus one)."""
    default = MonitoringConfig.model_fields[name].default
    assert isinstance(default, int | float)
    return default // 2 + 1


def test_the_config_and_the_alarms_declare_the_same_thresholds() -> None:
    assert sorted(field.name for field in dataclasses.fields(AlarmThresholds)) == THRESHOLDS, (
        "a `[monitoring]` threshold without an alarm threshold, or the other way round: add it to both "
        "(and to stacks/alarm_props.py), or to NOT_THRESHOLDS here"
    )


@pytest.mark.parametrize("name", THRESHOLDS)
def test_each_config_threshold_changes_the_alarms(name: str, environments: dict[str, EnvironmentConfig]) -> None:
    config = environments["dev"]
    monitoring = MonitoringConfig.model_validate({name: distinctive(name)})
    changed = [
        variant
        for variant, aurora in AURORA_VARIANTS.items()
        if specs(config, aurora=aurora, monitoring=monitoring) != specs(config, aurora=aurora, monitoring=MonitoringConfig())
    ]
    assert changed, f"monitoring.{name} = {distinctive(name)} changes no alarm"
