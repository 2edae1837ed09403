"""Narrow, in-process patches that make moto 5.2 answer the way AWS (and so the AWS provider 5.100.0) expects.

Each patch fixes one documented incompatibility between moto's responses and
what the real service returns; nothing else in moto is changed. They apply to
the moto server thread running in the test process only, and `apply()` is
idempotent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.dms.models import DatabaseMigrationServiceBackend, FakeReplicationInstance, FakeReplicationTask
from moto.ec2.models.vpcs import VPCBackend, VPCEndPoint
from moto.rds.models import DBInstance

from tests.integration import moto_contract, moto_standins

_APPLIED_FLAG = "_aurora_migration_patched"

# Fields that DMS returns as epoch seconds (JSON numbers). moto 5.2 returns ISO strings.
_DMS_TIMESTAMP_FIELDS = frozenset(
    {
        "InstanceCreateTime",
        "FreeUntil",
        "ReplicationTaskCreationDate",
        "ReplicationTaskStartDate",
        "FreshStartDate",
        "StartDate",
        "StopDate",
        "FullLoadStartDate",
        "FullLoadFinishDate",
    }
)
_PERFORMANCE_INSIGHTS_KWARGS = (
    "enable_performance_insights",
    "performance_insights_retention_period",
    "performance_insights_kms_key_id",
)


def _epoch(iso: str) -> float:
    moment = datetime.fromisoformat(iso)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()  # moto's naive times are UTC


def _epoch_timestamps(document: Any) -> Any:
    """Replace ISO-8601 strings in DMS timestamp fields by epoch seconds, recursively."""
    if isinstance(document, dict):
        return {
            key: _epoch(value) if key in _DMS_TIMESTAMP_FIELDS and isinstance(value, str) else _epoch_timestamps(value)
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [_epoch_timestamps(item) for item in document]
    return document


def _with_epoch_timestamps(to_dict: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    @functools.wraps(to_dict)
    def wrapper(self: Any) -> dict[str, Any]:
        converted: dict[str, Any] = _epoch_timestamps(to_dict(self))
        return converted

    return wrapper


def _task_becomes_ready(create: Callable[..., FakeReplicationTask]) -> Callable[..., FakeReplicationTask]:
    @functools.wraps(create)
    def wrapper(self: DatabaseMigrationServiceBackend, *args: Any, **kwargs: Any) -> FakeReplicationTask:
        return create(self, *args, **kwargs).ready()

    return wrapper


def _keeps_performance_insights(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapper(self: DBInstance, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        for name in _PERFORMANCE_INSIGHTS_KWARGS:
            setattr(self, name, kwargs.get(name))

    return wrapper


def _performance_insights_enabled(self: DBInstance) -> bool:
    return bool(getattr(self, "enable_performance_insights", False))


def _describes_endpoint_interfaces(create: Callable[..., VPCEndPoint]) -> Callable[..., VPCEndPoint]:
    @functools.wraps(create)
    def wrapper(self: VPCBackend, *args: Any, **kwargs: Any) -> VPCEndPoint:
        endpoint = create(self, *args, **kwargs)
        for interface_id in endpoint.network_interface_ids:
            self.enis[interface_id].description = f"VPC Endpoint Interface {endpoint.id}"  # type: ignore[attr-defined]
        return endpoint

    return wrapper


def apply() -> None:
    """Install every patch once per process."""
    if getattr(FakeReplicationTask, _APPLIED_FLAG, False):
        return

    # 1. Provider incompatibility "expected TStamp to be a JSON Number": the provider's DMS
    #    client (aws-sdk-go-v2, awsJson1_1) parses InstanceCreateTime, ReplicationTaskCreationDate,
    #    ... as epoch numbers, moto 5.2 serializes datetime.isoformat() strings.
    FakeReplicationTask.to_dict = _with_epoch_timestamps(FakeReplicationTask.to_dict)  # type: ignore[method-assign,assignment]
    FakeReplicationInstance.to_dict = _with_epoch_timestamps(FakeReplicationInstance.to_dict)  # type: ignore[method-assign,assignment]

    # 2. Provider incompatibility "timeout while waiting for state to become 'ready'": after
    #    CreateReplicationTask the provider waits for status `ready` (what DMS reports once the
    #    task is created); moto 5.2 leaves every new task in `creating` forever.
    DatabaseMigrationServiceBackend.create_replication_task = _task_becomes_ready(  # type: ignore[method-assign]
        DatabaseMigrationServiceBackend.create_replication_task
    )

    # 3. Emulator fidelity for verify (no provider error, but a silent gap): moto 5.2 drops
    #    EnablePerformanceInsights / PerformanceInsightsRetentionPeriod / PerformanceInsightsKMSKeyId
    #    from CreateDBInstance, so DescribeDBInstances never reports Performance Insights and the
    #    provider reads it back as off. Keep the values and report them under AWS's field names
    #    (ModifyDBInstance already stores the same attribute names, so modifications show too).
    DBInstance.__init__ = _keeps_performance_insights(DBInstance.__init__)  # type: ignore[method-assign]
    DBInstance.performance_insights_enabled = property(_performance_insights_enabled)  # type: ignore[attr-defined]

    # 3b. Emulator fidelity for the stack's plan-time check (modules/secrets_endpoint.py): EC2 describes the network
    #    interfaces of an interface endpoint as "VPC Endpoint Interface <vpce-id>"; moto 5.2 leaves them blank.
    VPCBackend.create_vpc_endpoint = _describes_endpoint_interfaces(VPCBackend.create_vpc_endpoint)  # type: ignore[method-assign]

    # 4. Not a patch: moto has no ImportCertificate / *EventSubscription* for DMS at all
    #    (aws_dms_certificate, aws_dms_event_subscription); see moto_standins.
    moto_standins.install()

    # 5. The opposite of a patch: moto refuses what AWS's API models refuse (moto_contract).
    moto_contract.install()

    setattr(FakeReplicationTask, _APPLIED_FLAG, True)
