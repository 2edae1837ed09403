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

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from contract.naming import AURORA_CPU_ALARM
from modules import aurora_parameters
from tests.integration.conftest import record
from tests.integration.harness import (
    REPO_ROOT,
    Deployment,
    LocalAws,
    Ran,
    SeededEnvironment,
    Toolchain,
    ToolMissingError,
    assert_breakages_detected,
    assert_verify_passes,
    inventory,
    moto_backend,
    prepare_cdktf_cli,
    prepare_terraform,
    read_config,
    redeploy_with,
    run,
    run_ok,
    seed_environment,
    stack_copy_with,
    synthesize_for_emulator,
    terraform_apply,
    terraform_plan_saved,
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
    base["aurora"]["secret_recovery_window_days"] = 0  # the password test replaces a secret under the same name
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


def _resource_key(deployment: Deployment, resource_type: str, name_part: str = "") -> str:
    found = [
        key
        for key, value in deployment.document["resource"][resource_type].items()
        if name_part in str(value.get("name", value.get("identifier", "")))
    ]
    assert len(found) == 1, f"{resource_type} *{name_part}*: {found}"
    return f"{resource_type}.{found[0]}"


def _planned_changes(deployment: Deployment, *options: str) -> dict[str, dict[str, Any]]:
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


def test_aws_minor_upgrades_do_not_make_the_next_plan_downgrade(deployments: Deployments) -> None:
    """AWS upgrades the cluster and the replication instance; the next plan must not propose the old versions."""
    deployment = deployments.get("staging")
    seeded = deployment.seeded
    outputs = deployment.outputs()
    cluster = moto_backend("rds", seeded).clusters[outputs["cluster_id"]]
    cluster.engine_version = "15.99"  # a minor newer than any configured one
    [instance] = moto_backend("dms", seeded).replication_instances.values()
    instance.engine_version = "3.6.99"
    cluster_address = _resource_key(deployment, "aws_rds_cluster")
    instance_address = _resource_key(deployment, "aws_dms_replication_instance")

    changes = _planned_changes(deployment)
    for address, change in changes.items():
        if change["actions"] != ["no-op"]:
            before, after = change["before"] or {}, change["after"] or {}
            changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            print(f"\nplanned after the simulated upgrades: {address} {change['actions']} {changed}")

    for address in (cluster_address, instance_address):
        change = changes[address]
        assert (change["after"] or {}).get("engine_version") == (change["before"] or {}).get("engine_version"), (
            f"{address}: the plan would change engine_version {change['before'].get('engine_version')!r} -> "
            f"{change['after'].get('engine_version')!r} ({change['actions']})"
        )
        assert "delete" not in change["actions"], f"{address}: {change['actions']}"


def _passwords(aws: LocalAws, deployment: Deployment) -> dict[str, str]:
    """What the cluster holds (moto's backend: the API never returns it) and what each secret holds."""
    seeded, outputs = deployment.seeded, deployment.outputs()
    secrets = seeded.client(aws, "secretsmanager")
    cluster = moto_backend("rds", seeded).clusters[outputs["cluster_id"]]
    master_name = f"{seeded.data.get('name_prefix', 'aurora-migration')}-aurora-master-password-{seeded.suffix}"
    credentials = json.loads(secrets.get_secret_value(SecretId=outputs["secret_arn"])["SecretString"])
    return {
        "cluster": cluster._master_user_password,
        "credentials secret": credentials["password"],
        "master password secret": secrets.get_secret_value(SecretId=master_name)["SecretString"],
    }


def _assert_one_password(aws: LocalAws, deployment: Deployment, step: str) -> str:
    found = _passwords(aws, deployment)
    assert len(set(found.values())) == 1, f"after {step}: the cluster and the secrets disagree: " + ", ".join(
        f"{holder} holds password #{sorted(set(found.values())).index(value)}" for holder, value in found.items()
    )
    password = found["cluster"]
    assert not set(password) & set('/"@ {};+%.:'), f"after {step}: a character RDS or DMS refuses"
    return password


def _password_targets(deployment: Deployment) -> list[str]:
    """`-target`s for the cluster and both secret versions (Terraform adds what they depend on).

    A full apply after the first one would also "update" resources whose fields moto does not store (rule
    descriptions, the DMS subnet group's subnets and tags: see the minor-upgrade test's output), and moto never
    finishes modifying a DMS replication subnet group.
    """
    versions = deployment.document["resource"]["aws_secretsmanager_secret_version"]
    return [
        f"-target={_resource_key(deployment, 'aws_rds_cluster')}",
        *(f"-target=aws_secretsmanager_secret_version.{key}" for key in versions),
    ]


def test_the_cluster_and_its_secrets_agree_on_the_password_through_rotation_and_replacement(
    deployments: Deployments, local_aws: LocalAws, tmp_path: Path
) -> None:
    deployment = deployments.get("staging")
    created = _assert_one_password(local_aws, deployment, "create")
    targets = _password_targets(deployment)

    redeploy_with(local_aws, deployment, {"aurora": {"master_password_version": 2}}, tmp_path, *targets)
    deployment.cached_outputs = None
    rotated = _assert_one_password(local_aws, deployment, "rotation (master_password_version 1 -> 2)")
    assert rotated != created, "rotation did not write a new password"

    credentials = _resource_key(deployment, "aws_secretsmanager_secret", "aurora-credentials")
    terraform_apply(deployment, f"-replace={credentials}", *targets)
    deployment.cached_outputs = None
    assert _assert_one_password(local_aws, deployment, "replacing the credentials secret") == rotated

    cluster = _resource_key(deployment, "aws_rds_cluster")
    instances = [f"aws_rds_cluster_instance.{key}" for key in deployment.document["resource"]["aws_rds_cluster_instance"]]
    terraform_apply(
        deployment,
        f"-replace={cluster}",
        *(f"-replace={instance}" for instance in instances),
        *targets,
        *(f"-target={instance}" for instance in instances),
    )
    deployment.cached_outputs = None
    assert _assert_one_password(local_aws, deployment, "replacing the cluster") == rotated


def test_reader_auto_scaling_is_registered_on_the_cluster(deployments: Deployments, local_aws: LocalAws) -> None:
    """staging.toml turns reader auto scaling on: the scalable target and its policy exist after apply."""
    deployment = deployments.get("staging")
    seeded, outputs = deployment.seeded, deployment.outputs()
    aurora = seeded.data["aurora"]
    scaling = aurora["auto_scaling"]
    assert scaling["enabled"] is True, "staging.toml is the example that turns reader auto scaling on"
    client = seeded.client(local_aws, "application-autoscaling")
    resource_id = f"cluster:{outputs['cluster_id']}"
    [target] = client.describe_scalable_targets(ServiceNamespace="rds", ResourceIds=[resource_id])["ScalableTargets"]
    assert target["ScalableDimension"] == "rds:cluster:ReadReplicaCount"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (aurora["reader_count"], scaling["max_readers"])
    [policy] = client.describe_scaling_policies(ServiceNamespace="rds", ResourceId=resource_id)["ScalingPolicies"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    configuration = policy["TargetTrackingScalingPolicyConfiguration"]
    assert configuration["PredefinedMetricSpecification"]["PredefinedMetricType"] == "RDSReaderAverageCPUUtilization"
    assert configuration["TargetValue"] == scaling["target_value"]
    assert (configuration["ScaleInCooldown"], configuration["ScaleOutCooldown"]) == (
        scaling["scale_in_cooldown_seconds"],
        scaling["scale_out_cooldown_seconds"],
    )


UPGRADE_TO = "16.6"


def test_a_major_upgrade_keeps_the_cluster_and_swaps_the_parameter_groups(
    deployments: Deployments, local_aws: LocalAws, tmp_path: Path
) -> None:
    """15 -> 16 in place: refused without the switch, then one plan that updates the cluster (never replaces it) and
    creates the pg16 groups before it deletes the pg15 ones, applied; the cluster keeps its resource id and ARN.

    Targeted like the password test (moto leaves other resources with a perpetual diff). Runs after the tests that
    need the cluster on 15; afterwards the deployment's config says 16.
    """
    deployment = deployments.get("staging")
    seeded, outputs = deployment.seeded, deployment.outputs()
    started = time.monotonic()
    rds = seeded.client(local_aws, "rds")
    [before] = rds.describe_db_clusters(DBClusterIdentifier=outputs["cluster_id"])["DBClusters"]
    assert before["EngineVersion"].startswith("15.")
    cluster = _resource_key(deployment, "aws_rds_cluster")
    instances = [f"aws_rds_cluster_instance.{key}" for key in deployment.document["resource"]["aws_rds_cluster_instance"]]
    groups = [_resource_key(deployment, kind) for kind in ("aws_rds_cluster_parameter_group", "aws_db_parameter_group")]
    # The groups are targets too: targeting only what uses them, Terraform creates the new groups but leaves the
    # old ones as deposed objects for the next untargeted apply ("Applied changes may be incomplete").
    targets = [f"-target={address}" for address in (cluster, *instances, *groups)]

    def synthesize(**aurora: Any) -> None:
        data = deployment.current_data()  # earlier steps rotated the password: keep what they deployed
        data["aurora"].update(aurora)
        workdir = tmp_path / f"synth-{len(list(tmp_path.iterdir()))}"
        workdir.mkdir()
        _, stack_dir, _ = synthesize_for_emulator(local_aws, data, workdir)
        (deployment.stack_dir / "cdk.tf.json").write_text((stack_dir / "cdk.tf.json").read_text())

    # Without the switch: the cluster's postcondition stops the plan before anything changes.
    synthesize(engine_version=UPGRADE_TO)
    refused = run(
        (deployment.terraform, "plan", "-input=false", "-no-color", *targets), cwd=deployment.stack_dir, env=deployment.env
    )
    assert refused.returncode != 0 and "allow_major_version_upgrade" in refused.output, refused.tail()

    synthesize(engine_version=UPGRADE_TO, allow_major_version_upgrade=True)
    changes = _planned_changes(deployment, *targets)
    assert changes[cluster]["actions"] == ["update"], f"{cluster}: {changes[cluster]['actions']}"
    assert (changes[cluster]["before"]["engine_version"], changes[cluster]["after"]["engine_version"]) == (
        before["EngineVersion"],
        UPGRADE_TO,
    )
    assert changes[cluster]["after"]["allow_major_version_upgrade"] is True
    for group in groups:
        assert changes[group]["actions"] == ["create", "delete"], f"{group}: created before destroyed"
    replaced = sorted(address for address, change in changes.items() if "delete" in change["actions"] and address not in groups)
    assert not replaced, f"replaced besides the parameter groups: {replaced}"
    terraform_apply(deployment, "drift.tfplan")
    seeded.data["aurora"].update(engine_version=UPGRADE_TO)  # the config that now describes the deployment

    [after] = rds.describe_db_clusters(DBClusterIdentifier=outputs["cluster_id"])["DBClusters"]
    assert (after["DbClusterResourceId"], after["DBClusterArn"]) == (before["DbClusterResourceId"], before["DBClusterArn"])
    assert after["EngineVersion"] == UPGRADE_TO
    assert re.fullmatch(rf".*-cluster-pg16-[0-9a-f]{{8}}-{seeded.suffix}", after["DBClusterParameterGroup"])
    names = [g["DBClusterParameterGroupName"] for g in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]]
    names += [g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]]
    ours = sorted(name for name in names if name.endswith(f"-{seeded.suffix}"))
    assert [name.split("-")[-3] for name in ours] == ["pg16", "pg16"], ours
    for instance in rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [outputs["cluster_id"]]}])[
        "DBInstances"
    ]:
        [group] = [g["DBParameterGroupName"] for g in instance["DBParameterGroups"]]
        prefix = seeded.data.get("name_prefix", "aurora-migration")
        assert re.fullmatch(rf"{prefix}-instance-pg16-[0-9a-f]{{8}}-{seeded.suffix}", group), group

    # The switch off again: the plan passes the postcondition (16 runs, 16 configured) and keeps the cluster.
    synthesize(engine_version=UPGRADE_TO)
    settled = _planned_changes(deployment, f"-target={cluster}")
    assert "delete" not in settled[cluster]["actions"], settled[cluster]["actions"]

    # A description edit forces new groups (description is ForceNew); created before the old ones are deleted, they
    # must not take the old names, or RDS (and moto) answer DBParameterGroupAlreadyExists (#26 box 4).
    def our_groups() -> set[str]:
        found = [g["DBClusterParameterGroupName"] for g in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]]
        found += [g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]]
        return {name for name in found if name.endswith(f"-{seeded.suffix}")}

    upgraded_groups = our_groups()
    with pytest.MonkeyPatch.context() as patch:
        for constant in ("CLUSTER_DESCRIPTION", "INSTANCE_DESCRIPTION"):
            patch.setattr(aurora_parameters, constant, getattr(aurora_parameters, constant) + " (reworded)")
        synthesize(engine_version=UPGRADE_TO)
    reworded = _planned_changes(deployment, *targets)
    for group in groups:
        assert reworded[group]["actions"] == ["create", "delete"], f"{group}: {reworded[group]['actions']}"
        assert reworded[group]["before"]["name"] != reworded[group]["after"]["name"], f"{group}: the name is reused"
    terraform_apply(deployment, "drift.tfplan")
    reworded_groups = our_groups()
    assert len(reworded_groups) == 2 and not reworded_groups & upgraded_groups, (upgraded_groups, reworded_groups)
    seconds = time.monotonic() - started
    record("staging: major upgrade 15 -> 16 (refused plan, plan, apply, plan), then a description edit (plan, apply)", seconds)
    print(f"\nmajor upgrade step: {seconds:.0f} s")


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
    cluster = _resource_key(deployment, "aws_rds_cluster")
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
