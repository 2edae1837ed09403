"""The suite's throw-away PostgreSQL 15 clusters: bench/pg.py's starter (one copy for both), in temp dirs of its own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from bench import pg
from bench.pg import BinaryMissingError, PgServer, find_binary

__all__ = ["BinaryMissingError", "PgServer", "find_binary", "running_server", "start_server"]


def start_server(settings: Mapping[str, str]) -> PgServer:
    """initdb a cluster in a new temp dir and start it with `settings` (postgresql.conf names)."""
    return pg.start_server(settings, prefix="pg-ops-")


@contextmanager
def running_server(settings: Mapping[str, str] | None = None) -> Iterator[PgServer]:
    """A started cluster, stopped and removed on the way out; skips the test where PostgreSQL is not installed."""
    try:
        server = start_server(settings or {})
    except BinaryMissingError as error:
        pytest.skip(f"postgres: {error}")
    try:
        yield server
    finally:
        server.stop()
