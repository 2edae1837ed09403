"""Deploy a staging-shaped environment into a local AWS (moto) with terraform, verify it, break things, simulate
AWS's minor upgrades, upgrade the major version in place, destroy.

staging-shaped: one reader, `service_roles = "existing"`, application security groups and ssl_mode `require` (no CA
certificate), synthesized in-process (build_app) and applied with terraform, in the emulated account its config
allows. Only ids are substituted, plus what moto cannot take (printed; see docs/integration.md). The same shape's
password rotation runs on a deployment of its own (test_deploy_passwords.py), side by side on another worker.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modules import aurora_parameters
from tests.integration.conftest import record
from tests.integration.deployments import (
    Deployments,
    Environments,
    assert_breakages_detected_and_show,
    assert_destroy_leaves_nothing,
    assert_verify_passes_and_show,
    deploy_side_by_side,
    planned_changes,
    resource_key,
    seed_staging,
)
from tests.integration.harness import (
    LocalAws,
    Toolchain,
    moto_backend,
    prepare_terraform,
    run,
    synthesize_for_emulator,
    terraform_apply,
)

pytestmark = pytest.mark.integration

ENVIRONMENTS: Environments = {"staging": (seed_staging, prepare_terraform)}


@pytest.fixture(scope="module")
def deployments(local_aws: LocalAws, toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployments]:
    yield from deploy_side_by_side(local_aws, toolchain, tmp_path_factory, ENVIRONMENTS)


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_verify_passes(name: str, deployments: Deployments, local_aws: LocalAws) -> None:
    assert_verify_passes_and_show(deployments.get(name), local_aws)


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_verify_names_what_is_broken(name: str, deployments: Deployments, local_aws: LocalAws) -> None:
    assert_breakages_detected_and_show(deployments.get(name), local_aws)


def test_aws_minor_upgrades_do_not_make_the_next_plan_downgrade(deployments: Deployments) -> None:
    """AWS upgrades the cluster and the replication instance; the next plan must not propose the old versions."""
    deployment = deployments.get("staging")
    seeded = deployment.seeded
    outputs = deployment.outputs()
    cluster = moto_backend("rds", seeded).clusters[outputs["cluster_id"]]
    cluster.engine_version = "15.99"  # a minor newer than any configured one
    [instance] = moto_backend("dms", seeded).replication_instances.values()
    instance.engine_version = "3.6.99"
    cluster_address = resource_key(deployment, "aws_rds_cluster")
    instance_address = resource_key(deployment, "aws_dms_replication_instance")

    changes = planned_changes(deployment)
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
    cluster = resource_key(deployment, "aws_rds_cluster")
    instances = [f"aws_rds_cluster_instance.{key}" for key in deployment.document["resource"]["aws_rds_cluster_instance"]]
    groups = [resource_key(deployment, kind) for kind in ("aws_rds_cluster_parameter_group", "aws_db_parameter_group")]
    # The groups are targets too: targeting only what uses them, Terraform creates the new groups but leaves the
    # old ones as deposed objects for the next untargeted apply ("Applied changes may be incomplete").
    targets = [f"-target={address}" for address in (cluster, *instances, *groups)]

    def synthesize(**aurora: Any) -> None:
        data = deployment.current_data()  # what earlier steps deployed (redeploy_with), not only the seeded config
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
    changes = planned_changes(deployment, *targets)
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
    settled = planned_changes(deployment, f"-target={cluster}")
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
    reworded = planned_changes(deployment, *targets)
    for group in groups:
        assert reworded[group]["actions"] == ["create", "delete"], f"{group}: {reworded[group]['actions']}"
        assert reworded[group]["before"]["name"] != reworded[group]["after"]["name"], f"{group}: the name is reused"
    terraform_apply(deployment, "drift.tfplan")
    reworded_groups = our_groups()
    assert len(reworded_groups) == 2 and not reworded_groups & upgraded_groups, (upgraded_groups, reworded_groups)
    seconds = time.monotonic() - started
    record("staging: major upgrade 15 -> 16 (refused plan, plan, apply, plan), then a description edit (plan, apply)", seconds)
    print(f"\nmajor upgrade step: {seconds:.0f} s")


def test_destroy_leaves_nothing(deployments: Deployments, local_aws: LocalAws) -> None:
    assert_destroy_leaves_nothing(deployments, local_aws)
