"""Synth benchmark (issue 10): fresh-process synth time and memory, scaling, and test-suite time.

    pipenv run python -m bench.synth            # synth figures only (~3-4 min with the default 3 runs)
    pipenv run python -m bench.synth --suite    # + the hermetic test suite
    pipenv run python -m bench.synth --all      # + the hermetic suite and the whole `make test`

Every figure is a fresh process (`python main.py`, as `cdktf synth` and users
run it) measured as min / median / max over `--runs`; memory is the summed RSS
of the process tree (Python plus the jsii node processes). Runs of different
scenarios are interleaved so that load from other processes on the machine
spreads over all of them; still, report medians from a quiet machine.

Scenarios:
  fresh      every environment in config/ through the fast provider import (provider_loading/fast_import.py)
  naive      the same, after `import cdktf_cdktf_provider_aws` (the whole package, as without the fast path)
  envs=N     N environments derived from config/dev.toml (suffixes e01..eNN)
  rules=N    one environment with N dms.include selection rules

Targets are checked on medians. Results: bench/results/synth-<UTC time>.json and bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/synth.py`
    sys.path.insert(0, str(REPO_ROOT))

from bench.configs import environments_dir, include_rules_dir  # noqa: E402
from bench.procmon import CommandFailedError, Sample, measure, run  # noqa: E402

CONFIG_DIR = REPO_ROOT / "config"
RESULTS_DIR = REPO_ROOT / "bench" / "results"
CONFIG_DIR_VAR = "AURORA_MIGRATION_CONFIG_DIR"
# Switches that change what main.py synthesizes: the benchmark sets its own.
SWITCHES = ("ENVIRONMENT_SUFFIX", "ENVIRONMENT_BASE", CONFIG_DIR_VAR, "AURORA_MIGRATION_TEST_EMULATOR_URL", "CDKTF_OUTDIR")
NAIVE = "import cdktf_cdktf_provider_aws, runpy, sys; sys.argv = ['main.py']; runpy.run_path('main.py', run_name='__main__')"
# Equivalent of main.py for a config folder, should main.py lose its AURORA_MIGRATION_CONFIG_DIR switch.
FROM_DIR = (
    "import os; from pathlib import Path; from config.loader import environment_files, load_environments; "
    "configs = load_environments(environment_files(Path(os.environ['BENCH_CONFIG_DIR']))); "
    "from provider_loading.fast_import import enable_fast_provider_import; enable_fast_provider_import(); "
    "from stacks.app import synth_atomically; synth_atomically(configs, outdir=Path(os.environ['CDKTF_OUTDIR']))"
)
HERMETIC_EXCLUDED_MARKERS = ("terraform", "checkov", "integration", "postgres")


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    limit: float
    unit: str


TARGETS = (
    Target("fresh_wall_s", "fresh synth of all environments", 4.0, "s"),
    Target("fresh_to_naive_ratio", "fresh / naive synth time", 0.3, "x"),
    Target("per_extra_env_s", "each extra environment", 0.3, "s"),
    Target("rules_added_s", "1,000 include rules add", 1.0, "s"),
    Target("hermetic_suite_s", "hermetic test suite", 60.0, "s"),
    Target("whole_suite_s", "whole suite (README: make test)", 600.0, "s"),
    Target("peak_rss_mb", "peak memory of a fresh synth", 700.0, "MB"),
)


def _stats(values: Iterable[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"min": ordered[0], "median": statistics.median(ordered), "max": ordered[-1]}


def _env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SWITCHES}
    env.setdefault("CHECKPOINT_DISABLE", "1")
    env.update(extra)
    return env


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, *, runs: int, work: Path, extra_env: Mapping[str, str]) -> None:
        self.runs = runs
        self.work = work
        self.extra_env = dict(extra_env)
        self.samples: dict[str, list[Sample]] = {}
        self._outdirs = 0
        self.main_reads_config_dir = CONFIG_DIR_VAR in (REPO_ROOT / "main.py").read_text()

    def _synth(self, name: str, command: Sequence[str], env: Mapping[str, str]) -> None:
        self._outdirs += 1
        outdir = self.work / f"out-{self._outdirs}"
        sample = measure(command, env=_env({**self.extra_env, **env, "CDKTF_OUTDIR": str(outdir)}), cwd=REPO_ROOT)
        shutil.rmtree(outdir, ignore_errors=True)
        self.samples.setdefault(name, []).append(sample)
        _log(f"  {name:<10} {sample.wall_s:6.2f} s  {sample.peak_rss_mb:6.0f} MB")

    def _synth_dir(self, name: str, config_dir: Path) -> None:
        if self.main_reads_config_dir:
            self._synth(name, [sys.executable, "main.py"], {CONFIG_DIR_VAR: str(config_dir)})
        else:
            self._synth(name, [sys.executable, "-c", FROM_DIR], {"BENCH_CONFIG_DIR": str(config_dir)})

    def interleaved(self, scenarios: Sequence[tuple[str, Callable[[], None]]]) -> None:
        for round_ in range(1, self.runs + 1):
            _log(f"round {round_}/{self.runs}")
            for _, action in scenarios:
                action()

    def synth_scenarios(self, *, naive: bool) -> list[tuple[str, Callable[[], None]]]:
        scenarios: list[tuple[str, Callable[[], None]]] = [
            ("fresh", lambda: self._synth("fresh", [sys.executable, "main.py"], {}))
        ]
        if naive:
            scenarios.append(("naive", lambda: self._synth("naive", [sys.executable, "-c", NAIVE], {})))
        return scenarios

    def dir_scenarios(self, name: str, config_dir: Path) -> list[tuple[str, Callable[[], None]]]:
        return [(name, lambda: self._synth_dir(name, config_dir))]


def _markers() -> list[str]:
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        declared = tomllib.load(handle).get("tool", {}).get("pytest", {}).get("ini_options", {}).get("markers", [])
    return [str(marker).split(":", 1)[0].strip() for marker in declared]


def hermetic_command() -> list[str]:
    excluded = [marker for marker in HERMETIC_EXCLUDED_MARKERS if marker in _markers()]
    expression = " and ".join(f"not {marker}" for marker in excluded)
    return [sys.executable, "-m", "pytest", "-q", *(["-m", expression] if expression else [])]


def whole_suite_commands() -> tuple[str, list[list[str]]]:
    """README's `make test`; its steps run directly when `make` would first (re)install dependencies."""
    makefile = REPO_ROOT / "Makefile"
    if not makefile.exists() or shutil.which("make") is None:
        return "pytest", [[sys.executable, "-m", "pytest", "-q"]]
    stamps = ["--question", ".make/python", ".make/node"]
    up_to_date = subprocess.run(["make", *stamps], cwd=REPO_ROOT, capture_output=True, check=False).returncode == 0
    if up_to_date:
        return "make test", [["make", "test"]]
    steps = [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"], ["pytest", "-q"]]
    return "make test steps (install skipped)", [[sys.executable, "-m", *step] for step in steps]


def time_suite(label: str, commands: Sequence[Sequence[str]], extra_env: Mapping[str, str]) -> dict[str, Any]:
    _log(f"{label}: {' && '.join(' '.join(c) for c in commands)}")
    steps: list[dict[str, Any]] = []
    for command in commands:
        outcome = run(command, env=_env(extra_env), cwd=REPO_ROOT)
        steps.append(
            {
                "command": " ".join(command),
                "wall_s": outcome.sample.wall_s,
                "peak_rss_mb": outcome.sample.peak_rss_mb,
                "returncode": outcome.returncode,
                "output_tail": outcome.output_tail if outcome.returncode else "",
            }
        )
        _log(f"  {steps[-1]['command']}: {outcome.sample.wall_s:.1f} s, exit {outcome.returncode}")
    return {
        "label": label,
        "wall_s": sum(step["wall_s"] for step in steps),
        "peak_rss_mb": max(step["peak_rss_mb"] for step in steps),
        "passed": all(step["returncode"] == 0 for step in steps),
        "steps": steps,
    }


def derive(samples: Mapping[str, list[Sample]], suites: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    med = {name: statistics.median(s.wall_s for s in runs) for name, runs in samples.items()}
    derived: dict[str, Any] = {}
    if "fresh" in med:
        derived["fresh_wall_s"] = med["fresh"]
        derived["peak_rss_mb"] = statistics.median(s.peak_rss_mb for s in samples["fresh"])
    if "fresh" in med and "naive" in med:
        derived["fresh_to_naive_ratio"] = med["fresh"] / med["naive"]
    envs = sorted((int(name.split("=")[1]), value) for name, value in med.items() if name.startswith("envs="))
    if len(envs) >= 2:
        fit = statistics.linear_regression([float(n) for n, _ in envs], [t for _, t in envs])
        derived["per_extra_env_s"] = fit.slope
        derived["per_extra_env_note"] = f"least-squares slope of median wall time over {[n for n, _ in envs]} environments"
    rules = sorted((int(name.split("=")[1]), value) for name, value in med.items() if name.startswith("rules="))
    if len(rules) >= 2:
        (low, low_t), (high, high_t) = rules[0], rules[-1]
        derived["rules_added_s"] = (high_t - low_t) * 1000 / (high - low)
        derived["rules_added_note"] = f"(median at {high} rules - median at {low}) scaled to 1,000 rules, one environment"
    for key, suite in suites.items():
        derived[f"{key}_suite_s"] = suite["wall_s"]
        derived[f"{key}_suite_passed"] = suite["passed"]
    return derived


def check_targets(derived: Mapping[str, Any]) -> list[dict[str, Any]]:
    checked = []
    for target in TARGETS:
        value = derived.get(target.key)
        measured = value if isinstance(value, float) and math.isfinite(value) else None
        verdict = "not run" if measured is None else ("pass" if measured <= target.limit else "FAIL")
        if derived.get(target.key.replace("_suite_s", "_suite_passed")) is False:
            verdict = "FAIL (tests failed)"
        checked.append({**asdict(target), "value": measured, "verdict": verdict})
    return checked


def _fmt(stat: Mapping[str, float], digits: int) -> str:
    return " / ".join(f"{stat[k]:.{digits}f}" for k in ("min", "median", "max"))


def report(result: Mapping[str, Any]) -> str:
    lines = [f"runs per scenario: {result['runs']}   (min / median / max)", ""]
    lines.append(f"{'scenario':<14}{'wall time (s)':<24}{'peak RSS, tree (MB)':<24}")
    for name, figures in result["scenarios"].items():
        lines.append(f"{name:<14}{_fmt(figures['wall_s'], 2):<24}{_fmt(figures['peak_rss_mb'], 0):<24}")
    for key, suite in result["suites"].items():
        state = "passed" if suite["passed"] else "FAILED"
        lines.append(f"{key + ' suite':<14}{suite['wall_s']:.1f} s, {state}: {suite['label']}")
        lines += [f"{'':<16}{step['wall_s']:7.1f} s  exit {step['returncode']}  {step['command']}" for step in suite["steps"]]
    lines += ["", f"{'target':<36}{'measured':>12}{'limit':>10}  verdict"]
    for target in result["targets"]:
        value = "-" if target["value"] is None else f"{target['value']:.2f}"
        lines.append(f"{target['label']:<36}{value:>12}{target['limit']:>9g}{target['unit']:<2} {target['verdict']}")
    return "\n".join(lines)


def _machine() -> dict[str, Any]:
    def output(command: list[str]) -> str:
        try:
            return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return ""

    return {
        "python": platform.python_version(),
        "node": output(["node", "--version"]),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "commit": output(["git", "rev-parse", "--short", "HEAD"]),
        "psutil": "psutil" in sys.modules,
    }


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.synth", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (default 3)")
    parser.add_argument("--envs", default="1,3,10,30", help="environment counts to scale over (default 1,3,10,30)")
    parser.add_argument("--rules", default="1,100,1000", help="include-rule counts to scale over (default 1,100,1000)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive (whole provider package) synth")
    parser.add_argument("--no-scaling", action="store_true", help="skip the environment and rule scaling")
    parser.add_argument("--suite", action="store_true", help="also time the hermetic test suite")
    parser.add_argument("--all", action="store_true", help="also time the hermetic suite and the whole `make test`")
    parser.add_argument(
        "--set-env", action="append", default=[], metavar="KEY=VALUE", help="extra environment for every synth (experiments)"
    )
    parser.add_argument("--label", default="", help="free text stored with the results (e.g. the experiment)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    extra_env = dict(item.split("=", 1) for item in args.set_env)
    started = datetime.now(UTC)
    machine = _machine()
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        work = Path(tmp)
        bench = Bench(runs=args.runs, work=work, extra_env=extra_env)
        scenarios = bench.synth_scenarios(naive=not args.no_naive)
        if not args.no_scaling:
            for count in (int(n) for n in args.envs.split(",") if n):
                scenarios += bench.dir_scenarios(f"envs={count}", environments_dir(CONFIG_DIR, work / f"envs-{count}", count))
            for count in (int(n) for n in args.rules.split(",") if n):
                scenarios += bench.dir_scenarios(f"rules={count}", include_rules_dir(CONFIG_DIR, work / f"rules-{count}", count))
        try:
            bench.interleaved(scenarios)
        except CommandFailedError as failure:
            _log(f"synth failed: {failure}")
            return 1
    suites: dict[str, dict[str, Any]] = {}
    if args.suite or args.all:
        suites["hermetic"] = time_suite("hermetic", [hermetic_command()], extra_env)
    if args.all:
        label, commands = whole_suite_commands()
        suites["whole"] = time_suite(label, commands, extra_env)

    derived = derive(bench.samples, suites)
    result: dict[str, Any] = {
        "schema": 1,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "label": args.label,
        "runs": args.runs,
        "machine": {**machine, "load_average_after": os.getloadavg()},
        "extra_env": extra_env,
        "environments_in_config": len(list(CONFIG_DIR.glob("*.toml"))),
        "scenarios": {
            name: {
                "wall_s": _stats(s.wall_s for s in runs),
                "peak_rss_mb": _stats(s.peak_rss_mb for s in runs),
                "peak_single_process_mb": _stats(s.peak_single_mb for s in runs),
                "samples": [asdict(s) for s in runs],
            }
            for name, runs in bench.samples.items()
        },
        "suites": suites,
        "derived": derived,
        "targets": check_targets(derived),
    }
    print(report(result))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, allow_nan=False) + "\n"
    stamped = RESULTS_DIR / f"synth-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    stamped.write_text(text)
    (RESULTS_DIR / "latest.json").write_text(text)
    print(f"\nwritten: {stamped.relative_to(REPO_ROOT)} and bench/results/latest.json")
    return 0


if __name__ == "__main__":
    started_at = time.perf_counter()
    code = main()
    _log(f"benchmark took {time.perf_counter() - started_at:.0f} s")
    sys.exit(code)
