"""Building the source DSN (from the config plus PGUSER/PGPASSWORD, or with secret credentials), and reading one
without libpq before any message (what tests/migration_ops/test_passwords.py relies on)."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from config import EnvironmentConfig
from migration_ops.postgres import (
    Credentials,
    DatabaseConnectionError,
    describe_dsn,
    dsn_from_config,
    dsn_problem,
    parse_dsn,
    with_credentials,
)


def test_dsn_from_config_carries_host_port_database_and_tls(dev_config: EnvironmentConfig) -> None:
    params = conninfo_to_dict(dsn_from_config(dev_config.source))
    assert params["host"] == "pg-dev.corp.example.com"
    assert params["port"] == "5432"
    assert params["dbname"] == "orders"
    assert params["sslmode"] == "verify-full"
    assert str(params["sslrootcert"]).endswith("config/certs/example-onprem-ca.pem")
    assert "user" not in params and "password" not in params  # left to PGUSER / PGPASSWORD


def test_secret_credentials_replace_the_user_and_stay_out_of_messages() -> None:
    dsn = with_credentials("postgresql://someone@db.example.com:6432/orders", Credentials(username="dms", password="s3cr3t"))
    params = conninfo_to_dict(dsn)
    assert (params["user"], params["password"], params["port"]) == ("dms", "s3cr3t", "6432")
    assert describe_dsn(dsn) == "dms@db.example.com:6432/orders"
    assert with_credentials("dbname=x", None) == "dbname=x"


@pytest.mark.parametrize(
    "dsn",
    [
        "",
        "postgres://db.example.com",
        "postgresql://dms@db.example.com:6432/orders?sslmode=verify-full&application_name=x",
        "postgresql:///orders?host=/var/run/postgresql",
        "postgresql://u:p%40ss%2Fw%3Ard@h1:5432,h2:5433/orders?target_session_attrs=read-write",
        "postgresql://u:p?ss#word@h/db",
        "postgresql://[::1]:5432/orders",
        "postgresql://%2Fvar%2Frun%2Fpostgresql/orders",
        "host=h port=5432 dbname=orders user=u password='a b\\' c' sslmode=require",
        "host = h  dbname=orders",
    ],
)
def test_well_formed_dsns_pass_the_check_and_read_as_libpq_reads_them(dsn: str) -> None:
    """The check without libpq accepts what libpq reads; libpq agrees on each (the test may call it)."""
    assert dsn_problem(dsn) is None
    assert parse_dsn(dsn) == {key: value for key, value in conninfo_to_dict(dsn).items() if value is not None}
    assert describe_dsn(dsn) != "an unparseable connection string"


def test_the_config_dsn_passes(dev_config: EnvironmentConfig) -> None:
    assert dsn_problem(dsn_from_config(dev_config.source)) is None


@pytest.mark.parametrize(
    ("dsn", "reason"),
    [
        ("postgresql://u:QQ1@WW2@h/db", "an unencoded @ after the user info"),
        ("postgresql://u:QQ1/WW2@h/db", "an unencoded @ after the user info"),
        ("postgresql://u:1234/WW2/db", "a database name with an unencoded /"),
        ("postgresql://u:QQ1%zz@h/db", "an invalid %-escape in the user info"),
        ("postgresql://u:QQ1%00@h/db", "an invalid %-escape in the user info"),
        ("postgresql://u:x@h:port/db", "a host or port libpq cannot read"),
        ("postgresql://u:x@[::1/db", "a host or port libpq cannot read"),
        ("postgresql://u:x@h/db?nosuch=1", "a query parameter libpq does not accept"),
        ("postgresql://u:x@h/db?sslmode", "a query parameter libpq does not accept"),
        ("host=h password=QQ1 WW2", "a word without ="),
        ("host=h password='QQ1", "an unterminated quoted value"),
        ("host=h pasword=QQ1", "an unknown keyword"),
    ],
)
def test_malformed_dsns_are_named_without_quoting_them(dsn: str, reason: str) -> None:
    problem = dsn_problem(dsn)
    assert problem is not None and reason in problem
    assert not any(piece in problem for piece in ("QQ1", "WW2", "zz", "nosuch", "port/"))
    assert parse_dsn(dsn) is None and describe_dsn(dsn) == "an unparseable connection string"
    with pytest.raises(DatabaseConnectionError, match="cannot use an unparseable connection string: a malformed"):
        with_credentials(dsn, Credentials(username="u", password="p"))
