"""`python -m bench.compare` end to end at 20,000 rows: two PostgreSQL 15 servers, no reladiff, nothing downloaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.pg import BinaryMissingError, find_binary
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.postgres
ROWS = 20_000
TIMEOUT_S = 120

FIELDS = {
    "machine": {"cores", "memory_gib", "load_average_start", "load_average_end", "postgres"},
    "bytes_per_side": {"table_bytes", "total_bytes", "copy_text_bytes"},
    "timings": {"read_floor_s", "read_floor_psycopg_s", "hash_floor_s", "compare_s", "reladiff_s"},
    "ratios": {"throughput_ratio_to_read_floor", "compare_to_reladiff"},
    "memory": {"compare_peak_rss_mb", "reladiff_peak_rss_mb"},
    "compare": {"exit_codes", "passed_identical", "peak_rss_mb"},
    "reladiff": {"skipped", "version", "exit_codes"},
}


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    try:
        find_binary("initdb")
    except BinaryMissingError as missing:
        pytest.skip(f"postgres: {missing}")
    results = tmp_path_factory.mktemp("bench-results")
    command = [sys.executable, "-m", "bench.compare", "--rows", str(ROWS), "--repeat", "1", "--no-reladiff"]
    completed = subprocess.run(
        [*command, "--results-dir", str(results)],
        cwd=REPO_ROOT,
        env={**os.environ, "PIP_NO_INDEX": "1"},  # --no-reladiff installs nothing; this makes sure
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    written = sorted(results.glob("compare-*.json"))
    assert len(written) == 1, completed.stderr
    return completed, json.loads(Path(written[0]).read_text())


def test_the_benchmark_writes_every_field(benchmark: tuple[subprocess.CompletedProcess[str], dict[str, Any]]) -> None:
    completed, result = benchmark
    assert completed.returncode == 0, completed.stderr
    assert result["rows"] == ROWS
    assert result["repeat"] == 1
    for section, fields in FIELDS.items():
        assert fields <= set(result[section]), f"{section}: missing {sorted(fields - set(result[section]))}"
    assert result["bytes_per_side"]["table_bytes"] > 0
    assert result["machine"]["postgres"].startswith("15")
    for name in ("read_floor_s", "read_floor_psycopg_s", "hash_floor_s", "compare_s"):
        assert result["timings"][name]["median"] > 0, name
    assert result["timings"]["reladiff_s"]["median"] is None
    assert result["reladiff"]["skipped"] is True
    assert result["ratios"]["throughput_ratio_to_read_floor"] > 0
    assert result["ratios"]["compare_to_reladiff"] is None
    assert result["memory"]["compare_peak_rss_mb"] > 0
    assert {target["verdict"] for target in result["targets"]} <= {"pass", "FAIL", "not run"}
    assert "| this project's compare |" in result["markdown"]
    assert "python -m bench.compare --rows 20000 --repeat 1 --no-reladiff" in result["markdown"]
    assert result["markdown"] in completed.stdout


def test_compare_passes_identical_data(benchmark: tuple[subprocess.CompletedProcess[str], dict[str, Any]]) -> None:
    _, result = benchmark
    assert result["compare"]["exit_codes"] == [0]
    assert result["compare"]["passed_identical"] is True


def test_compare_finds_each_planted_case_by_key(benchmark: tuple[subprocess.CompletedProcess[str], dict[str, Any]]) -> None:
    _, result = benchmark
    cases = {case["name"]: case for case in result["cases"]}
    assert set(cases) == {"update", "delete", "insert"}
    for name, case in cases.items():
        assert case["exit_code"] == 1, name
        assert case["named_at"], f"{name}: key {case['key']} not named in compare's --json"
        assert case["found"] is True, name
        assert case["reverted"] is True, name
    assert cases["update"]["key"] % 2 == 0 and cases["insert"]["key"] % 2 == 1  # the insert falls between two keys
