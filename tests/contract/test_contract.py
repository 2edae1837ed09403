"""The shared facts in contract/ against their sources (botocore's service models). The layer rule: test_layers.py."""

from __future__ import annotations

import re
from functools import cache

import botocore.session
from botocore.model import ServiceModel, StringShape, StructureShape

from contract.aws_limits import CLOUDWATCH_RETENTION_DAYS, PERFORMANCE_INSIGHTS_RETENTION_DAYS
from contract.dms import MIGRATION_TYPES, SOURCE_PLUGIN, SOURCE_SSL_MODES, TARGET_SSL_MODE
from migration_ops.cutover.dms_task import START_TYPES


@cache
def service(name: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


def member_documentation(service_name: str, operation: str, member: str) -> str:
    shape = service(service_name).operation_model(operation).input_shape
    assert isinstance(shape, StructureShape)
    return str(shape.members[member].documentation)


def enum(service_name: str, shape_name: str) -> list[str]:
    shape = service(service_name).shape_for(shape_name)
    assert isinstance(shape, StringShape)
    return list(shape.enum)


def test_cloudwatch_retention_values_are_the_documented_ones() -> None:
    documentation = member_documentation("logs", "PutRetentionPolicy", "retentionInDays")
    listed = re.search(r"Possible values are: ([\d, and]+)\.", documentation)
    assert listed, documentation
    assert tuple(int(value) for value in re.findall(r"\d+", listed.group(1))) == CLOUDWATCH_RETENTION_DAYS


def test_performance_insights_retention_values_are_the_documented_ones() -> None:
    documentation = member_documentation("rds", "CreateDBInstance", "PerformanceInsightsRetentionPeriod")
    assert "<code>7</code>" in documentation and "<code>731</code>" in documentation
    assert "<i>month</i> * 31, where <i>month</i> is a number of months from 1-23" in documentation
    assert (7, *(31 * month for month in range(1, 24)), 731) == PERFORMANCE_INSIGHTS_RETENTION_DAYS


def test_dms_values_are_members_of_the_api_enums() -> None:
    assert tuple(enum("dms", "MigrationTypeValue")) == MIGRATION_TYPES
    ssl_modes = set(enum("dms", "DmsSslModeValue"))
    assert set(SOURCE_SSL_MODES) == ssl_modes - {"none"} and TARGET_SSL_MODE in ssl_modes
    assert SOURCE_PLUGIN in enum("dms", "PluginNameValue")
    assert set(START_TYPES) == set(enum("dms", "StartReplicationTaskTypeValue"))
