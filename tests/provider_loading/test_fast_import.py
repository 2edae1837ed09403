"""The fast provider load (provider_loading/fast_import.py) changes nothing in the output, and really is fast.

Every environment is synthesized in fresh processes, as `python main.py` runs:
twice through the fast path and once through the naive path, the fallback
main.py takes when the installed provider is not the version the loader was
written for (simulated here): a warning, then the plain import of the whole
`cdktf_cdktf_provider_aws` package (15-20 s, ~600 MB). Every file under
stacks/ must be byte-identical. The second fast process and the naive one also
report which provider package they imported.

Cost: ~20 s wall on an idle 2-core machine (~20 s CPU for the naive process,
~5 s per fast one); the naive process runs in the background while the two
fast ones run one after the other, so at most two processes run at a time.
The other tests here take well under a second each.
This file is the guard issue 10 asks for: keep it in the normal suite.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import types
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config import EnvironmentConfig
from provider_loading import fast_import
from provider_loading.fast_import import DISTRIBUTION, PACKAGE, WRITTEN_FOR, enable_fast_provider_import, fast_import_active
from tests.conftest import REPO_ROOT

OTHER_VERSION = "0.0.0-not-installed"
MAX_RESOURCE_MODULES = 60  # the stack uses ~35 resource modules (each with a `_private` child); the naive import loads ~2,135
TIMEOUT_S = 300

# Inputs that would change what main.py synthesizes: the test runs the checked-in configs only.
SWITCHES = ("ENVIRONMENT_SUFFIX", "ENVIRONMENT_BASE", "AURORA_MIGRATION_CONFIG_DIR", "AURORA_MIGRATION_TEST_EMULATOR_URL")

# What main.py imported, printed after it ran (`python main.py` as runpy runs it).
PROBE = f"""
import modules.aws
package = sys.modules[{PACKAGE!r}]
print(json.dumps({{
    "submodules": sorted(m for m in sys.modules if m.startswith({PACKAGE + "."!r})),
    "package_file": getattr(package, "__file__", None),
}}))
"""
RUN_MAIN = """
import json, runpy, sys
sys.argv = ["main.py"]
try:
    runpy.run_path("main.py", run_name="__main__")
except SystemExit as exit_:
    if exit_.code not in (0, None):
        raise
"""
# The second fast synth: main.py as `python main.py` runs it, then a look at what it imported.
SYNTH_AND_PROBE = RUN_MAIN + PROBE
# The naive synth: main.py with a loader written for another provider version, so it falls back to the plain import.
NAIVE = f"import provider_loading.fast_import as loading\nloading.WRITTEN_FOR = {OTHER_VERSION!r}\n" + RUN_MAIN + PROBE
# Importing modules.aws alone: the first provider import it makes must reach the real package's finder.
IMPORT_ONLY = f"""
import json, sys

class Reached(Exception):
    pass

class RealPackageFinder:
    def find_spec(self, name, path=None, target=None):
        if name == {PACKAGE!r}:
            raise Reached(name)
        return None

sys.meta_path.insert(0, RealPackageFinder())
try:
    import modules.aws
except Reached:
    reached = True
else:
    reached = False
