"""`python -m release --dist DIR` replaces only what the builder wrote (issue #25 box 9).

Before, DIR was replaced as a whole: other files in it were deleted, and `--dist .` in a clone deleted the work
tree and `.git`. The build here is real except for terraform (a fake lock) and the synth (the committed dev
snapshot), so a refusal that does not happen would really delete the throw-away directories.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from plumbing.exit_codes import ExitCode
from release import __main__ as release_cli
from release import archive
from release.dist import CHECKSUMS_FILE, DistError, check_dist
from release.lock import Lock
from review.terraform_validate import Toolchain
from tests.conftest import REPO_ROOT

STACK = "aurora-migration-dev"
SNAPSHOT = REPO_ROOT / "tests" / "review" / "snapshots" / f"{STACK}.json"
AWS = "registry.terraform.io/hashicorp/aws"


@pytest.fixture
def fake_toolchain(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Everything but terraform: the synth is the committed snapshot, the lock file a fixed text."""
    synth = tmp_path_factory.mktemp("synth")
    (synth / "stacks" / STACK).mkdir(parents=True)
    (synth / "stacks" / STACK / "cdk.tf.json").write_bytes(SNAPSHOT.read_bytes())
    monkeypatch.setattr(release_cli, "locate", lambda: Toolchain(terraform=Path("terraform"), mirror=synth))
    monkeypatch.setattr(archive, "terraform_version", lambda toolchain: "1.11.4")
    monkeypatch.setattr(archive, "synthesize", lambda outdir, environ, repo: synth / "stacks")
    lock = Lock(text="# lock\n", platforms=("linux_amd64",), providers={AWS: "5.100.0"})
    monkeypatch.setattr(archive, "lock_providers", lambda toolchain, required, workdir: lock)


def _git_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "README.md").write_text("a clone\n")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
    }
    for command in (["init", "-q"], ["add", "README.md"], ["commit", "-q", "-m", "one"]):
        subprocess.run(["git", *command], cwd=path, env=env, check=True, capture_output=True)
    return path


def _tree(path: Path) -> set[str]:
    return {str(item.relative_to(path)) for item in path.rglob("*")}


@pytest.mark.usefixtures("fake_toolchain")
def test_dist_dot_in_a_git_clone_is_refused_and_nothing_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = _git_repo(tmp_path / "clone")
    before = _tree(clone)
    monkeypatch.chdir(clone)

    code = release_cli.main(["--dist", "."])

    assert code == ExitCode.ERROR
    assert _tree(clone) == before and (clone / ".git" / "HEAD").is_file()
    err = capsys.readouterr().err
    assert err.startswith(f"package refused: --dist {clone} is a git work tree") and err.count("\n") == 1


@pytest.mark.usefixtures("fake_toolchain")
def test_a_dist_holding_a_foreign_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "notes.txt").write_text("mine\n")
    (dist / "old.tar.gz").write_bytes(b"not listed in any SHA256SUMS")

    code = release_cli.main(["--dist", str(dist)])

    assert code == ExitCode.ERROR
    assert _tree(dist) == {"notes.txt", "old.tar.gz"}
    err = capsys.readouterr().err
    assert f"--dist {dist} holds files the builder did not write: notes.txt, old.tar.gz" in err


@pytest.mark.usefixtures("fake_toolchain")
def test_a_dist_that_is_the_parent_of_a_repository_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clone = _git_repo(tmp_path / "parent" / "clone")
    before = _tree(tmp_path)

    code = release_cli.main(["--dist", str(clone.parent)])

    assert code == ExitCode.ERROR and _tree(tmp_path) == before
    assert "holds files the builder did not write: clone/" in capsys.readouterr().err


def test_a_dist_that_is_or_contains_this_repository_is_refused(tmp_path: Path) -> None:
    """Checked without building: the repository itself, and any folder above it."""
    repo = _git_repo(tmp_path / "work" / "repo")
    for dist in (repo, repo.parent, tmp_path):
        with pytest.raises(DistError, match="is, or contains, the repository"):
            check_dist(dist, repo=repo)
    with pytest.raises(DistError, match=r"inside a \.git folder"):
        check_dist(repo / ".git" / "dist", repo=tmp_path / "elsewhere")
    (tmp_path / "file").write_text("")
    with pytest.raises(DistError, match="is not a directory"):
        check_dist(tmp_path / "file", repo=repo)


@pytest.mark.usefixtures("fake_toolchain")
def test_a_previous_build_is_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A dist holding only what the builder wrote (its archives, listed in SHA256SUMS) is replaced: stale archives go."""
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "aurora-migration-gone.tar.gz").write_bytes(b"an environment removed since")
    (dist / CHECKSUMS_FILE).write_text("0" * 64 + "  aurora-migration-gone.tar.gz\n")

    assert release_cli.main(["--dist", str(dist)]) == ExitCode.OK
    assert _tree(dist) == {f"{STACK}.tar.gz", CHECKSUMS_FILE}
    assert release_cli.main(["--dist", str(dist)]) == ExitCode.OK  # its own output again
    assert release_cli.main(["--dist", str(tmp_path / "new" / "dist")]) == ExitCode.OK
    assert f"  {dist / STACK}.tar.gz" in capsys.readouterr().out
