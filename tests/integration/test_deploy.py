"""Deploy into a local AWS (moto), verify with `python -m migration_ops.verify`, break things, destroy.

Two environments, applied side by side (the provider's fixed 30 s waits dominate):

- dev, as config/dev.toml says (3 instances in 3 AZs, DMS service roles created),
  deployed by the real CLI: `cdktf deploy` / `cdktf destroy` of main.py;
- staging-shaped, with one reader, `service_roles = "existing"`, application
  security groups and ssl_mode `require` (no CA certificate), synthesized
  in-process (build_app) and applied with terraform.

Each lives in its own emulated account (the one its config allows). Only ids
are substituted, plus what moto cannot take (printed; see docs/integration.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.conftest import record
from tests.integration.harness import (
    Deployment,
    LocalAws,
    SeededEnvironment,
    Toolchain,
    ToolMissingError,
    assert_breakages_detected,
    assert_verify_passes,
    inventory,
    prepare_cdktf_cli,
    prepare_terraform,
    read_config,
    seed_environment,
)

pytestmark = pytest.mark.integration

Prepare = Callable[[LocalAws, Toolchain, SeededEnvironment, Path], Deployment]


def _dev(aws: LocalAws) -> SeededEnvironment:
    return seed_environment(aws, read_config("dev"))


def _staging(aws: LocalAws) -> SeededEnvironment:
    base = read_config("staging")
    base["aurora"]["reader_count"] = 1
    base["source"]["ssl_mode"] = "require"  # the path without a CA certificate (dev covers verify-full)
    del base["source"]["ca_certificate_file"]
    return seed_environment(aws, base, existing_service_roles=True)


ENVIRONMENTS: dict[str, tuple[Callable[[LocalAws], SeededEnvironment], Prepare]] = {
    "dev": (_dev, prepare_cdktf_cli),
    "staging": (_staging, prepare_terraform),
}


@dataclass(kw_only=True)
class Deployments:
    ready: dict[str, Deployment] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    attempted: list[Deployment] = field(default_factory=list)

    def get(self, name: str) -> Deployment:
        if name in self.unavailable:
            pytest.skip(f"{name}: {self.unavailable[name]}")
        if name in self.failed:
            pytest.fail(f"{name} did not deploy:\n{self.failed[name]}", pytrace=False)
        return self.ready[name]


@pytest.fixture(scope="module")
def deployments(local_aws: LocalAws, toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployments]:
    local_aws.reset()
    found = Deployments()
    for name, (seed, prepare) in ENVIRONMENTS.items():
        try:
            found.attempted.append(prepare(local_aws, toolchain, seed(local_aws), tmp_path_factory.mktemp(name)))
        except ToolMissingError as missing:
            found.unavailable[name] = str(missing)
    names = [name for name in ENVIRONMENTS if name not in found.unavailable]
    with ThreadPoolExecutor(max_workers=max(1, len(found.attempted))) as pool:
        futures = dict(zip(names, [pool.submit(deployment.apply) for deployment in found.attempted], strict=True))
    for name, future in futures.items():
        error = future.exception()
        if error is None:
            found.ready[name] = future.result()
        else:
            found.failed[name] = str(error)
    yield found
    _destroy_all([d for d in found.attempted if not d.destroyed])
    for deployment in found.attempted:
        for phase, seconds in deployment.timings.items():
            record(phase, seconds)


def _destroy_all(deployments: list[Deployment]) -> None:
    with ThreadPoolExecutor(max_workers=max(1, len(deployments))) as pool:
        list(pool.map(Deployment.destroy, deployments))


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_verify_passes(name: str, deployments: Deployments, local_aws: LocalAws) -> None:
    deployment = deployments.get(name)
    ran = assert_verify_passes(local_aws, deployment)
    print(
        f"\n{deployment.label}:\n{ran.output}changed for moto:",
        *deployment.seeded.notes,
        *deployment.removed_for_moto,
        sep="\n  ",
    )


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_verify_names_what_is_broken(name: str, deployments: Deployments, local_aws: LocalAws) -> None:
    deployment = deployments.get(name)
    detected = assert_breakages_detected(local_aws, deployment)
    print(f"\n{deployment.label} detected:", *detected, sep="\n  ")


def test_destroy_leaves_nothing(deployments: Deployments, local_aws: LocalAws) -> None:
    """Destroys every deployment (side by side); afterwards only seeded things and pending deletions remain."""
    attempted = [deployment for deployment in deployments.attempted if not deployment.destroyed]
    if not attempted:
        pytest.skip("nothing was deployed")
    with ThreadPoolExecutor(max_workers=len(attempted)) as pool:
        destroyed = list(zip(attempted, pool.map(Deployment.destroy, attempted), strict=True))
    problems = []
    for deployment, ran in destroyed:
        if ran.returncode != 0:
            problems.append(f"{deployment.label}: destroy exited {ran.returncode}:\n{ran.tail()}")
            continue
        found = inventory(local_aws, deployment.seeded)
        if found.leftovers:
            problems.append(f"{deployment.label}: left after destroy: {found.leftovers}")
        print(
            f"\n{deployment.label}: scheduled for deletion (KMS keys wait 7-30 days):", *found.scheduled_for_deletion, sep="\n  "
        )
    assert not problems, "\n".join(problems)
