"""The cluster and its secrets agree on the master password through rotation and replacement, on a staging-shaped
deployment of its own (test_deploy_staging.py has the same shape), so this chain of targeted applies runs side by
side with the other deployment modules on another worker.

Nothing here destroys: the next moto reset (or the session's end) forgets the deployment, and destroy is tested on
the dev and staging deployments.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.deployments import Deployments, Environments, deploy_side_by_side, resource_key, seed_staging
from tests.integration.harness import (
    Deployment,
    LocalAws,
    Toolchain,
    moto_backend,
    prepare_terraform,
    redeploy_with,
    terraform_apply,
)

pytestmark = pytest.mark.integration

ENVIRONMENTS: Environments = {"staging": (seed_staging, prepare_terraform)}


@pytest.fixture(scope="module")
def deployments(local_aws: LocalAws, toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployments]:
    yield from deploy_side_by_side(local_aws, toolchain, tmp_path_factory, ENVIRONMENTS, destroy_at_end=False)


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
        f"-target={resource_key(deployment, 'aws_rds_cluster')}",
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

    credentials = resource_key(deployment, "aws_secretsmanager_secret", "aurora-credentials")
    terraform_apply(deployment, f"-replace={credentials}", *targets)
    deployment.cached_outputs = None
    assert _assert_one_password(local_aws, deployment, "replacing the credentials secret") == rotated

    cluster = resource_key(deployment, "aws_rds_cluster")
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