print(json.dumps({{
    "reached_real_package": reached,
    "package_registered": {PACKAGE!r} in sys.modules,
    "loader_modules": sorted(m for m in sys.modules if m.split(".")[0] == "provider_loading"),
}}))
"""


@dataclass(frozen=True)
class SynthRuns:
    fast: Path
    fast_again: Path
    naive: Path
    probe: dict[str, object]
    naive_probe: dict[str, object]
    naive_stderr: str


def _env(outdir: Path | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SWITCHES}
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


def _last_json_line(text: str) -> dict[str, object]:
    value = json.loads(text.splitlines()[-1])
    assert isinstance(value, dict)
    return value


@pytest.fixture(scope="module")
def synth_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynthRuns]:
    root = tmp_path_factory.mktemp("fast-import")
    naive_out, naive_stdout, naive_log = root / "naive", root / "naive.stdout", root / "naive.stderr"
    with naive_stdout.open("w") as out, naive_log.open("w") as log:
        naive = subprocess.Popen([sys.executable, "-c", NAIVE], cwd=REPO_ROOT, env=_env(naive_out), stdout=out, stderr=log)
        try:
            _run(["main.py"], _env(root / "fast"))
            probe = _last_json_line(_run(["-c", SYNTH_AND_PROBE], _env(root / "fast-again")))
            returncode = naive.wait(timeout=TIMEOUT_S)
        finally:
            if naive.poll() is None:
                naive.kill()
                naive.wait()
    assert returncode == 0, f"naive synth failed:\n{naive_log.read_text()[-4000:]}"
    yield SynthRuns(
        fast=root / "fast",
        fast_again=root / "fast-again",
        naive=naive_out,
        probe=probe,
        naive_probe=_last_json_line(naive_stdout.read_text()),
        naive_stderr=naive_log.read_text(),
    )


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
    assert synth_runs.probe["package_file"] is None, (
        f"{PACKAGE} is the real package, not the light stand-in (was the installed version {WRITTEN_FOR}?)"
    )


def test_another_provider_version_falls_back_to_the_plain_import_with_a_warning(synth_runs: SynthRuns) -> None:
    """The naive synth above is main.py with the loader expecting another version: it warns and imports the package."""
    installed = importlib.metadata.version(DISTRIBUTION)
    warning = re.search(r"ProviderVersionWarning: (.*)", synth_runs.naive_stderr)

    assert warning is not None, f"no version warning on stderr:\n{synth_runs.naive_stderr[-4000:]}"
    assert f"{DISTRIBUTION} {installed} is installed" in warning.group(1)
    assert f"written for {OTHER_VERSION}" in warning.group(1)
    assert synth_runs.naive_probe["package_file"], f"{PACKAGE} is the stand-in although the versions differ"


def test_importing_modules_aws_alone_imports_the_real_package() -> None:
    """No import side effect: without the loader, `import modules.aws` asks for the real package, nothing is registered."""
    result = _last_json_line(_run(["-c", IMPORT_ONLY], _env()))

    assert result["reached_real_package"] is True, "modules.aws did not import the real package: something registered it"
    assert result["package_registered"] is False
    assert result["loader_modules"] == [], "importing modules.aws imported the provider loader"


def test_the_session_uses_the_stand_in_and_a_second_call_changes_nothing() -> None:
    """tests/conftest.py called the loader at session start; calling it again is harmless."""
    package = sys.modules[PACKAGE]

    assert fast_import_active(), f"the test session imported the real {PACKAGE}"
    assert enable_fast_provider_import() is True
    assert sys.modules[PACKAGE] is package


def test_a_package_imported_before_the_loader_is_used_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark's naive path imports the whole package first: the loader then does nothing, and does not warn."""
    already = types.ModuleType(PACKAGE)
    already.__file__ = "/site-packages/cdktf_cdktf_provider_aws/__init__.py"
    monkeypatch.setitem(sys.modules, PACKAGE, already)
    monkeypatch.setattr(fast_import, "WRITTEN_FOR", OTHER_VERSION)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert enable_fast_provider_import() is False
    assert sys.modules[PACKAGE] is already


def test_the_loader_is_written_for_the_pinned_and_installed_provider() -> None:
    pinned = re.search(rf'^{DISTRIBUTION} = "==([^"]+)"$', (REPO_ROOT / "Pipfile").read_text(), re.MULTILINE)

    assert pinned is not None, f"Pipfile does not pin {DISTRIBUTION} to one version"
    assert WRITTEN_FOR == pinned.group(1) == importlib.metadata.version(DISTRIBUTION), (
        "the provider version changed: run this file against it, then update provider_loading/fast_import.py WRITTEN_FOR"
    )
