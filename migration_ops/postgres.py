"""Connecting to PostgreSQL, the source or the target (Aurora), for every operations command.

The source's DSN comes from an environment variable holding a libpq URI (`--dsn-env`)
or is built from the config (host, port, database, TLS mode); the user name and
password come from libpq's own PGUSER/PGPASSWORD or, with `--from-secret`, from
the Secrets Manager secret the DMS source endpoint reads. The target's DSN always
comes from a variable (`--target-dsn-env`, `--apply-dsn-env`, ...). No credential
ever appears on a command line or in a message.

No message carries a password, even from a malformed DSN. libpq's own parse errors quote the offending part
(`invalid percent-encoded token: "<password>"`), and a password with an unencoded `@` or `/` is read as part of
the host, port or database name, so both a libpq error and a `user@host/db` description would show it. So every
DSN is first checked here, without libpq (`dsn_problem`: a strict reading of libpq's URI and key/value forms whose
reasons quote nothing of the string); libpq parses or connects only to a DSN that passed. `describe_dsn` shows
`user@host:port/db` of a checked DSN only, else "an unparseable connection string (from $VAR)". `redact`
scrubs the passwords this process has read (each DSN from `dsn_from_env`, secret credentials, PGPASSWORD: as
given, percent-decoded, and the pieces a malformed DSN splits them into) and every password setting and URI
user info from a text; `cli.run` passes every error it prints through it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import psycopg
from botocore.exceptions import BotoCoreError, ClientError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from config.model import SourceDatabaseConfig
from contract.aurora import POSTGRES_PORT
from migration_ops import aws
from migration_ops.errors import OpsError
from plumbing.text import first_line

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CONNECT_TIMEOUT_SECONDS = 10
REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4
"""Shorter strings are not scrubbed from texts: they cannot be told from ordinary words (nor is one a password)."""


class DatabaseConnectionError(OpsError):
    """A database could not be reached, or its DSN or credentials could not be read: exit 2 with this message."""


class SourceConnectionError(DatabaseConnectionError):
    """The same, raised by a command that names the side (compare): the message starts with `source:`."""


class TargetConnectionError(DatabaseConnectionError):
    """The same for the target (Aurora): the message starts with `target:`."""


@dataclass(frozen=True, kw_only=True)
class Credentials:
    username: str
    password: str


# --- what this process has read: the passwords to scrub, where each DSN came from ----------------

_secrets: set[str] = set()
_origins: dict[str, str] = {}


def remember_dsn(dsn: str, *, variable: str | None = None) -> None:
    """Note the passwords `dsn` carries (so `redact` scrubs them) and the variable it came from."""
    _secrets.update(dsn_secrets(dsn))
    if variable is not None:
        _origins[dsn] = variable


def forget_secrets() -> None:
    """Start afresh (`cli.run` does, around each command)."""
    _secrets.clear()
    _origins.clear()


def known_secrets() -> set[str]:
    """Every password this process has read, and PGPASSWORD."""
    found = set(_secrets)
    if len(environment := os.environ.get("PGPASSWORD", "")) >= MIN_SECRET_LENGTH:
        found.add(environment)
    return found


# --- reading a DSN without libpq ---------------------------------------------------------------

URI_PREFIXES = ("postgresql://", "postgres://")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})|%00")
_PORT = re.compile(r"[0-9]*")
_PIECE_SEPARATORS = re.compile(r"[@/:?#&=,\s'\"\\]+")
_SECRET_KEYWORDS = ("password", "sslpassword")
_ENCODE_HINT = "percent-encode @ as %40, / as %2F, : as %3A and % as %25 in the user name and password"


@cache
def _keywords() -> frozenset[str]:
    """The connection keywords this libpq knows (its defaults: no DSN involved)."""
    return frozenset(option.keyword.decode() for option in psycopg.pq.Conninfo.get_defaults())


def _split_uri(rest: str) -> tuple[str | None, str, str]:
    """(user info, host spec, /database?parameters) as libpq splits a URI after its prefix: the user info ends at
    the first @ before any /."""
    end = next((index for index, character in enumerate(rest) if character in "@/"), len(rest))
    userinfo = rest[:end] if end < len(rest) and rest[end] == "@" else None
    after = rest[end + 1 :] if userinfo is not None else rest
    cut = next((index for index, character in enumerate(after) if character in "/?"), len(after))
    return userinfo, after[:cut], after[cut:]


def _uri_problem(rest: str) -> str | None:
    userinfo, hostspec, tail = _split_uri(rest)
    if "@" in hostspec + tail:
        return f"an unencoded @ after the user info ({_ENCODE_HINT})"
    database, _, parameters = tail.removeprefix("/").partition("?")
    if userinfo is not None and _BAD_ESCAPE.search(userinfo):
        return f"an invalid %-escape in the user info ({_ENCODE_HINT})"
    for host in hostspec.split(","):
        if host.startswith("["):  # [IPv6 address][:port]
            name, bracket, after = host[1:].partition("]")
            port = after.removeprefix(":") if bracket and after[:1] in ("", ":") else "not a port"
        else:
            name, _, port = host.partition(":")
        if _BAD_ESCAPE.search(name) or not _PORT.fullmatch(port):
            return f"a host or port libpq cannot read (an unencoded : or / in the password? {_ENCODE_HINT})"
    if "/" in database or _BAD_ESCAPE.search(database):
        return f"a database name with an unencoded / or an invalid %-escape ({_ENCODE_HINT})"
    for parameter in filter(None, parameters.split("&")):
        keyword, equals, value = parameter.partition("=")
        if not equals or keyword not in _keywords() or _BAD_ESCAPE.search(value):
            return "a query parameter libpq does not accept (keyword=value, a known keyword, valid %-escapes)"
    return None


def _key_value_pairs(dsn: str) -> tuple[list[tuple[str, str]], str | None]:
    """The key/value pairs libpq reads from `dsn` (its conninfo_parse rules), and a problem, if any."""
    pairs: list[tuple[str, str]] = []
    index, length = 0, len(dsn)
    while True:
        while index < length and dsn[index].isspace():
            index += 1
        if index >= length:
            return pairs, None
        start = index
        while index < length and dsn[index] != "=" and not dsn[index].isspace():
            index += 1
        keyword = dsn[start:index]
        while index < length and dsn[index].isspace():
            index += 1
        if index >= length or dsn[index] != "=":
            return pairs, "a word without = (an unquoted space in a value? quote it: password='...')"
        index += 1
        while index < length and dsn[index].isspace():
            index += 1
        quoted = index < length and dsn[index] == "'"
        index += quoted
        value: list[str] = []
        while index < length and (dsn[index] != "'" if quoted else not dsn[index].isspace()):
            if dsn[index] == "\\" and index + 1 < length:
                index += 1
            value.append(dsn[index])
            index += 1
        if quoted and index >= length:
            return pairs, "an unterminated quoted value"
        index += quoted
        pairs.append((keyword, "".join(value)))
        if keyword not in _keywords():
            return pairs, "an unknown keyword (an unquoted space in a value? quote it: password='...')"


def dsn_problem(dsn: str) -> str | None:
    """Why libpq cannot read `dsn` as given, or None. Never calls libpq; the reason quotes nothing of `dsn`."""
    for prefix in URI_PREFIXES:
        if dsn.startswith(prefix):
            problem = _uri_problem(dsn[len(prefix) :])
            return None if problem is None else f"a malformed libpq URI: {problem}"
    problem = _key_value_pairs(dsn)[1]
    return None if problem is None else f"a malformed key=value connection string: {problem}"


def parse_dsn(dsn: str) -> dict[str, str] | None:
    """libpq's reading of `dsn` when it passes `dsn_problem`, else None (libpq never sees a DSN that failed)."""
    if dsn_problem(dsn) is not None:
        return None
    try:
        return {key: str(value) for key, value in conninfo_to_dict(dsn).items() if value is not None}
    except psycopg.Error:  # its message may quote the DSN: never shown
        return None


