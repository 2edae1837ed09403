"""`aurora.database_insights_mode`: advanced needs 465 days of Performance Insights (botocore rds CreateDBCluster)."""

from __future__ import annotations

from pathlib import Path

from config import load_environment
from tests.config.helpers import copy_example_ca, dev_data, problems_for, write_toml


def test_advanced_database_insights_needs_465_days_of_retention(tmp_path: Path) -> None:
    data = dev_data()
    data["aurora"]["database_insights_mode"] = "advanced"
    [problem] = problems_for(tmp_path, data)
    assert problem.endswith("aurora.performance_insights_retention_days: database_insights_mode 'advanced' needs 465, got 7"), (
        problem
    )
    data["aurora"]["performance_insights_retention_days"] = 465
    copy_example_ca(tmp_path)
    assert load_environment(write_toml(tmp_path / "env.toml", data)).aurora.database_insights_mode == "advanced"


def test_an_unknown_mode_is_refused_with_the_allowed_ones(tmp_path: Path) -> None:
    data = dev_data()
    data["aurora"]["database_insights_mode"] = "premium"
    [problem] = problems_for(tmp_path, data)
    assert "aurora.database_insights_mode" in problem and "'standard'" in problem and "'advanced'" in problem
