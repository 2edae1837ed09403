"""Replace a directory, or each entry of one, as a whole: readers see the old or the new, never a half-written one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """Yield an empty sibling of `target` to fill; on a clean exit it replaces `target` (two renames).

    On an exception nothing changes and the staging directory is removed. The sibling lives in the same parent,
    so both renames stay on one filesystem. Between the two renames `target` is briefly absent; the previous
    content sits in `.<name>.previous` until the new one is in place.
    """
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield staging
        previous = target.with_name(f".{target.name}.previous")
        shutil.rmtree(previous, ignore_errors=True)
        if target.exists():
            os.replace(target, previous)
        os.replace(staging, target)
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def replace_entries(source: Path, target: Path, *, carry: Sequence[str] = (), prune: bool = False) -> list[str]:
    """Move every entry of `source` into `target`, each replacing the entry of its name whole; keep the others.

    The keep-others mode of `staged_directory`, one level down: each entry is renamed into place (a folder's previous
    content waits in `.<name>.previous` meanwhile), so a reader sees its old or its new content, never a mix. What
    matches a `carry` glob in a replaced folder moves into its replacement (after the swap, so a failure leaves it in
    `.<name>.previous`, never deleted). Entries of `target` that `source` lacks are kept (hidden ones are not named)
    and their names returned; with `prune` they are removed instead (and their names returned).
    """
    target.mkdir(parents=True, exist_ok=True)
    incoming = sorted(entry.name for entry in source.iterdir())
    for name in incoming:
        new, old = source / name, target / name
        previous = target / f".{name}.previous"
        _remove(previous)
        if old.exists() or old.is_symlink():
            os.replace(old, previous)
        try:
            os.replace(new, old)
        except OSError:
            if previous.exists() or previous.is_symlink():
                os.replace(previous, old)
            raise
        if previous.is_dir() and old.is_dir():
            for pattern in carry:
                for kept in sorted(previous.glob(pattern)):
                    os.replace(kept, old / kept.name)
        _remove(previous)
    others = sorted(entry.name for entry in target.iterdir() if entry.name not in incoming and not entry.name.startswith("."))
    if prune:
        for name in others:
            _remove(target / name)
    return others


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
