"""Integration fixtures: one patched moto server per session, the terraform toolchain, phase timings.

Each deployment fixture (in the test modules) resets moto, seeds what its config
refers to, deploys, and destroys at the end of its module if a test did not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import LocalAws, Toolchain, ToolMissingError, locate_toolchain

TIMINGS: list[tuple[str, float]] = []


def record(phase: str, seconds: float) -> None:
    TIMINGS.append((phase, seconds))


@pytest.fixture(scope="session")
def toolchain(tmp_path_factory: pytest.TempPathFactory) -> Toolchain:
    try:
        return locate_toolchain(tmp_path_factory.mktemp("terraform-cli"))
    except ToolMissingError as missing:
        pytest.skip(f"integration: {missing}")


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    with pytest.MonkeyPatch.context() as patch:
        # The stack attaches AWS-managed policies (enhanced monitoring, DMS service roles);
        # moto knows them only with this switch, read when its IAM backend is created.
        patch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        aws = LocalAws()
        try:
            yield aws
        finally:
            aws.stop()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("integration timings")
        for phase, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:7.1f}s  {phase}")
        terminalreporter.write_line("(deployments apply and destroy side by side: wall time is less than the sum)")
