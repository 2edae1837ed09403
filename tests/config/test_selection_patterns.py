"""dms.include / dms.exclude take DMS's wildcard grammar: `[_]` is writable, a pattern DMS does not define is refused."""

from __future__ import annotations

from pathlib import Path

from config import load_environment
from tests.config.helpers import copy_example_ca, dev_data, problems_for, write_toml


def test_a_literal_underscore_is_written_as_dms_writes_it(tmp_path: Path) -> None:
    data = dev_data()
    data["dms"]["exclude"] = [{"schema_name": "public", "table_name": "audit[_]%"}]
    copy_example_ca(tmp_path)
    config = load_environment(write_toml(tmp_path / "dev.toml", data))
    assert config.dms.exclude[0].table_name == "audit[_]%"


def test_a_pattern_outside_dms_grammar_is_refused_naming_the_field(tmp_path: Path) -> None:
    data = dev_data()
    data["dms"]["exclude"] = [{"schema_name": "public", "table_name": "audit[_%"}]
    [problem] = problems_for(tmp_path, data)
    assert "dms.exclude" in problem and "table_name" in problem and "never closed" in problem, problem
