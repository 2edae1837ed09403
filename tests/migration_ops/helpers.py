"""Running preflight checks against the test servers; a Terraform state file for output discovery."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config.model import DmsConfig, TableSelection
from migration_ops.postgres import connect
from migration_ops.preflight.checks import build_context, run_checks
from migration_ops.results import CheckResult

SHOP_EXCLUDE = (TableSelection(schema_name="public", table_name="audit%"),)


@contextmanager
def moto_rds(monkeypatch: pytest.MonkeyPatch, *, region: str, cluster: str) -> Iterator[Any]:
    """An RDS client on moto in `region` with an Aurora PostgreSQL cluster `cluster`."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": region}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        client = boto3.client("rds", region_name=region)
        client.create_db_cluster(
            DBClusterIdentifier=cluster, Engine="aurora-postgresql", MasterUsername="master", MasterUserPassword="unused-1234"
        )
        yield client


def dms_variant(base: DmsConfig, **changes: Any) -> DmsConfig:
    """`base` with `changes`, unvalidated (so a too-old engine can be tried)."""
    return base.model_copy(update=changes)


def run_all(dsn: str, dms: DmsConfig) -> dict[str, CheckResult]:
    with connect(dsn, read_only=True, statement_timeout_seconds=30) as conn:
        return {result.name: result for result in run_checks(build_context(conn, dms))}


def write_state(directory: Path, outputs: dict[str, Any]) -> Path:
    """A local terraform.tfstate holding `outputs`: what `terraform output -json` reads after a local apply."""
    directory.mkdir(parents=True, exist_ok=True)
    state = {
        "version": 4,
        "terraform_version": "1.0.0",
        "serial": 1,
        "lineage": "00000000-0000-0000-0000-000000000000",
        "outputs": {name: {"value": value, "type": "string" if isinstance(value, str) else ["list", "string"]}
                    for name, value in outputs.items()},
        "resources": [],
        "check_results": None,
    }  # fmt: skip
    (directory / "terraform.tfstate").write_text(json.dumps(state))
    return directory


needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH")
