"""A throw-away PostgreSQL cluster on a free loopback port, run as an unprivileged OS user when we are root."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PG_BINDIRS = (Path("/usr/lib/postgresql/15/bin"),)
SERVICE_USERS = ("postgres", "pgtest")
START_TIMEOUT_SECONDS = 30


class BinaryMissingError(Exception):
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

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *command: str | Path) -> None:
        kwargs: dict[str, Any] = {}
        if self.account is not None:
            kwargs = {"user": self.account[0], "group": self.account[1], "extra_groups": []}
        completed = subprocess.run(
            [str(part) for part in command], capture_output=True, text=True, timeout=60, check=False, cwd=self.root, **kwargs
        )
        if completed.returncode != 0:
            log = (self.root / "server.log").read_text() if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"{command[0]} failed: {completed.stderr}\n{completed.stdout}\n{log[-2000:]}")

    def stop(self) -> None:
        try:
            self._run(find_binary("pg_ctl"), "-D", self.data_dir, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_server(settings: dict[str, str]) -> PgServer:
    """initdb a cluster in a new temp dir and start it with `settings` (postgresql.conf names)."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    account = _service_account()
    root = Path(tempfile.mkdtemp(prefix="pg-ops-"))
    if account is not None:
        os.chown(root, *account)
    server = PgServer(root=root, port=_free_port(), account=account)
    try:
        server._run(initdb, "-D", server.data_dir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "-N")
        options = {
            "port": str(server.port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(root),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            **settings,
        }
        conf = "".join(f"{name} = '{value}'\n" for name, value in options.items())
        with (server.data_dir / "postgresql.conf").open("a") as handle:
            handle.write(conf)
        server._run(pg_ctl, "-D", server.data_dir, "-l", root / "server.log", "-w", "-t", str(START_TIMEOUT_SECONDS), "start")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server
