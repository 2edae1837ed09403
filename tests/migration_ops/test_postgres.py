"""Building the source DSN: from the config plus PGUSER/PGPASSWORD, or with secret credentials."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict

from config import EnvironmentConfig
from migration_ops.postgres import Credentials, describe_dsn, dsn_from_config, with_credentials


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
