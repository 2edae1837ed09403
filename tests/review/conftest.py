"""Gate fixtures: the slow scanners run once per session, in the background, on the session's synth.

`terraform validate` (every stack plus a broken probe) and checkov (one process
for every stack plus an unencrypted probe) start together, in the background,
when the first test of this directory runs, and only if a selected test
carries the `terraform` or `checkov` marker. The tests that wait for them run
at the end of the session, so the scanners work while every other test runs;
per-environment tests then assert on the cached results.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

from config import EnvironmentConfig, environment_files, load_environment, load_environments
from config.loader import CONFIG_DIR
from contract.layout import STACK_FILE, STACKS_DIR
from review.checkov_scan import CheckovError, Finding, checkov_missing, scan
from review.exception_files import CheckovWaiver, load_checkov_waivers
from review.terraform_validate import Validation, locate, validate_many
from tests.helpers import Document

T = TypeVar("T")
GATE_TIMINGS: dict[str, float] = {}
PROBE_ENVIRONMENT = "dev"
CLUSTER_TYPE = "aws_rds_cluster"
SCANNER_MARKERS = ("terraform", "checkov")
# Features no example environment can turn on (Serverless v2 excludes reader auto scaling, which staging and prod
# use; dev is the emulator's base): gated as variants of an environment, judged with that environment's waivers.
FEATURE_VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "dev-serverless": (
        "dev",
        {"aurora": {"instance_class": "db.serverless", "serverless_min_capacity_acu": 0.5, "serverless_max_capacity_acu": 8}},
    ),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`suffix` is every environment in config/, so a new environment file is gated without editing tests."""
    if "suffix" in metafunc.fixturenames:
        suffixes = [config.environment_suffix for config in load_environments(environment_files())]
        metafunc.parametrize("suffix", suffixes)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the gate tests that wait for terraform/checkov last, so their background jobs overlap everything else."""
    gates_dir = Path(__file__).parent

    def waits(item: pytest.Item) -> bool:
        return item.path.is_relative_to(gates_dir) and any(item.get_closest_marker(marker) for marker in SCANNER_MARKERS)

    items[:] = [item for item in items if not waits(item)] + [item for item in items if waits(item)]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if GATE_TIMINGS:
        terminalreporter.section("gate timings (wall clock; terraform and checkov overlap)")
        for name, seconds in GATE_TIMINGS.items():
            terminalreporter.write_line(f"{name:<48} {seconds:6.1f} s")


def timed(name: str, function: Callable[[], T]) -> T:
    started = time.perf_counter()
    try:
        return function()
    finally:
        GATE_TIMINGS[name] = time.perf_counter() - started


@pytest.fixture(scope="session")
def stack_files(synth_dir: Path, environments: dict[str, EnvironmentConfig]) -> dict[str, Path]:
    """The session's synthesized cdk.tf.json per environment suffix."""
    return {suffix: synth_dir / STACKS_DIR / config.stack_name / STACK_FILE for suffix, config in environments.items()}


@pytest.fixture(scope="session")
def variant_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """FEATURE_VARIANTS synthesized once (in-process, like the session's environments)."""
    from stacks.app import build_app

    files: dict[str, Path] = {}
    for name, (base, overrides) in FEATURE_VARIANTS.items():
        config = load_environment(CONFIG_DIR / f"{base}.toml", overrides=overrides)
        outdir = tmp_path_factory.mktemp(name)
        build_app([config], outdir=str(outdir)).synth()
        files[name] = outdir / STACKS_DIR / config.stack_name / STACK_FILE
    return files


@pytest.fixture(scope="session")
def waivers() -> tuple[CheckovWaiver, ...]:
    return load_checkov_waivers()


def only_address(document: Document, resource_type: str) -> str:
    names = list(document.get("resource", {}).get(resource_type, {}))
    assert len(names) == 1, f"expected one {resource_type}, found {names}"
    return f"{resource_type}.{names[0]}"


def mutated(document: Document, address: str, change: Callable[[dict[str, Any]], None]) -> Document:
    """A deep copy of `document` with `change` applied to the resource at `address`."""
    probe = copy.deepcopy(document)
    resource_type, name = address.split(".", 1)
    change(probe["resource"][resource_type][name])
    return probe


def _add_unknown_argument(body: dict[str, Any]) -> None:
    body["no_such_argument"] = 1


def _unencrypt(body: dict[str, Any]) -> None:
    body["storage_encrypted"] = False
    body.pop("kms_key_id", None)


@dataclass(frozen=True)
class TerraformRuns:
    stacks: dict[str, Validation]
    probe: Validation
    probe_address: str
    """The cluster the probe gave an unknown argument (`no_such_argument`)."""


