"""What the emulator deployment modules share: the environments, one module's deployments applied side by side,
the resource and plan helpers, and the destroy check.

Each deployment module (test_deploy*.py) deploys its own environments into the moto server of its worker (a module
runs on one worker, `--dist loadfile`), so the modules run side by side on separate workers: most of their time is
the AWS provider's fixed waits (tests/conftest.py starts them first, each on a worker of its own).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    read_config,
    run_ok,
    seed_environment,
)

Prepare = Callable[[LocalAws, Toolchain, SeededEnvironment, Path], Deployment]
Environments = Mapping[str, tuple[Callable[[LocalAws], SeededEnvironment], Prepare]]


def seed_dev(aws: LocalAws) -> SeededEnvironment:
    return seed_environment(aws, read_config("dev"))


def seed_staging(aws: LocalAws) -> SeededEnvironment:
    base = read_config("staging")
    base["aurora"]["reader_count"] = 1
    base["source"]["ssl_mode"] = "require"  # the path without a CA certificate (dev covers verify-full)
    del base["source"]["ca_certificate_file"]
    base["aurora"]["secret_recovery_window_days"] = 0  # the password test replaces a secret under the same name
    return seed_environment(aws, base, existing_service_roles=True)


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


def deploy_side_by_side(
    local_aws: LocalAws,
    toolchain: Toolchain,
    tmp_path_factory: pytest.TempPathFactory,
    environments: Environments,
    *,
    destroy_at_end: bool = True,
) -> Iterator[Deployments]:
    """The body of a module's `deployments` fixture: reset moto, prepare and apply every environment side by side,
    yield them, and destroy what a test did not (unless `destroy_at_end` is false: a module without a destroy test
    leaves its deployment to the next reset, which forgets it anyway, instead of waiting on the provider's deletes).
    """
    local_aws.reset()
    found = Deployments()
    for name, (seed, prepare) in environments.items():
        try:
            found.attempted.append(prepare(local_aws, toolchain, seed(local_aws), tmp_path_factory.mktemp(name)))
        except ToolMissingError as missing:
            found.unavailable[name] = str(missing)
    names = [name for name in environments if name not in found.unavailable]
    with ThreadPoolExecutor(max_workers=max(1, len(found.attempted))) as pool:
        futures = dict(zip(names, [pool.submit(deployment.apply) for deployment in found.attempted], strict=True))
    for name, future in futures.items():
        error = future.exception()
        if error is None:
            found.ready[name] = future.result()
        else:
            found.failed[name] = str(error)
    yield found
    if destroy_at_end:
        _destroy_all([d for d in found.attempted if not d.destroyed])
    for deployment in found.attempted:
        for phase, seconds in deployment.timings.items():
            record(phase, seconds)


def _destroy_all(deployments: list[Deployment]) -> None:
    with ThreadPoolExecutor(max_workers=max(1, len(deployments))) as pool:
        list(pool.map(Deployment.destroy, deployments))


def resource_key(deployment: Deployment, resource_type: str, name_part: str = "") -> str:
    found = [
        key
        for key, value in deployment.document["resource"][resource_type].items()
        if name_part in str(value.get("name", value.get("identifier", "")))
    ]
    assert len(found) == 1, f"{resource_type} *{name_part}*: {found}"
    return f"{resource_type}.{found[0]}"


def planned_changes(deployment: Deployment, *options: str) -> dict[str, dict[str, Any]]:
    """`terraform plan` (saved as drift.tfplan), as `{address: resource change}` from `terraform show -json`."""
    run_ok(
        (deployment.terraform, "plan", "-input=false", "-no-color", "-out=drift.tfplan", *options),
        cwd=deployment.stack_dir,
        env=deployment.env,
        timeout=600,
    )
    shown = subprocess.run(
        [deployment.terraform, "show", "-json", "drift.tfplan"],
        cwd=deployment.stack_dir,
        env=deployment.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return {change["address"]: change["change"] for change in json.loads(shown.stdout).get("resource_changes", [])}


def assert_destroy_leaves_nothing(deployments: Deployments, local_aws: LocalAws) -> None:
    """Destroys every deployment (side by side); afterwards only seeded things and pending deletions remain."""
    attempted = [deployment for deployment in deployments.attempted if not deployment.destroyed]
    if not attempted and deployments.unavailable:
        pytest.skip("nothing was deployed: " + "; ".join(f"{name}: {why}" for name, why in deployments.unavailable.items()))
    assert attempted, "every deployment of this module was destroyed before its destroy test"
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


def assert_verify_passes_and_show(deployment: Deployment, local_aws: LocalAws) -> None:
    ran = assert_verify_passes(local_aws, deployment)
    print(
        f"\n{deployment.label}:\n{ran.output}changed for moto:",
        *deployment.seeded.notes,
        *deployment.removed_for_moto,
        sep="\n  ",
    )


def assert_breakages_detected_and_show(deployment: Deployment, local_aws: LocalAws) -> None:
    detected = assert_breakages_detected(local_aws, deployment)
    print(f"\n{deployment.label} detected:", *detected, sep="\n  ")
