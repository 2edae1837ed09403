"""Write a file whole: a reader sees the old content or the new, never a half-written file."""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path


def write_whole(path: Path, text: str) -> None:
    """`text` into a temporary file beside `path`, flushed and fsync'ed, then renamed to `path`.

    POSIX rename(2) replaces atomically; a crash leaves at most a `.<name>.*.tmp` beside `path`. The parent must
    exist. `fsync_directory` afterwards makes the rename itself durable.
    """
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def fsync_directory(directory: Path) -> None:
    """Make the renames in `directory` durable; a platform without directory fsync only loses that guarantee."""
    with suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
