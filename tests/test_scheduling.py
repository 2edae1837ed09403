"""tests/scheduling.py: the waiting modules exist, start first and keep their tests together."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import REPO_ROOT
from tests.scheduling import WAITING_MODULES, module_of, waiting_first


@dataclass(frozen=True, kw_only=True)
class FakeItem:
    nodeid: str


def test_every_waiting_module_is_an_integration_test_file() -> None:
    for module in WAITING_MODULES:
        path = REPO_ROOT / module
        assert path.is_file(), f"{module} does not exist: remove it from WAITING_MODULES"
        assert "pytest.mark.integration" in path.read_text(), f"{module} is not marked integration"


def test_waiting_modules_come_first_in_their_order_and_the_rest_keeps_its_order() -> None:
    rest = ["tests/a/test_one.py::test_x", "tests/a/test_one.py::test_y", "tests/b/test_two.py::test_z"]
    waiting = [f"{module}::test_{index}" for module in reversed(WAITING_MODULES) for index in range(2)]
    items = [FakeItem(nodeid=nodeid) for nodeid in [rest[0], *waiting[:3], rest[1], *waiting[3:], rest[2]]]
    waiting_first(items)  # type: ignore[arg-type]
    modules = [module_of(item.nodeid) for item in items]
    assert modules[: 2 * len(WAITING_MODULES)] == [module for module in WAITING_MODULES for _ in range(2)]
    assert [item.nodeid for item in items[2 * len(WAITING_MODULES) :]] == rest


@pytest.mark.parametrize("nodeid", ["tests/x/test_y.py::test_z[a::b]", "tests/x/test_y.py"])
def test_module_of(nodeid: str) -> None:
    assert module_of(nodeid) == "tests/x/test_y.py"
