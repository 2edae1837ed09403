"""The audit log of the cutover decisions: JSON lines appended to --audit-log, for every stop, pause and reload.

What is recorded when: before the command changes anything it writes its intent (`"intent": "stopping"`,
`"truncating"`, `"pausing"`, with the gate results, whether the stop is forced and the reason), and after the change
its outcome (`"outcome": <task status>`, `"refused"`, `"error: ..."`). Every line is flushed and fsync'ed before the
command goes on: an intent the disk does not hold never precedes a StopReplicationTask. A log that cannot be opened
or written is an `AuditError` (exit 2) raised before the action, so nothing is ever stopped or truncated without its
record.

Each line names the operator: the OS user and the AWS caller identity (STS GetCallerIdentity). Strings are
written verbatim (JSON-escaped by `json.dumps`), except the values of password settings and the user-info of URIs
(`postgres.redact`): the audit trail never holds a password.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from migration_ops.cutover.record_model import Operator
from migration_ops.errors import OpsError
from migration_ops.postgres import redact

DEFAULT_AUDIT_LOG = Path("cutover-audit.jsonl")


class AuditError(OpsError):
    """The audit log cannot be opened or written: the command refuses to act (exit 2)."""


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(key): _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


def require_identity(operator: Operator) -> Operator:
    """`operator` when it has the AWS caller ARN. Raises AuditError otherwise.

    Refusing is deliberate: the record of a stop, pause or reload must say who did it, and the OS user alone does
    not (shared bastions, `sudo`); GetCallerIdentity needs no IAM permission, so when it fails the credentials
    themselves are missing, expired or pointed at the wrong endpoint, and the DMS call would most likely fail next.
    """
    if operator.aws_caller_arn:
        return operator
    raise AuditError(
        f"cannot tell who is acting: STS GetCallerIdentity failed ({operator.aws_identity_error or 'no answer'}); "
        "the audit log must name the AWS identity, so nothing was changed (check the AWS credentials)"
    )


class AuditLog:
    """Opened before anything is changed, so an unwritable log stops the command before it acts."""

    def __init__(self, path: Path, operator: Operator) -> None:
        self.path = path
        self.operator = operator
        try:
            self._handle: IO[str] = path.open("a", encoding="utf-8")
        except OSError as error:
            raise AuditError(f"--audit-log {path}: cannot append ({error.strerror or error}); nothing was changed") from None

    def write(self, action: str, arn: str, **fields: Any) -> None:
        """One JSON line, flushed and fsync'ed. Raises AuditError (the caller has not acted yet, or says it has)."""
        record: dict[str, Any] = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "action": action, "task_arn": arn}
        record["operator"] = {"os_user": self.operator.os_user, "aws_caller_arn": self.operator.aws_caller_arn}
        record.update(fields)
        line = json.dumps(_redacted(record), default=str) + "\n"
        try:
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except (OSError, ValueError) as error:  # ValueError: the handle was closed
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise AuditError(f"--audit-log {self.path}: cannot write ({reason})") from None

    def close(self) -> None:
        with contextlib.suppress(OSError):  # every line was already fsync'ed
            self._handle.close()
