"""Throw-away PostgreSQL 15 clusters for benchmarks: initdb in a temp dir, a free loopback port, removed on stop.

When run as root the cluster runs as an unprivileged account (initdb refuses root): `postgres`, else `pgtest`.
tests/migration_ops/pg_server.py is the test suite's own starter (bench may not be imported by the layers below
it, and the tests keep theirs); this one adds what a benchmark needs: settings sized for the data, parallel start,
and a context manager that stops and removes every cluster it started, even on failure.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PG_BINDIRS = (Path("/usr/lib/postgresql/15/bin"),)
SERVICE_USERS = ("postgres", "pgtest")
START_TIMEOUT_S = 60
COMMAND_TIMEOUT_S = 120
# Durability off: the clusters are deleted afterwards, and a benchmark of reads should not wait on fsync.
THROWAWAY_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


class PgError(RuntimeError):
    """A cluster could not be created, started or stopped (one line; the server log's tail follows it)."""


class BinaryMissingError(PgError):
    """initdb/pg_ctl not installed."""


def find_binary(name: str) -> Path:
    for directory in PG_BINDIRS:
        if (directory / name).is_file():
            return directory / name
    found = shutil.which(name)
    if found is None:
        raise BinaryMissingError(f"{name} not found (install postgresql-15)")
    return Path(found)


def _service_account() -> tuple[int, int] | None:
    """(uid, gid) to run the server as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in SERVICE_USERS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    subprocess.run(["useradd", "--system", "--no-create-home", "pgtest"], check=True, timeout=30, capture_output=True)
    entry = pwd.getpwnam("pgtest")
    return entry.pw_uid, entry.pw_gid


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, kw_only=True)
class PgServer:
    root: Path
    port: int
    account: tuple[int, int] | None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        """A libpq URI without a password (the cluster trusts loopback)."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def run(self, *command: str | Path) -> None:
        kwargs: dict[str, Any] = {}
        if self.account is not None:
            kwargs = {"user": self.account[0], "group": self.account[1], "extra_groups": []}
        argv = [str(part) for part in command]
        try:
            completed = subprocess.run(
                argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False, cwd=self.root, **kwargs
            )
        except subprocess.TimeoutExpired:
            raise PgError(f"{Path(argv[0]).name} timed out after {COMMAND_TIMEOUT_S} s") from None
        if completed.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            detail = (completed.stderr or completed.stdout).strip().splitlines()
            raise PgError(f"{Path(argv[0]).name} exited {completed.returncode}: {detail[-1] if detail else ''}\n{log}")

    def stop(self) -> None:
        """Stop the server (immediate: its data is thrown away) and remove its directory, whatever happens."""
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self.run(find_binary("pg_ctl"), "-D", self.data_dir, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_server(settings: Mapping[str, str], *, prefix: str = "bench-pg-") -> PgServer:
    """initdb a UTF8, C-locale cluster in a new temp dir and start it with `settings` (postgresql.conf names)."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    account = _service_account()
    root = Path(tempfile.mkdtemp(prefix=prefix))
    server = PgServer(root=root, port=_free_port(), account=account)
    try:
        if account is not None:
            os.chown(root, *account)
        server.run(initdb, "-D", server.data_dir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "-N")
        options = {
            "port": str(server.port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(root),
            **THROWAWAY_SETTINGS,
            **settings,
        }
        with (server.data_dir / "postgresql.conf").open("a") as handle:
            handle.write("".join(f"{name} = '{value}'\n" for name, value in options.items()))
        server.run(pg_ctl, "-D", server.data_dir, "-l", server.log_file, "-w", "-t", str(START_TIMEOUT_S), "start")
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def servers(count: int, settings: Mapping[str, str]) -> Iterator[list[PgServer]]:
    """`count` clusters started in parallel (initdb dominates), all stopped and removed on the way out."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(start_server, settings) for _ in range(count)]
    started = [future.result() for future in futures if future.exception() is None]
    try:
        errors = [error for future in futures if (error := future.exception()) is not None]
        if errors:
            raise errors[0]
        yield started
    finally:
        for server in started:
            server.stop()
