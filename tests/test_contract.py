"""The shared facts in contract/ against their sources (botocore's service models), and the layer rule.

Layers, lowest first: contract -> config, modules -> stacks, migration_ops, review -> main.py, bench.
A package may import its own layer's package and lower ones, never a higher one or a sibling of its layer.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import botocore.session
import pytest
from botocore.model import ServiceModel, StringShape, StructureShape

from contract.aws_limits import CLOUDWATCH_RETENTION_DAYS, PERFORMANCE_INSIGHTS_RETENTION_DAYS
from contract.dms import MIGRATION_TYPES, SOURCE_PLUGIN, SOURCE_SSL_MODES, TARGET_SSL_MODE
from migration_ops.dms_task import START_TYPES

REPO_ROOT = Path(__file__).resolve().parent.parent
# What each package may import from the project (besides itself).
ALLOWED_IMPORTS: dict[str, frozenset[str]] = {
    "contract": frozenset(),
    "config": frozenset({"contract"}),
    "modules": frozenset({"contract"}),
    "stacks": frozenset({"contract", "config", "modules"}),
    "migration_ops": frozenset({"contract", "config"}),
    "review": frozenset({"contract", "config"}),
    "main": frozenset({"contract", "config", "modules", "stacks"}),
    "bench": frozenset({"contract", "config", "modules", "stacks", "review"}),
}


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


def project_imports(path: Path) -> set[str]:
    """Top-level project packages `path` imports (including imports inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(ALLOWED_IMPORTS)


def layer_files() -> dict[str, list[Path]]:
    files = {package: sorted((REPO_ROOT / package).rglob("*.py")) for package in ALLOWED_IMPORTS if package != "main"}
    files["main"] = [REPO_ROOT / "main.py"]
    return files


@pytest.mark.parametrize("package", sorted(ALLOWED_IMPORTS))
def test_no_package_imports_a_higher_layer(package: str) -> None:
    files = layer_files()[package]
    assert files, f"no files found for {package}"
    wrong = {
        f"{path.relative_to(REPO_ROOT)} imports {sorted(imported - ALLOWED_IMPORTS[package] - {package})}"
        for path in files
        if (imported := project_imports(path)) - ALLOWED_IMPORTS[package] - {package}
    }
    assert not wrong, "\n".join(sorted(wrong))


def test_the_layer_rule_itself_has_no_cycle() -> None:
    """A cycle in ALLOWED_IMPORTS would let two packages import each other; walk it depth-first."""
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(package: str, trail: tuple[str, ...]) -> None:
        assert package not in visiting, f"cycle: {' -> '.join((*trail, package))}"
        if package in done:
            return
        visiting.add(package)
        for lower in ALLOWED_IMPORTS[package]:
            visit(lower, (*trail, package))
        visiting.discard(package)
        done.add(package)

    for package in ALLOWED_IMPORTS:
        visit(package, ())
