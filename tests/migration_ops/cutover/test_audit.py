"""The audit trail of `cutover stop`: the intent is on disk (fsync) before StopReplicationTask, a log that cannot be
written refuses the stop (exit 2), the operator is the OS user and the STS caller ARN (refused without it), reasons
are verbatim and JSON-escaped, tags fit DMS's tag pattern, and no password is ever in it.

AWS: moto (in-process; a moto server thread for the process run as another user). Source: real PostgreSQL 15
(test_stop.py's fixtures).
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from migration_ops import aws
from migration_ops.cutover import dms_task, tags
from migration_ops.cutover.audit import AuditError, AuditLog
from migration_ops.cutover.record_model import Operator
from tests.conftest import REPO_ROOT
from tests.migration_ops.cutover.test_stop import Databases, audit_lines, dbs, ready_to_stop, running, stop
from tests.migration_ops.dms_fake import ModelAnswers, task_state

__all__ = ["dbs", "ready_to_stop", "running"]  # fixtures used here
PLANTED = "Pl4nted-Secr3t"
DMS_TAG_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-]*)$"  # botocore `dms` model, shape Tag, Key and Value


# --- tags -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DMS latency metric broken (case 4711); counts checked by hand",
         "DMS latency metric broken _case 4711__ counts checked by hand"),
        ("key=value a+b 1/2 x.y_z:w-v", "key=value a+b 1/2 x.y_z:w-v"),  # the documented punctuation
        ("Grüße aus Köln, 東京 ٣", "Grüße aus Köln_ 東京 ٣"),  # Unicode letters and digits are kept
        ("line one\nline\ttwo", "line one_line_two"),  # tab and newline are Cc, not \p{Z}
        ("non\u00a0breaking\u2028sep", "non\u00a0breaking\u2028sep"),  # Zs and Zl are \p{Z}
        ('say "no" — 100% <sure>', "say _no_ _ 100_ _sure_"),
        ("aws:reserved", "_aws:reserved"),
        ("DMS:reserved", "_DMS:reserved"),
        ("", "_"),
    ],
)  # fmt: skip
def test_tag_values_fit_dms_tag_pattern(text: str, expected: str) -> None:
    assert tags.sanitize(text) == expected


def test_the_sanitiser_agrees_with_the_documented_java_pattern_on_every_character() -> None:
    """\\p{L}, \\p{Z}, \\p{N} against `regex` (a dev dependency that has them), over the BMP and two plane-1 blocks.

    Characters this Python's Unicode database does not assign (Cn) are left out: `regex` may know a newer Unicode
    version, and replacing a character is always safe."""
    regex = pytest.importorskip("regex")
    pattern = regex.compile(DMS_TAG_PATTERN)
    codepoints = [point for point in (*range(0xD800), *range(0xE000, 0x10000), *range(0x1D400, 0x1D800), *range(0x1F600, 0x1F650))
                  if unicodedata.category(chr(point)) != "Cn"]  # fmt: skip
    # fullmatch: AWS matches the whole value (Java's Pattern.matches); `$` alone also matches before a final newline
    disagree = [hex(point) for point in codepoints if tags.allowed(chr(point)) != bool(pattern.fullmatch(chr(point)))]
    assert disagree == []
    for point in codepoints[::97]:
        assert pattern.fullmatch(tags.sanitize(chr(point) * 3)), hex(point)


def test_tag_length_is_counted_as_aws_counts_it() -> None:
    assert len(tags.sanitize("x" * 300)) == 256
    bold = "\U0001d400"  # MATHEMATICAL BOLD CAPITAL A: a letter, two UTF-16 units
    assert tags.sanitize(bold * 200) == bold * 128
    assert len(tags.sanitize("k" * 200, limit=tags.MAX_KEY_LENGTH)) == 128


# --- the log itself ------------------------------------------------------------------------------


def test_a_log_that_cannot_be_written_raises_and_reasons_stay_verbatim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, Operator(os_user="alice", aws_caller_arn="arn:aws:iam::111111111111:user/alice"))
    reason = 'case "4711"\nsecond line \\ Grüße {"password": "' + PLANTED + '"}'
    log.write("stop", "arn:task", reason=reason)
    [line] = path.read_text().splitlines()
    assert json.loads(line)["reason"] == reason.replace(f'"{PLANTED}"', "[redacted]")
    assert PLANTED not in line and "\\n" in line and "\n" not in line.rstrip("\n")

    def disk_full(_: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(AuditError, match=r"cannot write \(No space left on device\)"):
        log.write("stop", "arn:task", intent="stopping")
    log.close()
    with pytest.raises(AuditError, match="cannot append"):
        AuditLog(tmp_path / "missing-dir" / "audit.jsonl", log.operator)


# --- stop ---------------------------------------------------------------------------------------


def test_the_intent_is_on_disk_before_the_task_is_asked_to_stop(
    ready_to_stop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = ready_to_stop
    synced: list[int] = []
    real_fsync, real_stop = os.fsync, dms_task.stop_task
    seen_at_stop: list[list[dict[str, Any]]] = []

    def fsync(descriptor: int) -> None:
        synced.append(descriptor)
        real_fsync(descriptor)

    def stop_task(dms: Any, task_arn: str) -> str:
        assert synced, "the intent was fsync'ed before StopReplicationTask"
        seen_at_stop.append(audit_lines(tmp_path))
        return real_stop(dms, task_arn)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(dms_task, "stop_task", stop_task)
    assert stop(arn, tmp_path) == 0
    [[intent]] = seen_at_stop
    assert (intent["intent"], intent["forced"], intent["reason"]) == ("stopping", False, None)
    assert {gate["status"] for gate in intent["gates"]} == {"pass"} and len(intent["gates"]) >= 5
    assert intent["operator"]["os_user"] == pwd.getpwuid(os.getuid()).pw_name
    assert intent["operator"]["aws_caller_arn"] == "arn:aws:sts::123456789012:user/moto"
    assert [line.get("outcome") for line in audit_lines(tmp_path)] == [None, "stopped"]


def test_a_failing_audit_write_refuses_the_stop(
    ready_to_stop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = ready_to_stop

    def broken_disk(_: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_disk)
    assert stop(arn, tmp_path, "--json") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --audit-log ") and "cannot write (Input/output error)" in err
    assert len(err.splitlines()) == 1
    assert task_state(arn) == "running", "no stop without its record"


def test_without_the_aws_identity_nothing_is_stopped(
    ready_to_stop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = ready_to_stop
    installed = aws.session

    def session(region: str | None) -> boto3.session.Session:
        created = installed(region)

        def expired(**_: Any) -> None:
            raise ClientError({"Error": {"Code": "ExpiredToken", "Message": "the token expired"}}, "GetCallerIdentity")

        created.events.register("before-call.sts.GetCallerIdentity", expired)
        return created

    monkeypatch.setattr(aws, "session", session)
    assert stop(arn, tmp_path, "--force", "--reason", "testing") == 2
    err = capsys.readouterr().err
    assert "cannot tell who is acting: STS GetCallerIdentity failed" in err and "ExpiredToken" in err
    assert task_state(arn) == "running"
    assert audit_lines(tmp_path) == []


def test_a_reason_is_verbatim_and_no_password_reaches_the_trail(
    running: tuple[str, ModelAnswers], dbs: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    arn, answers = running
    # a source that cannot be reached: its URI (with a password) is what an error message could carry
    monkeypatch.setenv("SOURCE_DSN", f"postgresql://app:{PLANTED}@127.0.0.1:1/{dbs.source}")
    reason = f'validation "stuck" (case 4711)\nsee ticket — Grüße; PGPASSWORD={PLANTED} was used by hand'
    assert stop(arn, tmp_path, "--force", "--reason", reason, "--json") == 0
    captured = capsys.readouterr()
    intent, outcome = audit_lines(tmp_path)
    expected = reason.replace(PLANTED, "[redacted]")
    assert intent["reason"] == outcome["reason"] == expected
    assert "cannot connect to app@127.0.0.1:1" in json.dumps(intent["gates"])
    written = [(tmp_path / "audit.jsonl").read_text()]
    written += [path.read_text() for path in (tmp_path / "records").iterdir()]
    for text in [*written, captured.out, captured.err, json.dumps(answers.tags)]:
        assert PLANTED not in text
    tag = next(item["Value"] for item in answers.tags if item["Key"] == "cutover-forced-reason")
    assert tag == tags.sanitize(expected) and "\n" not in tag and "Grüße" in tag


# --- a log in a read-only directory ------------------------------------------------------------


@pytest.fixture
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


PR_CAPBSET_DROP = 24  # <linux/prctl.h>
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2  # <linux/capability.h>


def _without_dac_override() -> Any:
    """A preexec_fn for root: drop CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH from the bounding set, so the exec'd process
    has them neither and a directory's mode bits bind it as they bind an operator; None when we are not root."""
    if os.geteuid() != 0:
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def drop() -> None:
        for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return drop


