"""The fast import of the AWS provider (modules/aws.py) changes nothing in the output, and really is fast.

Every environment is synthesized in fresh processes, as `python main.py` runs:
twice through the fast path and once through the naive path, where the whole
`cdktf_cdktf_provider_aws` package is imported first (15-20 s, ~600 MB; the
module then uses it as is). Every file under stacks/ must be byte-identical.
The second fast process also reports which provider modules it imported.

Cost: ~20 s wall on an idle 2-core machine (~20 s CPU for the naive process,
~5 s per fast one); the naive process runs in the background while the two
fast ones run one after the other, so at most two processes run at a time.
This file is the guard issue 10 asks for: keep it in the normal suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config import EnvironmentConfig
from tests.conftest import REPO_ROOT

PACKAGE = "cdktf_cdktf_provider_aws"
MAX_RESOURCE_MODULES = 60  # the stack uses ~35 resource modules (each with a `_private` child); the naive import loads ~2,135
TIMEOUT_S = 300

# Inputs that would change what main.py synthesizes: the test runs the checked-in configs only.
SWITCHES = ("ENVIRONMENT_SUFFIX", "ENVIRONMENT_BASE", "AURORA_MIGRATION_CONFIG_DIR", "AURORA_MIGRATION_TEST_EMULATOR_URL")

NAIVE = "import cdktf_cdktf_provider_aws, runpy, sys; sys.argv = ['main.py']; runpy.run_path('main.py', run_name='__main__')"
# The second fast synth: main.py as `python main.py` runs it, then a look at what it imported.
SYNTH_AND_PROBE = f"""
import json, runpy, sys
sys.argv = ["main.py"]
try:
    runpy.run_path("main.py", run_name="__main__")
except SystemExit as exit_:
    if exit_.code not in (0, None):
        raise
import modules.aws
package = sys.modules[{PACKAGE!r}]
print(json.dumps({{
    "submodules": sorted(m for m in sys.modules if m.startswith({PACKAGE + "."!r})),
    "package_file": getattr(package, "__file__", None),
}}))
"""


@dataclass(frozen=True)
class SynthRuns:
    fast: Path
    fast_again: Path
    naive: Path
    probe: dict[str, object]


def _env(outdir: Path | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SWITCHES}
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.setdefault("CHECKPOINT_DISABLE", "1")
    if outdir is not None:
        env["CDKTF_OUTDIR"] = str(outdir)
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    assert result.returncode == 0, f"{args[:2]} failed:\n{result.stderr[-4000:]}"
    return result.stdout


def _stack_files(outdir: Path) -> dict[str, bytes]:
    stacks = outdir / "stacks"
    return {str(path.relative_to(stacks)): path.read_bytes() for path in sorted(stacks.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def synth_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynthRuns]:
    root = tmp_path_factory.mktemp("fast-import")
    naive_out, naive_log = root / "naive", root / "naive.stderr"
    with naive_log.open("w") as log:
        naive = subprocess.Popen(
            [sys.executable, "-c", NAIVE], cwd=REPO_ROOT, env=_env(naive_out), stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            _run(["main.py"], _env(root / "fast"))
            probe = json.loads(_run(["-c", SYNTH_AND_PROBE], _env(root / "fast-again")).splitlines()[-1])
            returncode = naive.wait(timeout=TIMEOUT_S)
        finally:
            if naive.poll() is None:
                naive.kill()
                naive.wait()
    assert returncode == 0, f"naive synth failed:\n{naive_log.read_text()[-4000:]}"
    yield SynthRuns(fast=root / "fast", fast_again=root / "fast-again", naive=naive_out, probe=probe)


def test_fast_path_output_is_byte_identical_to_the_naive_import(
    synth_runs: SynthRuns, environments: dict[str, EnvironmentConfig]
) -> None:
    fast, naive = _stack_files(synth_runs.fast), _stack_files(synth_runs.naive)

    expected = {f"{config.stack_name}/cdk.tf.json" for config in environments.values()}
    assert expected <= set(fast), f"environments missing from the fast synth: {sorted(expected - set(fast))}"
    assert sorted(fast) == sorted(naive), "the two paths wrote different files"
    different = [name for name in fast if fast[name] != naive[name]]
    assert different == [], f"fast and naive synth differ in {different}"


def test_two_fast_synths_are_byte_identical(synth_runs: SynthRuns) -> None:
    first, second = _stack_files(synth_runs.fast), _stack_files(synth_runs.fast_again)

    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == [], f"synth is not deterministic: {different} differ between two runs"


def test_fast_path_loads_only_the_resource_modules_it_uses(synth_runs: SynthRuns) -> None:
    submodules = synth_runs.probe["submodules"]
    assert isinstance(submodules, list)

    resource_modules = {name.split(".")[1] for name in submodules} - {"_jsii"}

    assert f"{PACKAGE}._jsii" in submodules, "the provider's jsii assembly was not loaded"
    assert len(resource_modules) < MAX_RESOURCE_MODULES, (
        f"{len(resource_modules)} provider modules imported: the fast path is off"
    )
    assert synth_runs.probe["package_file"] is None, f"{PACKAGE} is the real package, not the light stand-in"