def dsn_secrets(dsn: str) -> set[str]:
    """The passwords `dsn` carries or seems to carry: as given and percent-decoded; for a malformed DSN also what
    it would be read as up to the last @ (a password with an unencoded @ or /), and the pieces libpq splits it into."""
    found: set[str] = set()
    prefix = next((prefix for prefix in URI_PREFIXES if dsn.startswith(prefix)), None)
    if prefix is not None:
        rest = dsn[len(prefix) :]
        readings = [_split_uri(rest)[0], rest.rpartition("@")[0] if "@" in rest else None]
        found.update(userinfo.partition(":")[2] for userinfo in readings if userinfo and ":" in userinfo)
    pairs, problem = _key_value_pairs(dsn) if prefix is None else ([], None)
    found.update(value for keyword, value in pairs if keyword in _SECRET_KEYWORDS)
    if problem is not None:  # everything after `password=`, quoted or not: the value may hold spaces
        found.update(match.group(1).strip("'") for match in re.finditer(r"password\s*=\s*(.+)", dsn))
    params = parse_dsn(dsn)
    if params is not None:
        found.update(params[keyword] for keyword in _SECRET_KEYWORDS if keyword in params)
    else:
        found.update(piece for secret in list(found) for piece in _PIECE_SEPARATORS.split(secret))
    found.update({unquote(secret) for secret in found})
    return {secret for secret in found if len(secret) >= MIN_SECRET_LENGTH}


