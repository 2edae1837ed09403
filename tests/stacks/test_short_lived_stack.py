"""A short-lived stack (ENVIRONMENT_SUFFIX=pr42 ENVIRONMENT_BASE=dev) synthesizes cheap: checked on its JSON.

Two short-lived stacks are synthesized in one app: pr42 with the defaults, pr43 from a dev whose `[short_lived]`
table asks for provisioned instances, two readers, Multi-AZ DMS and deletion protection.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from config import environment_files, load_environments
from config.loader import CONFIG_DIR
from config.short_lived import SHORT_LIVED_MAX_ACU, short_lived_dms_class
from contract.aurora import SERVERLESS_INSTANCE_CLASS, SERVERLESS_MIN_ACU
from contract.layout import STACK_FILE, STACKS_DIR
from plumbing.exit_codes import ExitCode
from tests.config.helpers import copy_example_ca, dev_data, write_toml
from tests.helpers import Document, only_resource, resources

OVERRIDES = {
    "aurora_instance_class": "db.r6g.large",
    "aurora_reader_count": 2,
    "aurora_deletion_protection": True,
    "dms_multi_az": True,
    "dms_replication_instance_class": "dms.c5.large",
}


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Stack folder per suffix: pr42 (defaults, from config/) and pr43 (from a dev with OVERRIDES)."""
    from stacks.app import build_app

    overridden = tmp_path_factory.mktemp("config")
    for path in CONFIG_DIR.glob("*.toml"):
        shutil.copyfile(path, overridden / path.name)
    copy_example_ca(overridden)
    write_toml(overridden / "dev.toml", dev_data() | {"short_lived": OVERRIDES})
    configs = [
        next(c for c in load_environments(environment_files(folder), ephemeral_suffix=suffix) if c.environment_suffix == suffix)
        for folder, suffix in ((CONFIG_DIR, "pr42"), (overridden, "pr43"))
    ]
    outdir = tmp_path_factory.mktemp("cdktf.out")
    build_app(configs, outdir=str(outdir)).synth()
    return {config.environment_suffix: outdir / STACKS_DIR / config.stack_name for config in configs}


def _document(folder: Path) -> Document:
    parsed: Document = json.loads((folder / STACK_FILE).read_text())
    return parsed


def _instances(document: Document) -> list[Any]:
    return list(resources(document, "aws_rds_cluster_instance").values())


def test_pr42_is_serverless_from_half_an_acu_with_one_reader(short_lived: dict[str, Path]) -> None:
    document = _document(short_lived["pr42"])
    cluster = only_resource(document, "aws_rds_cluster")
    assert cluster["serverlessv2_scaling_configuration"] == {
        "min_capacity": SERVERLESS_MIN_ACU,
        "max_capacity": SHORT_LIVED_MAX_ACU,
    }
    assert cluster["deletion_protection"] is False
    instances = _instances(document)
    assert len(instances) == 2, "the writer and one reader"
    assert {instance["instance_class"] for instance in instances} == {SERVERLESS_INSTANCE_CLASS}
    assert not resources(document, "aws_appautoscaling_target"), "Aurora Auto Scaling does not support Serverless v2"


def test_pr42_runs_a_small_single_az_replication_instance(short_lived: dict[str, Path]) -> None:
    instance = only_resource(_document(short_lived["pr42"]), "aws_dms_replication_instance")
    assert instance["multi_az"] is False
    assert instance["replication_instance_class"] == short_lived_dms_class() == "dms.t3.medium"


def test_the_base_file_s_short_lived_table_wins(short_lived: dict[str, Path]) -> None:
    document = _document(short_lived["pr43"])
    cluster = only_resource(document, "aws_rds_cluster")
    assert cluster["deletion_protection"] is True
    assert "serverlessv2_scaling_configuration" not in cluster
    instances = _instances(document)
    assert len(instances) == 3 and {instance["instance_class"] for instance in instances} == {"db.r6g.large"}
    replication = only_resource(document, "aws_dms_replication_instance")
    assert (replication["multi_az"], replication["replication_instance_class"]) == (True, "dms.c5.large")


def test_both_pass_the_aws_contract_gate(short_lived: dict[str, Path]) -> None:
    from review.aws_contract.__main__ import main as aws_contract

    assert aws_contract([str(folder) for folder in short_lived.values()]) == ExitCode.OK
