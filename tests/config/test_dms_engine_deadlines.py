"""A DMS creation deadline stops only a stack that would create the replication instance (#26 box 7)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from config import environment_files, load_environment, load_environments
from contract.dms_engines import DMS_ENGINES, engine_problems, engine_warnings, replacement_engine
from tests.config.helpers import copy_example_ca, dev_data, problems_for, write_toml

AFTER_361 = dt.date(2027, 5, 1)  # the day after 3.6.1's creation deadline in the table


def test_a_passed_deadline_never_recommends_the_refused_version() -> None:
    [refused] = engine_problems("3.6.1", target_major=15, today=AFTER_361)
    assert "use 3.6.1" not in refused
    assert "no engine of the table" in refused and "make engine-versions" in refused
    assert "dms.replication_instance_exists = true" in refused
    [older] = engine_problems("3.5.4", target_major=15, today=dt.date(2026, 11, 29))
    assert "use 3.6.1" in older


def test_the_replacement_is_open_for_creation_and_writes_to_the_target_major() -> None:
    assert replacement_engine("3.5.2", target_major=16, today=dt.date(2025, 1, 1)).version == "3.6.1"  # type: ignore[union-attr]
    assert replacement_engine("3.6.1", target_major=16, today=AFTER_361) is None


def test_an_existing_instance_keeps_synthesizing_after_the_deadline_with_a_warning(tmp_path: Path) -> None:
    data = dev_data()
    [problem] = problems_for(tmp_path, data, today=AFTER_361)
    assert "dms.engine_version: AWS stopped creating replication instances with DMS 3.6.1" in problem
    data["dms"]["replication_instance_exists"] = True
    copy_example_ca(tmp_path)
    config = load_environment(write_toml(tmp_path / "env.toml", data), today=AFTER_361)
    [warning] = engine_warnings("3.6.1", today=AFTER_361, target_major=15, instance_exists=True)
    assert config.dms.replication_instance_exists
    assert "the existing one keeps it" in warning and "use 3.6.1" not in warning


def test_a_short_lived_stack_creates_its_instance_so_it_is_checked_as_new() -> None:
    by_suffix = {c.environment_suffix: c for c in load_environments(environment_files(), ephemeral_suffix="pr7")}
    assert by_suffix["pr7"].dms.replication_instance_exists is False


def test_every_row_of_the_engine_table_names_its_source_and_date() -> None:
    for engine in DMS_ENGINES:
        assert "release notes" in engine.source and "2026-11-29" in engine.source, engine