# Any URI's user info, up to its last @; any password setting's value (key=value, JSON, SQL's PASSWORD '...').
_URI_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^\s\"'<>]+@")
_SECRET_VALUE = re.compile(
    r"""(?ix)
    (?P<key>\b[\w-]*(?:password|passwd|pwd))      # password, PGPASSWORD, db-password, pwd
    (?P<quote>["']?)                              # the closing quote of a JSON or Python key
    (?P<sep>\s*[=:]\s*|\s+(?=['"]))               # key=value, "key": "value", SQL's PASSWORD 'value'
    (?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s&;,'"}]+)
    """
)


def redact_known(text: str, *dsns: str) -> str:
    """`text` with every known password (`known_secrets`) and those `dsns` carry replaced by [redacted]."""
    secrets = known_secrets().union(*(dsn_secrets(dsn) for dsn in dsns))
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact(text: str, *dsns: str) -> str:
    """`redact_known`, then without the values of password settings and the user info of every URI."""
    text = _URI_USERINFO.sub(lambda match: f"{match['scheme']}{REDACTED}@", redact_known(text, *dsns))
    return _SECRET_VALUE.sub(lambda match: f"{match['key']}{match['quote']}{match['sep']}{REDACTED}", text)


def describe_dsn(dsn: str) -> str:
    """`user@host:port/db` for messages, never any part of the password; a DSN that fails `dsn_problem` is
    "an unparseable connection string (from $VAR)"."""
    params = parse_dsn(dsn)
    if params is None:
        origin = _origins.get(dsn)
        return "an unparseable connection string" + (f" (from ${origin})" if origin else "")
    user = params.get("user") or os.environ.get("PGUSER") or "(default user)"
    host = params.get("host") or os.environ.get("PGHOST") or "(default host)"
    port = params.get("port") or os.environ.get("PGPORT") or str(POSTGRES_PORT)
    dbname = params.get("dbname") or os.environ.get("PGDATABASE") or "(default db)"
    return f"{user}@{host}:{port}/{dbname}"


# --- where a DSN comes from --------------------------------------------------------------------


