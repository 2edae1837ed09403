"""`cutover reload` truncates exactly the tables the task loads: scope read on the SOURCE with the config's mappings,
partitioned tables as their leaves, intersected with the TARGET; the plan lists exactly what the apply truncates.

Source and target: real PostgreSQL 15 databases (scope_fixtures.py). AWS: moto, StartReplicationTask types recorded
by the DMS fake.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest

from config.model import TableSelection
from migration_ops.cutover import command as cutover
from migration_ops.cutover import migrated
from tests.migration_ops.conftest import dms_scope
from tests.migration_ops.cutover.scope_fixtures import (
    KEPT,
    LOADED,
    TRUNCATE,
    ScopeDatabases,
    row_counts,
    scope_databases,
    write_config,
)
from tests.migration_ops.dms_fake import REGION, ModelAnswers, started_task
from tests.migration_ops.pg_server import PgServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def dbs(pg: PgServer) -> Iterator[ScopeDatabases]:
    yield from scope_databases(pg)


@pytest.fixture
def stopped(monkeypatch: pytest.MonkeyPatch, dbs: ScopeDatabases) -> Iterator[tuple[str, ModelAnswers]]:
    """A task that ran and was stopped (a reload may follow); SOURCE_DSN and TARGET_DSN point at the databases."""
    with started_task(monkeypatch, source_dsn=dbs.dsn(dbs.source), target_dsn=dbs.dsn(dbs.target)) as (arn, answers):
        boto3.client("dms", region_name=REGION).stop_replication_task(ReplicationTaskArn=arn)
        yield arn, answers


def _audit(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_plan_lists_exactly_what_the_apply_truncates(
    stopped: tuple[str, ModelAnswers], dbs: ScopeDatabases, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, answers = stopped
    audit = tmp_path / "audit.jsonl"
    reload = ["reload", "--config", str(write_config(tmp_path)), "--task-arn", arn, "--dsn-env", "SOURCE_DSN",
              "--truncate-target-dsn-env", "TARGET_DSN", "--audit-log", str(audit)]  # fmt: skip
    before = row_counts(dbs.dsn(dbs.target), LOADED + KEPT)

    assert cutover.main([*reload, "--json"]) == 1
    plan = json.loads(capsys.readouterr().out)
    assert plan["truncate"] == list(LOADED)
    assert plan["statement"] == TRUNCATE
    [result] = plan["results"]
    assert "in scope but not on the target, left alone: public.source_only" in result["evidence"]
    assert row_counts(dbs.dsn(dbs.target), LOADED + KEPT) == before, "the plan changes nothing"
    assert answers.start_types == []

    assert cutover.main([*reload, "--yes-truncate"]) == 0
    assert f"truncated {len(LOADED)} target tables; start (reload-target)" in capsys.readouterr().out
    after = row_counts(dbs.dsn(dbs.target), LOADED + KEPT)
    assert {table: after[table] for table in LOADED} == dict.fromkeys(LOADED, 0)
    assert {table: after[table] for table in KEPT} == {table: before[table] for table in KEPT}, (
        "an excluded table, an inheritance child outside the scope and an Aurora-only table keep their rows"
    )
    assert answers.start_types == ["reload-target"]
    intent, outcome = _audit(audit)
    assert (intent["intent"], intent["statement"], intent["tables"]) == ("truncating", TRUNCATE, list(LOADED))
    assert (outcome["truncated"], outcome["outcome"]) == (list(LOADED), "running")
    assert intent["operator"]["aws_caller_arn"].startswith("arn:aws:")
    assert row_counts(dbs.dsn(dbs.source), ("public.accounts",)) == {"public.accounts": 2}, "the source is only read"


def test_a_partitioned_parent_in_scope_stands_for_its_leaves(dbs: ScopeDatabases) -> None:
    """Selected alone (its partitions excluded by name), DMS still loads the parent's rows into every partition."""
    dms = dms_scope(exclude=(TableSelection(schema_name="public", table_name="measurements[_]%"),))
    with psycopg.connect(dbs.dsn(dbs.source), autocommit=True) as source:
        scope = migrated.source_scope(source, dms)
    assert ("public", "measurements_2024") in scope.loaded and ("public", "measurements_2025") in scope.loaded
    assert ("public", "measurements") not in scope.loaded
    assert scope.partitioned == (("public", "measurements"),)
    with psycopg.connect(dbs.dsn(dbs.target), autocommit=True) as target:
        found = migrated.on_target(target, scope)
    assert ("public", "aurora_only") not in found.loaded
    assert found.missing_on_target == (("public", "source_only"),)
    assert found.partitioned == (("public", "measurements"),)


def test_a_source_that_cannot_be_read_changes_nothing(
    stopped: tuple[str, ModelAnswers], dbs: ScopeDatabases, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, answers = stopped
    reload = ["reload", "--config", str(write_config(tmp_path)), "--task-arn", arn, "--dsn-env", "NO_SUCH_SOURCE_DSN",
              "--truncate-target-dsn-env", "TARGET_DSN", "--yes-truncate", "--audit-log", str(tmp_path / "a.jsonl")]  # fmt: skip
    before = row_counts(dbs.dsn(dbs.target), LOADED)
    assert cutover.main(reload) == 2
    assert "NO_SUCH_SOURCE_DSN is not set" in capsys.readouterr().err
    assert row_counts(dbs.dsn(dbs.target), LOADED) == before
    assert answers.start_types == []
