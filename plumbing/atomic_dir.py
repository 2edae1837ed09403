"""Replace a directory as a whole: readers see the old one or the new one, never a half-written one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
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