def dsn_from_env(variable: str) -> str:
    """The libpq URI held by the environment variable `variable` (remembered: see `remember_dsn`)."""
    value = os.environ.get(variable, "").strip()
    if not value:
        raise DatabaseConnectionError(f"environment variable {variable} is not set (it should hold a libpq URI)")
    remember_dsn(value, variable=variable)
    return value


def dsn_from_config(source: SourceDatabaseConfig) -> str:
    """host/port/database/TLS from the config; user and password are left to PGUSER/PGPASSWORD."""
    params: dict[str, Any] = {"host": source.host, "port": source.port, "dbname": source.database_name}
    params["sslmode"] = source.ssl_mode
    if source.ca_certificate_file is not None:
        params["sslrootcert"] = str(source.ca_certificate_file)
    return make_conninfo("", **params)


def secret_document(client: SecretsManagerClient, arn: str, *, error: type[OpsError]) -> object:
    """The JSON in a secret's SecretString (`{}` when empty), not yet checked for its keys.

    Raises `error` naming the secret, never its value, when the secret cannot be read or is not JSON."""
    try:
        return json.loads(client.get_secret_value(SecretId=arn).get("SecretString") or "{}")
    except (ClientError, BotoCoreError) as problem:
        raise error(f"cannot read secret {arn}: {first_line(problem)}") from None
    except ValueError:
        raise error(f"secret {arn}: SecretString is not JSON") from None


def secret_credentials(
    secret_arn: str, *, region: str, endpoint_url: str | None = None, client: SecretsManagerClient | None = None
) -> Credentials:
    """username/password of the migration user from its Secrets Manager secret."""
    if client is None:
        settings = aws.client_settings(read_timeout=30)
        client = aws.session(region).client("secretsmanager", endpoint_url=endpoint_url, config=settings)
    document = secret_document(client, secret_arn, error=DatabaseConnectionError)
    if not isinstance(document, dict) or not document.get("username") or "password" not in document:
        raise DatabaseConnectionError(f"secret {secret_arn}: expected JSON with 'username' and 'password'")
    if len(password := str(document["password"])) >= MIN_SECRET_LENGTH:
        _secrets.add(password)
    return Credentials(username=str(document["username"]), password=password)


def with_credentials(dsn: str, credentials: Credentials | None) -> str:
    """`dsn` with user/password replaced by `credentials` (unchanged when None). Raises DatabaseConnectionError
    for a DSN libpq cannot read."""
    if credentials is None:
        return dsn
    params = parse_dsn(dsn)
    if params is None:
        raise DatabaseConnectionError(f"cannot use {describe_dsn(dsn)}: {dsn_problem(dsn) or 'libpq cannot read it'}")
    params.update(user=credentials.username, password=credentials.password)
    combined = make_conninfo("", **params)
    remember_dsn(combined)
    return combined


def connect(
    dsn: str, *, read_only: bool, statement_timeout_seconds: float = 0, params: Mapping[str, Any] | None = None
) -> psycopg.Connection[Any]:
    """An autocommit connection; read-only sessions refuse every write. `params`: more libpq keywords (keepalives).

    libpq sees only a DSN that passed `dsn_problem`, and its error is redacted. (The process title: psycopg sets
    none and libpq never puts the DSN in it, so `ps` shows only the command line, which never holds a password.)
    """
    problem = dsn_problem(dsn)
    if problem is not None:
        raise DatabaseConnectionError(f"cannot connect to {describe_dsn(dsn)}: {problem}")
    try:
        conn = psycopg.connect(
            dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name="migration-ops", **(params or {})
        )
    except psycopg.Error as error:
        raise DatabaseConnectionError(f"cannot connect to {describe_dsn(dsn)}: {redact(first_line(error), dsn)}") from None
    if read_only:
        conn.execute("SET default_transaction_read_only = on")
    if statement_timeout_seconds > 0:
        conn.execute(f"SET statement_timeout = {int(statement_timeout_seconds * 1000)}")
    return conn
