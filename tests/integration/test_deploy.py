"""Deploy dev into a local AWS (moto) with the real CLI, verify it, break things, plan risky changes, destroy.

dev, as config/dev.toml says (3 instances in 3 AZs, DMS service roles created), is deployed by `cdktf deploy` /
`cdktf destroy` of main.py, in the emulated account its config allows. Only ids are substituted, plus what moto
cannot take (printed; see docs/integration.md). The staging-shaped deployments are in test_deploy_staging.py and
test_deploy_passwords.py: each module deploys on its own worker, side by side (the provider's fixed 30 s waits
dominate).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from contract.naming import AURORA_CPU_ALARM
from tests.integration.conftest import record
from tests.integration.deployments import (
    Deployments,
    Environments,
    assert_breakages_detected_and_show,
    assert_destroy_leaves_nothing,
    assert_verify_passes_and_show,
    deploy_side_by_side,
    resource_key,
    seed_dev,
)
from tests.integration.harness import (
    REPO_ROOT,
    LocalAws,
    Ran,
    Toolchain,
    prepare_cdktf_cli,
    run,
    stack_copy_with,
    terraform_plan_saved,
)

pytestmark = pytest.mark.integration

ENVIRONMENTS: Environments = {"dev": (seed_dev, prepare_cdktf_cli)}


@pytest.fixture(scope="module")
def deployments(local_aws: LocalAws, toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployments]:
    yield from deploy_side_by_side(local_aws, toolchain, tmp_path_factory, ENVIRONMENTS)


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_verify_passes(name: str, deployments: Deployments, local_aws: LocalAws) -> None:
    assert_verify_passes_and_show(deployments.get(name), local_aws)


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_verify_names_what_is_broken(name: str, deployments: Deployments, local_aws: LocalAws) -> None:
    assert_breakages_detected_and_show(deployments.get(name), local_aws)


def test_plan_risk_report_passes_a_threshold_change_and_fails_a_cluster_replacement(
    deployments: Deployments, local_aws: LocalAws, tmp_path: Path
) -> None:
    """`python -m review.plan_risk` on real plans against the deployed dev stack (nothing is applied).

    Two config changes, each synthesized into a copy of the stack dir that shares the deployed state, planned side by
    side (`-lock=false`; `-refresh=false`, because only the config changes and moto's unstored fields would add noise):
    a lower Aurora CPU alarm threshold must pass (exit 0), a new `aurora.database_name` (ForceNew on aws_rds_cluster in
    provider 5.100.0) must fail (exit 1), naming the cluster and the attribute. The first report reads the JSON of
    `terraform show -json`, the second the saved plan (it runs `terraform show -json` itself).
    """
    deployment = deployments.get("dev")
    started = time.monotonic()
    stack, document = deployment.seeded.stack_name, deployment.document
    cluster = resource_key(deployment, "aws_rds_cluster")
    cpu_alarms = sorted(
        f"aws_cloudwatch_metric_alarm.{key}"
        for key, alarm in document["resource"]["aws_cloudwatch_metric_alarm"].items()
        if str(alarm.get("alarm_name", "")).startswith(AURORA_CPU_ALARM)
    )
    assert cpu_alarms, "no Aurora CPU alarm in the dev stack"
    monitoring, aurora = deployment.seeded.data.get("monitoring", {}), deployment.seeded.data.get("aurora", {})
    variants: dict[str, dict[str, dict[str, Any]]] = {
        "harmless": {"monitoring": {"aurora_cpu_percent": float(monitoring.get("aurora_cpu_percent", 80)) - 5}},
        "destructive": {"aurora": {"database_name": f"{aurora.get('database_name', 'app')}_renamed"}},
    }
    stack_dirs = {name: stack_copy_with(local_aws, deployment, changes, tmp_path / name) for name, changes in variants.items()}
    synthesized = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(stack_dirs)) as pool:
        futures = {name: pool.submit(terraform_plan_saved, deployment, d, "-refresh=false") for name, d in stack_dirs.items()}
        plans = {name: future.result() for name, future in futures.items()}
    planned = time.monotonic()

    shown = subprocess.run(
        [deployment.terraform, "show", "-json", plans["harmless"].name],
        cwd=stack_dirs["harmless"],
        env=deployment.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    harmless_json = tmp_path / "harmless.json"
    harmless_json.write_text(shown.stdout)
    no_acknowledgements = tmp_path / "acknowledged-risks.toml"
    no_acknowledgements.write_text("")  # the repository's file may acknowledge something in a pull request

    def plan_risk(*arguments: str) -> Ran:
        command = (sys.executable, "-m", "review.plan_risk", "--acknowledgements", str(no_acknowledgements), *arguments)
        return run(command, cwd=REPO_ROOT, env=deployment.env, timeout=300)

    harmless_report = tmp_path / "harmless-report.json"
    ran = plan_risk("--json", "--output", str(harmless_report), f"{stack}={harmless_json}")
    assert ran.returncode == 0, f"plan_risk exited {ran.returncode} on a threshold change:\n{ran.output}"
    [harmless] = json.loads(harmless_report.read_text())["plans"]
    assert harmless["risks"] == [] and harmless["replaced"] == [] and harmless["destroyed"] == [], harmless
    updated = {change["address"]: change.get("attributes", []) for change in harmless["updated"]}
    for alarm in cpu_alarms:
        assert "threshold" in updated.get(alarm, []), f"{alarm} not updated in place: {updated}"

    destructive_report = tmp_path / "destructive-report.md"
    ran = plan_risk(
        "--terraform", deployment.terraform, "--stack-dir", str(stack_dirs["destructive"]), "--output", str(destructive_report),
        str(plans["destructive"]),
    )  # fmt: skip
    markdown = destructive_report.read_text() if destructive_report.exists() else ""
    assert ran.returncode == 1, f"plan_risk exited {ran.returncode} on a cluster replacement:\n{ran.output}\n{markdown}"
    dangerous = markdown.split("Dangerous changes, not acknowledged", 1)[-1].split("Changes\n", 1)[0]
    [line] = [line for line in dangerous.splitlines() if line.startswith(f"- **`{cluster}`**")]
    assert "is **replaced**" in line and "forced by `database_name`" in line and "all data is lost" in line, line
    assert f"## {stack}" in markdown, markdown

    finished = time.monotonic()
    record("dev: plan risk, 2 synths (in-process)", synthesized - started)
    record("dev: plan risk, 2 terraform plans side by side", planned - synthesized)
    record("dev: plan risk, terraform show + 2 reports", finished - planned)
    print(f"\nplan risk on the deployed dev stack: {finished - started:.1f} s\n{markdown}")


def test_destroy_leaves_nothing(deployments: Deployments, local_aws: LocalAws) -> None:
    assert_destroy_leaves_nothing(deployments, local_aws)
