"""Database observability (`[observability]`): preloaded libraries, plan, audit, temp file and autovacuum logging.

Checked on the synthesized parameter groups (values, the group each parameter is in, apply methods) and on the
config model's errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from config import EnvironmentConfig, load_environment
from config.model import ObservabilityConfig
from modules.aurora_parameters import DatabaseObservability
from tests.config.helpers import copy_example_ca, dev_data, problems_for, write_toml
from tests.environments import ENVIRONMENTS
from tests.helpers import Document, only_resource
from tests.modules.test_aurora import BASE_PROPS, synth_cluster

DEFAULTS = ObservabilityConfig()


def _observability(**changes: Any) -> DatabaseObservability:
    return dataclasses.replace(BASE_PROPS.observability, **changes)


def _groups(document: Document) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """Parameters of the cluster group and of the instance group, by name."""
    cluster = only_resource(document, "aws_rds_cluster_parameter_group")["parameter"]
    instance = only_resource(document, "aws_db_parameter_group")["parameter"]
    return {p["name"]: p for p in cluster}, {p["name"]: p for p in instance}


def test_defaults_are_conservative() -> None:
    assert DEFAULTS.log_temp_files_kb == 10240
    assert DEFAULTS.log_autovacuum_min_duration_ms == 10000
    assert DEFAULTS.auto_explain_min_duration_ms is None
    assert DEFAULTS.pgaudit_log == ()
    assert DEFAULTS.pgaudit_object_audit is False


def test_defaults_keep_aurora_preloading_pg_stat_statements_and_add_two_log_thresholds() -> None:
    cluster, instance = _groups(synth_cluster())
    assert cluster["shared_preload_libraries"] == {
        "name": "shared_preload_libraries",
        "value": "pg_stat_statements",
        "apply_method": "pending-reboot",
    }
    assert cluster["log_autovacuum_min_duration"] == {
        "name": "log_autovacuum_min_duration",
        "value": "10000",
        "apply_method": "immediate",
    }
    assert instance["log_temp_files"] == {"name": "log_temp_files", "value": "10240", "apply_method": "immediate"}
    assert not {name for name in cluster | instance if name.startswith(("auto_explain.", "pgaudit."))}
    assert "log_temp_files" not in cluster and "log_autovacuum_min_duration" not in instance


def test_auto_explain_and_pgaudit_are_preloaded_in_a_fixed_order_with_their_settings() -> None:
    observability = _observability(auto_explain_min_duration_ms=5000, pgaudit_log=("ddl", "role"), pgaudit_object_audit=True)
    cluster, _ = _groups(synth_cluster(observability=observability))
    assert cluster["shared_preload_libraries"]["value"] == "pg_stat_statements,auto_explain,pgaudit"
    assert cluster["shared_preload_libraries"]["apply_method"] == "pending-reboot"
    assert cluster["auto_explain.log_min_duration"] == {
        "name": "auto_explain.log_min_duration",
        "value": "5000",
        "apply_method": "immediate",
    }
    assert cluster["pgaudit.log"] == {"name": "pgaudit.log", "value": "ddl,role", "apply_method": "immediate"}
    assert cluster["pgaudit.role"] == {"name": "pgaudit.role", "value": "rds_pgaudit", "apply_method": "immediate"}


@pytest.mark.parametrize(
    ("changes", "libraries"),
    [
        ({"auto_explain_min_duration_ms": -1}, ("pg_stat_statements", "auto_explain")),
        ({"pgaudit_log": ("none",)}, ("pg_stat_statements", "pgaudit")),
        ({"pgaudit_log": ("all", "-misc"), "auto_explain_min_duration_ms": 0}, ("pg_stat_statements", "auto_explain", "pgaudit")),
    ],
)
def test_preloaded_libraries_follow_what_is_configured(changes: dict[str, Any], libraries: tuple[str, ...]) -> None:
    assert _observability(**changes).preloaded_libraries == libraries


def test_the_existing_parameters_and_their_order_are_kept() -> None:
    """New parameters are appended: the ones before them keep their place in the JSON."""
    cluster = only_resource(synth_cluster(), "aws_rds_cluster_parameter_group")["parameter"]
    instance = only_resource(synth_cluster(), "aws_db_parameter_group")["parameter"]
    assert [p["name"] for p in cluster] == [
        "rds.force_ssl",
        "log_connections",
        "log_disconnections",
        "log_min_duration_statement",
        "log_statement",
        "idle_in_transaction_session_timeout",
        "shared_preload_libraries",
        "log_autovacuum_min_duration",
    ]
    assert [p["name"] for p in instance] == ["log_lock_waits", "track_io_timing", "log_temp_files"]


@pytest.mark.parametrize("suffix", ENVIRONMENTS)
def test_every_environment_synthesizes_what_its_config_says(
    suffix: str, synthesized: dict[str, Document], environments: dict[str, EnvironmentConfig]
) -> None:
    config = environments[suffix].observability
    cluster, instance = _groups(synthesized[suffix])
    libraries = cluster["shared_preload_libraries"]["value"].split(",")
    assert libraries[0] == "pg_stat_statements"
    assert ("auto_explain" in libraries) == (config.auto_explain_min_duration_ms is not None)
    assert ("pgaudit" in libraries) == bool(config.pgaudit_log)
    assert cluster["log_autovacuum_min_duration"]["value"] == str(config.log_autovacuum_min_duration_ms)
    assert instance["log_temp_files"]["value"] == str(config.log_temp_files_kb)
    if config.pgaudit_log:
        assert cluster["pgaudit.log"]["value"] == ",".join(config.pgaudit_log)
    only_static = {"rds.force_ssl", "shared_preload_libraries"}
    for name, parameter in (cluster | instance).items():
        assert parameter["apply_method"] == ("pending-reboot" if name in only_static else "immediate"), name


def test_staging_and_prod_turn_it_on(environments: dict[str, EnvironmentConfig]) -> None:
    for suffix in ("staging", "prod"):
        config = environments[suffix].observability
        assert config.auto_explain_min_duration_ms is not None and config.auto_explain_min_duration_ms >= 1000
        assert config.pgaudit_log and not {"read", "write", "all"} & set(config.pgaudit_log), (
            "read/write/all would log every statement DMS applies"
        )
    assert environments["dev"].observability == DEFAULTS


@pytest.mark.parametrize(
    ("key", "bad", "expected"),
    [
        ("pgaudit_log", ["ddl", "writes"], "observability.pgaudit_log.1: allowed pgAudit classes: read, write, function"),
        ("pgaudit_log", ["-all"], "observability.pgaudit_log.0: allowed pgAudit classes"),
        ("pgaudit_log", ["DDL"], "observability.pgaudit_log.0: allowed pgAudit classes"),
        ("pgaudit_log", ["none", "ddl"], "observability.pgaudit_log: 'none' logs nothing and cannot be combined"),
        ("pgaudit_log", ["ddl", "ddl"], "observability.pgaudit_log: a class is listed twice"),
        ("pgaudit_log", ["ddl", "-misc"], "observability.pgaudit_log: a '-class' subtracts from 'all'"),
        ("pgaudit_log", "ddl", "observability.pgaudit_log"),
        ("log_temp_files_kb", -2, "observability.log_temp_files_kb: Input should be greater than or equal to -1"),
        ("log_autovacuum_min_duration_ms", -5, "observability.log_autovacuum_min_duration_ms: Input should be greater"),
        ("auto_explain_min_duration_ms", -10, "observability.auto_explain_min_duration_ms: Input should be greater"),
        ("log_temp_files_kb", 2**31, "observability.log_temp_files_kb: Input should be less than or equal to 2147483647"),
        ("pgaudit_object_audit", True, "observability.pgaudit_object_audit: needs pgAudit loaded: set pgaudit_log too"),
        ("pgaudit_role", "rds_pgaudit", "observability.pgaudit_role: unknown key (allowed here: auto_explain_min_duration_ms"),
    ],
)
def test_bad_values_name_the_field(tmp_path: Path, key: str, bad: Any, expected: str) -> None:
    data = dev_data()
    data["observability"] = {key: bad}
    problems = problems_for(tmp_path, data, today=dt.date(2026, 11, 29))
    assert len(problems) == 1 and expected in problems[0], problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = dev_data()
    data["observability"] = {"pgaudit_log": ["reads", "none"], "log_temp_files_kb": -3, "auto_explain_min_duration_ms": -4}
    problems = problems_for(tmp_path, data, today=dt.date(2026, 11, 29))
    assert len(problems) == 3, problems
    for field in ("observability.pgaudit_log.0:", "observability.log_temp_files_kb:", "observability.auto_explain_min"):
        assert sum(field in problem for problem in problems) == 1, (field, problems)


def test_a_valid_table_loads(tmp_path: Path) -> None:
    data = dev_data()
    data["observability"] = {"pgaudit_log": ["all", "-misc", "-read"], "pgaudit_object_audit": True}
    copy_example_ca(tmp_path)
    config = load_environment(write_toml(tmp_path / "env.toml", data), today=dt.date(2026, 11, 29))
    assert config.observability.pgaudit_log == ("all", "-misc", "-read")
    assert config.observability.pgaudit_object_audit is True
