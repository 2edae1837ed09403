"""Fixtures of the compare tests: a source database and identical targets on two real PostgreSQL 15 servers.

The target is a fresh clone of identical data per test that changes it, with session defaults that print values
differently (TimeZone, DateStyle, IntervalStyle, bytea_output) so the digests prove they do not depend on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.migration_ops.compare.helpers import DATA_SQL, TARGET_ONLY_SQL, clone, execute
from tests.migration_ops.pg_server import PgServer


@pytest.fixture(scope="package")
def source(servers: tuple[PgServer, PgServer]) -> str:
    server = servers[0]
    execute(server.dsn(), "CREATE DATABASE cmp_source STRATEGY FILE_COPY")
    execute(server.dsn("cmp_source"), DATA_SQL)
    return server.dsn("cmp_source")


@pytest.fixture(scope="package")
def target_template(servers: tuple[PgServer, PgServer]) -> PgServer:
    server = servers[1]
    execute(server.dsn(), "CREATE DATABASE cmp_target STRATEGY FILE_COPY")
    execute(server.dsn("cmp_target"), DATA_SQL + TARGET_ONLY_SQL)
    return server


@pytest.fixture(scope="package")
def target(target_template: PgServer) -> Iterator[str]:
    """The identical target, shared by the tests that do not change it."""
    with clone(target_template) as dsn:
        yield dsn


@pytest.fixture
def changed_target(target_template: PgServer) -> Iterator[str]:
    """An identical target of its own, for a test to change."""
    with clone(target_template) as dsn:
        yield dsn


@pytest.fixture(scope="package")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """config/dev.toml with the task's scope set to schema cmp minus cmp.skip%."""
    dev = (REPO_ROOT / "config" / "dev.toml").read_text()
    scope = (
        '[dms]\ninclude = [{ schema_name = "cmp", table_name = "%" }]\n'
        'exclude = [{ schema_name = "cmp", table_name = "skip%" }]\n'
    )
    text = dev.replace("[dms]\n", scope).replace('"certs/', f'"{REPO_ROOT / "config" / "certs"}/')
    path = tmp_path_factory.mktemp("compare") / "cmp.toml"
    path.write_text(text)
    return path
