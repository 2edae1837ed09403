"""Session fixtures: every environment is loaded and synthesized once per test session."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from release.source import node_first

# The Pipfile's Node.js 22 first on PATH before jsii starts (`import cdktf` starts it), in this process and every
# process a test starts, also when pytest runs without make (tests/test_node.py checks it).
os.environ["PATH"] = node_first(os.environ.get("PATH", os.defpath))
os.environ.setdefault("CHECKPOINT_DISABLE", "1")

from cdktf import Testing

from config import EnvironmentConfig, environment_files, load_environments
from provider_loading.fast_import import enable_fast_provider_import
from tests.scheduling import WaitingFirstScheduling, waiting_first

# The fast provider load, as main.py does it. Here, not in pytest_configure: pytest imports the conftest.py files
# below this one (tests/review/ imports modules.aws through tests.helpers) before it calls pytest_configure.
enable_fast_provider_import()

Testing.__test__ = False  # not a test class

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(trylast=True)  # after tests/review/conftest.py moved its gate tests to the end
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    waiting_first(items)


@pytest.hookimpl(tryfirst=True)  # before xdist's own
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> WaitingFirstScheduling | None:
    return WaitingFirstScheduling(config, log) if config.getvalue("dist") == "loadfile" else None


@pytest.fixture(scope="session")
def environments() -> dict[str, EnvironmentConfig]:
    """Environment configs keyed by suffix (dev, staging, prod)."""
    return {config.environment_suffix: config for config in load_environments(environment_files())}


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory, environments: dict[str, EnvironmentConfig]) -> Path:
    """All environments synthesized once, as `cdktf synth` would write them."""
    from stacks.app import build_app

    outdir = tmp_path_factory.mktemp("cdktf.out")
    app = build_app(list(environments.values()), outdir=str(outdir))
    app.synth()
    return outdir


@pytest.fixture(scope="session")
def synthesized(synth_dir: Path, environments: dict[str, EnvironmentConfig]) -> dict[str, dict[str, Any]]:
    """Parsed cdk.tf.json per environment suffix."""
    return {
        suffix: json.loads((synth_dir / "stacks" / config.stack_name / "cdk.tf.json").read_text())
        for suffix, config in environments.items()
    }
