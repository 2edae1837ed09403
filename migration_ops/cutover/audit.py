"""The audit log of the cutover decisions: JSON lines appended to --audit-log, one per stop, pause or reload."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from migration_ops.errors import UsageError

DEFAULT_AUDIT_LOG = Path("cutover-audit.jsonl")


class AuditLog:
    """Opened before anything is changed, so an unwritable log stops the command before it acts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._handle: IO[str] = path.open("a", encoding="utf-8")
        except OSError as error:
            raise UsageError(f"--audit-log {path}: cannot append ({error.strerror})") from None

    def write(self, action: str, arn: str, **fields: Any) -> None:
        record = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "action": action, "task_arn": arn}
        record.update(operator=getpass.getuser(), **fields)
        self._handle.write(json.dumps(record, default=str) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()