@dataclass(frozen=True)
class CheckovRuns:
    findings: dict[str, list[Finding]]
    passed_counts: dict[str, int]
    probe: list[Finding]
    probe_address: str
    """The cluster the probe left unencrypted."""


@dataclass(frozen=True)
class GateJobs:
    terraform: Future[TerraformRuns] | str
    checkov: Future[CheckovRuns] | str
    """A future, or why the job does not run."""


def _selected_markers(session: pytest.Session) -> set[str]:
    return {marker for item in session.items for marker in SCANNER_MARKERS if item.get_closest_marker(marker)}


@pytest.fixture(scope="session", autouse=True)
def _start_scanners_early(request: pytest.FixtureRequest) -> None:
    """The first gate test starts terraform and checkov (if selected), so they run while other tests do."""
    if _selected_markers(request.session):
        request.getfixturevalue("gate_jobs")


@pytest.fixture(scope="session")
def gate_jobs(
    request: pytest.FixtureRequest,
    stack_files: dict[str, Path],
    variant_files: dict[str, Path],
    synthesized: dict[str, Document],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GateJobs]:
    selected = _selected_markers(request.session)
    probe_source = PROBE_ENVIRONMENT if PROBE_ENVIRONMENT in synthesized else next(iter(synthesized))
    cluster = only_address(synthesized[probe_source], CLUSTER_TYPE)
    probes = tmp_path_factory.mktemp("gate-probes")

    def write_probe(name: str, change: Callable[[dict[str, Any]], None]) -> Path:
        path = probes / name / STACK_FILE
        path.parent.mkdir()
        path.write_text(json.dumps(mutated(synthesized[probe_source], cluster, change), indent=2), encoding="utf-8")
        return path

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gates") as pool:
        terraform: Future[TerraformRuns] | str = "no selected test is marked `terraform`"
        if "terraform" in selected:
            toolchain = locate()
            if isinstance(toolchain, str):
                terraform = f"terraform validate needs a toolchain: {toolchain}"
            else:
                files = {**stack_files, **variant_files, "probe": write_probe("terraform-probe", _add_unknown_argument)}
                workroot = tmp_path_factory.mktemp("terraform-validate")

                def run_terraform() -> TerraformRuns:
                    label = f"terraform init+validate ({len(stack_files) + len(variant_files)} stacks + probe, parallel)"
                    results = timed(label, lambda: validate_many(toolchain, files, workroot))
                    probe = results.pop("probe")
                    return TerraformRuns(stacks=results, probe=probe, probe_address=cluster)

                terraform = pool.submit(run_terraform)

        checkov: Future[CheckovRuns] | str = "no selected test is marked `checkov`"
        if "checkov" in selected:
            missing = checkov_missing()
            if missing:
                checkov = missing
            else:
                files = {**stack_files, **variant_files, "probe": write_probe("checkov-probe", _unencrypt)}

                def run_checkov() -> CheckovRuns:
                    label = f"checkov ({len(stack_files) + len(variant_files)} stacks + probe, one process)"
                    result = timed(label, lambda: scan(files))
                    # The probe is a broken copy of `probe_source`: judge it as that environment.
                    probe = [replace(finding, environment=probe_source) for finding in result.findings.pop("probe")]
                    return CheckovRuns(
                        findings=result.findings, passed_counts=result.passed_counts, probe=probe, probe_address=cluster
                    )

                checkov = pool.submit(run_checkov)
        yield GateJobs(terraform=terraform, checkov=checkov)


@pytest.fixture(scope="session")
def terraform_runs(gate_jobs: GateJobs) -> TerraformRuns:
    if isinstance(gate_jobs.terraform, str):
        pytest.skip(gate_jobs.terraform)
    return gate_jobs.terraform.result()


@pytest.fixture(scope="session")
def checkov_runs(gate_jobs: GateJobs) -> CheckovRuns:
    if isinstance(gate_jobs.checkov, str):
        pytest.skip(gate_jobs.checkov)
    try:
        return gate_jobs.checkov.result()
    except CheckovError as error:
        pytest.fail(f"checkov did not produce a usable result: {error}", pytrace=False)


@pytest.fixture(scope="session")
def snapshot_update(request: pytest.FixtureRequest) -> bool:
    """`--snapshot-update` (registered by syrupy, a dev dependency) or SNAPSHOT_UPDATE=1 rewrites the snapshots."""
    return bool(request.config.getoption("--snapshot-update", default=False)) or os.environ.get("SNAPSHOT_UPDATE") == "1"
