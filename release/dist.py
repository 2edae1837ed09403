"""Where the archives go: a `--dist` directory the builder may replace, or a refusal (exit 2) that deletes nothing.

The builder replaces the directory as a whole (plumbing.atomic_dir), so it must hold nothing but what the builder
wrote before: its archives, each listed in its SHA256SUMS, and that file. It is refused when it is, or contains, the
repository, when it is a git work tree or lies inside a `.git` folder, when it is not a directory, and when it holds
anything else (another file, a folder, a link, an archive SHA256SUMS does not list).
"""

from __future__ import annotations

from pathlib import Path

from release.source import REPO_ROOT

CHECKSUMS_FILE = "SHA256SUMS"
ARCHIVE_SUFFIX = ".tar.gz"
GIT_DIR = ".git"
MAX_NAMED = 5


class DistError(Exception):
    """The directory is not the builder's to replace (exit 2, nothing written or deleted)."""


def _listed_archives(checksums: Path) -> set[str]:
    """The archive names a SHA256SUMS the builder wrote lists (`<sha256>  <name>` per line)."""
    try:
        lines = checksums.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    names = {line.partition("  ")[2] for line in lines}
    return {name for name in names if name.endswith(ARCHIVE_SUFFIX) and "/" not in name}


def builder_files(dist: Path) -> set[str]:
    """The names in `dist` the builder wrote: SHA256SUMS and the archives it lists."""
    checksums = dist / CHECKSUMS_FILE
    if not checksums.is_file() or checksums.is_symlink():
        return set()
    return {CHECKSUMS_FILE} | _listed_archives(checksums)


def check_dist(dist: Path, repo: Path = REPO_ROOT) -> Path:
    """The resolved directory if the builder may replace it; DistError naming why not."""
    target = dist.resolve()
    repo = repo.resolve()
    if target == repo or repo.is_relative_to(target):
        raise DistError(f"--dist {target} is, or contains, the repository {repo}: name a folder of its own (e.g. dist/)")
    if GIT_DIR in target.parts:
        raise DistError(f"--dist {target} is inside a .git folder")
    if not target.exists():
        return target
    if not target.is_dir():
        raise DistError(f"--dist {target} is not a directory")
    if (target / GIT_DIR).exists():
        raise DistError(f"--dist {target} is a git work tree: name a folder of its own (e.g. dist/)")
    ours = builder_files(target)
    foreign = sorted(
        f"{entry.name}/" if entry.is_dir() else entry.name
        for entry in target.iterdir()
        if entry.name not in ours or entry.is_symlink() or not entry.is_file()
    )
    if foreign:
        shown = ", ".join(foreign[:MAX_NAMED]) + (f" and {len(foreign) - MAX_NAMED} more" if len(foreign) > MAX_NAMED else "")
        raise DistError(
            f"--dist {target} holds files the builder did not write: {shown} (it replaces the folder as a whole: "
            "name an empty or new folder, or one holding only a previous build)"
        )
    return target