def test_a_log_in_a_read_only_directory_refuses_the_stop(moto_server: str) -> None:
    root = Path(tempfile.mkdtemp(prefix="audit-ro-"))
    try:
        root.chmod(0o755)
        (root / "records").mkdir(mode=0o777)
        (root / "records").chmod(0o777)
        read_only = root / "read-only"
        read_only.mkdir()
        read_only.chmod(0o555)
        env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "HOME": str(root)}  # fmt: skip
        argv = [sys.executable, "-m", "migration_ops.cutover", "stop", "--env", "dev", "--endpoint-url", moto_server,
                "--task-arn", "arn:aws:dms:eu-west-1:123456789012:task:NEVERSTOPPED",
                "--audit-log", str(read_only / "audit.jsonl"), "--record-dir", str(root / "records")]  # fmt: skip
        completed = subprocess.run(
            argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
            preexec_fn=_without_dac_override(),  # drops capabilities between fork and exec
        )  # fmt: skip
        assert completed.returncode == 2, completed.stderr
        assert completed.stderr.startswith(f"error: --audit-log {read_only / 'audit.jsonl'}: cannot append (Permission denied)")
        assert len(completed.stderr.splitlines()) == 1 and "Traceback" not in completed.stderr
        assert list((root / "records").iterdir()) == [] and list(read_only.iterdir()) == []
    finally:
        shutil.rmtree(root, ignore_errors=True)
