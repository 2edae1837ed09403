"""The dated tables and documented rules the config refuses with, pinned to botocore's models and data (#26 box 10)."""

from __future__ import annotations

from contract.aurora import AURORA_RELEASED_MINORS, SERVERLESS_V2_FIRST_MINOR, SUPPORTED_AURORA_MAJORS
from contract.aws_limits import (
    MIN_WINDOW_MINUTES,
    TAG_KEY_MAX_LENGTH,
    TAG_PUNCTUATION,
    TAG_RESERVED_PREFIXES,
    TAG_VALUE_MAX_LENGTH,
)
from contract.aws_regions import REGIONS_BY_PARTITION, installed_botocore_regions
from contract.dms_instance_classes import DMS_INSTANCE_CLASSES
from tests.contract.test_contract import member_documentation, service


def test_the_region_table_is_botocores_endpoints_json() -> None:
    assert {name: tuple(sorted(regions)) for name, regions in REGIONS_BY_PARTITION.items()} == installed_botocore_regions()


def test_the_tag_rule_is_the_one_botocore_documents_for_rds() -> None:
    tag = service("rds").shape_for("Tag")
    key, value = str(tag.members["Key"].documentation), str(tag.members["Value"].documentation)  # type: ignore[attr-defined]
    assert f"from 1 to {TAG_KEY_MAX_LENGTH} Unicode characters" in key
    assert f"from 1 to {TAG_VALUE_MAX_LENGTH} Unicode characters" in value
    for text in (key, value):
        assert all(f"<code>{prefix}</code>" in text or prefix in text for prefix in TAG_RESERVED_PREFIXES), text
        assert "\\\\p{L}\\\\p{Z}\\\\p{N}" in text and all(f"'{c}'" in text for c in TAG_PUNCTUATION), text


def test_the_window_rules_are_the_ones_botocore_documents() -> None:
    backup = member_documentation("rds", "CreateDBCluster", "PreferredBackupWindow")
    maintenance = member_documentation("rds", "CreateDBCluster", "PreferredMaintenanceWindow")
    dms = member_documentation("dms", "CreateReplicationInstance", "PreferredMaintenanceWindow")
    assert f"Must be at least {MIN_WINDOW_MINUTES} minutes" in backup
    assert "Must not conflict with the preferred maintenance window" in backup
    assert f"Must be at least {MIN_WINDOW_MINUTES} minutes" in maintenance
    assert f"Minimum {MIN_WINDOW_MINUTES}-minute window" in dms


def test_the_dms_instance_class_has_no_enum_in_botocore_so_the_list_is_ours() -> None:
    shape = service("dms").operation_model("CreateReplicationInstance").input_shape
    assert shape is not None
    member = shape.members["ReplicationInstanceClass"]
    assert not getattr(member, "enum", None)
    assert "dms.c5.2xlarge" in DMS_INSTANCE_CLASSES and len(set(DMS_INSTANCE_CLASSES)) == len(DMS_INSTANCE_CLASSES)


def test_released_aurora_minors_cover_every_supported_major_and_the_serverless_floor() -> None:
    assert set(AURORA_RELEASED_MINORS) == set(SUPPORTED_AURORA_MAJORS)
    for major, minors in AURORA_RELEASED_MINORS.items():
        assert list(minors) == sorted(set(minors)) and SERVERLESS_V2_FIRST_MINOR[major] in minors
