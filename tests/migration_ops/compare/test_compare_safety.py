"""What compare must never pass over, on real PostgreSQL 15 servers (issue 24, boxes 2-7).

Rows hidden by row-level security, inheritance children counted in their parent, an empty or misnamed scope, the
same database on both sides, collations and encodings that differ, changes in flight, a server that stops
answering. Each case has databases of its own, made for the test and dropped after it.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from migration_ops.compare import digest
from migration_ops.compare.digest import Hashing, TableQueries
from migration_ops.compare.engine import open_connection
from migration_ops.compare.sessions import Pair
from migration_ops.compare.tables import Table
from tests.migration_ops.compare.helpers import by_table, database, execute, results, run, run_json
from tests.migration_ops.pg_server import PgServer

pytestmark = pytest.mark.postgres

READER = "cmp_reader"
RLS_SQL = f"""
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN CREATE ROLE {READER} LOGIN; END IF; END $$;
CREATE SCHEMA cmp;
GRANT USAGE ON SCHEMA cmp TO {READER};
CREATE TABLE cmp.accounts (id int PRIMARY KEY, region text);
CREATE TABLE cmp.payroll (id int PRIMARY KEY);
CREATE TABLE cmp.plain (id int PRIMARY KEY);
INSERT INTO cmp.plain SELECT generate_series(1, 5);
GRANT SELECT ON cmp.accounts, cmp.plain TO {READER};
"""
HIDDEN_ROWS_SQL = """
INSERT INTO cmp.accounts SELECT g, CASE WHEN g % 4 = 0 THEN 'hidden' ELSE 'open' END FROM generate_series(1, 40) g;
ALTER TABLE cmp.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY open_only ON cmp.accounts FOR SELECT USING (region = 'open');
"""


def test_rows_the_user_cannot_read_are_not_compared(
    servers: tuple[PgServer, PgServer], config_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The target lacks the rows a policy hides from the comparing user (as DMS, reading as that user, would)."""
    open_rows = "INSERT INTO cmp.accounts SELECT g, 'open' FROM generate_series(1, 40) g WHERE g % 4 <> 0;"
    with (
        database(servers[0], RLS_SQL + HIDDEN_ROWS_SQL) as source,
        database(servers[1], RLS_SQL + open_rows) as target,
    ):
        as_reader = source.replace("postgres@", f"{READER}@")
        document = run_json(config_path, as_reader, target, monkeypatch, capsys)
    found = results(document)
    assert document["exit"] == 1
    assert {name: item["status"] for name, item in found.items()} == {
        "cmp.accounts": "fail",
        "cmp.payroll": "fail",
        "cmp.plain": "pass",
    }
    assert found["cmp.accounts"]["evidence"].startswith(
        "not compared: row-level security hides rows of it from the comparing user on the source (query would be affected"
    )
    assert found["cmp.payroll"]["evidence"].startswith("not compared: it cannot be read by the comparing user on the source")
    assert "BYPASSRLS" in found["cmp.accounts"]["fix"]
    assert by_table(document)["cmp.accounts"]["unreadable"]


def test_inheritance_children_are_not_counted_in_their_parent(
    servers: tuple[PgServer, PgServer], config_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The target's copy holds the children's rows in the parent itself (DMS loads each table by itself)."""
    inherited = """
    CREATE SCHEMA cmp; CREATE TABLE cmp.vehicles (id int PRIMARY KEY, name text);
    CREATE TABLE cmp.cars (seats int) INHERITS (cmp.vehicles); ALTER TABLE cmp.cars ADD PRIMARY KEY (id);
    INSERT INTO cmp.vehicles VALUES (1, 'bike'), (2, 'boat'); INSERT INTO cmp.cars VALUES (10, 'sedan', 5), (11, 'van', 8);
    """
    flattened = """
    CREATE SCHEMA cmp; CREATE TABLE cmp.vehicles (id int PRIMARY KEY, name text);
    CREATE TABLE cmp.cars (id int PRIMARY KEY, name text, seats int);
    INSERT INTO cmp.vehicles VALUES (1, 'bike'), (2, 'boat'), (10, 'sedan'), (11, 'van');
    INSERT INTO cmp.cars VALUES (10, 'sedan', 5), (11, 'van', 8);
    """
    with database(servers[0], inherited) as source, database(servers[1], flattened) as target:
        document = run_json(config_path, source, target, monkeypatch, capsys)
    found = results(document)
    assert document["exit"] == 1
    assert (found["cmp.cars"]["status"], found["cmp.vehicles"]["status"]) == ("pass", "fail")
    assert "rows differ: 2 on the source, 4 on the target" in found["cmp.vehicles"]["evidence"]
    assert "extra on the target (id)=(10)" in found["cmp.vehicles"]["evidence"]
    assert "extra on the target (id)=(11)" in found["cmp.vehicles"]["evidence"]


def test_an_empty_scope_fails(
    servers: tuple[PgServer, PgServer],
    config_path: Path,
    target: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with database(servers[0], "CREATE SCHEMA other; CREATE TABLE other.things (id int PRIMARY KEY);") as wrong:
        document = run_json(config_path, wrong, target, monkeypatch, capsys)
        code, out, _ = run(config_path, wrong, target, monkeypatch, capsys)
    assert (document["exit"], document["summary"]["fail"], document["tables"]) == (1, 1, [])
    scope = results(document)["scope"]["evidence"]
    assert scope.startswith("nothing to compare: no table of database cmp_scratch_")
    assert scope.endswith("on the source matches the task's scope (include cmp.%; exclude cmp.skip%)")
    assert code == 1
    assert "FAIL    scope" in out or any(line.startswith("FAIL") and "scope" in line for line in out.splitlines())


def test_tables_accumulate_and_names_not_compared_fail(
    config_path: Path, source: str, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--tables", "cmp.items", "--tables", "cmp.orders", "cmp.skip_scratch", "--tables", "cmp.nope", "elsewhere.other")
    document = run_json(config_path, source, target, monkeypatch, capsys, *args)
    assert document["exit"] == 1
    assert {name: item["status"] for name, item in results(document).items()} == {
        "cmp.items": "pass",
        "cmp.orders": "pass",
        "cmp.skip_scratch": "fail",
        "cmp.nope": "fail",
        "elsewhere.other": "fail",
    }
    assert results(document)["cmp.nope"]["evidence"] == "named by --tables: no such table on the source"
    assert results(document)["cmp.skip_scratch"]["evidence"].startswith("named by --tables: not in the task's scope")


WORDS = "ARRAY['apple', 'Apple', 'APPLE', 'éclair', 'Éclair', 'eclair', 'zebra', 'Zebra', 'über', 'Uber', 'ß', 'ss', 'Ærø']"
COLLATED_SQL = f"""
CREATE SCHEMA cmp;
CREATE TABLE cmp.names (name text COLLATE "und-x-icu" PRIMARY KEY, label text);
CREATE TABLE cmp.words (word text PRIMARY KEY, n int);
INSERT INTO cmp.names SELECT ({WORDS})[1 + g % 13] || g, 'label ' || g FROM generate_series(1, 200) g;
INSERT INTO cmp.words SELECT ({WORDS})[1 + g % 13] || ' ' || g, g FROM generate_series(1, 200) g;
"""


def test_collations_do_not_make_identical_data_differ(
    servers: tuple[PgServer, PgServer], config_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An ICU source (a column's collation and the database default) against a C target: equal, with a warning."""
    icu = "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und'"
    with (
        database(servers[0], COLLATED_SQL, icu) as source,
        database(servers[1], COLLATED_SQL.replace('COLLATE "und-x-icu" ', "")) as target,
    ):
        document = run_json(config_path, source, target, monkeypatch, capsys)
    assert document["exit"] == 0, document
    found = results(document)
    assert {item["status"] for item in found.values()} == {"warn"}
    assert "name ICU und on the source, libc C on the target" in found["cmp.names"]["evidence"]
    assert "word ICU und on the source, libc C on the target" in found["cmp.words"]["evidence"]
    assert "200 rows" in found["cmp.names"]["evidence"]
    assert "no data difference" in found["cmp.names"]["fix"]
    assert "reload" not in found["cmp.names"]["fix"]


WORDS_SQL = """
CREATE SCHEMA cmp;
CREATE TABLE cmp.words (word text PRIMARY KEY, note varchar(60), tags text[]);
INSERT INTO cmp.words SELECT ({words})[1 + g % 10] || g, 'note ' || ({words})[1 + g % 7] || ' ' || g, ARRAY[{tag}]
  FROM generate_series(1, 120) g;
"""
ENCODED = {
    "LATIN1": (
        "ARRAY['café', 'Müller', 'straße', 'naïve', 'façade', 'smörgåsbord', '¿qué?', 'brûlée', 'Ærø', '½ °C']",
        "hashtextextended of each row's UTF-8 bytes (LATIN1 source, UTF8 target)",
    ),
    "EUC_JP": (
        "ARRAY['日本語', 'カタカナ', 'ひらがな', '漢字', '東京', '大阪', '寿司', '温泉', '桜', 'plain']",
        "md5 of each row's UTF-8 bytes (EUC_JP source, UTF8 target)",
    ),
}


@pytest.mark.parametrize("encoding", list(ENCODED))
def test_a_source_in_another_encoding_compares_equal_to_a_utf8_target(
    *,
    encoding: str,
    servers: tuple[PgServer, PgServer],
    config_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Text with characters beyond ASCII: single-byte LATIN1 hashes the UTF-8 bytes directly, EUC_JP by md5."""
    words, hashing = ENCODED[encoding]
    script = WORDS_SQL.format(words=words, tag=words.split(", ")[1])
    options = f"TEMPLATE template0 ENCODING '{encoding}' LC_COLLATE 'C' LC_CTYPE 'C'"
    changed_word = words.split("'")[3] + "1"
    with database(servers[0], script, options) as source, database(servers[1], script) as target:
        document = run_json(config_path, source, target, monkeypatch, capsys)
        execute(target, f"UPDATE cmp.words SET note = 'changed' WHERE word = '{changed_word}'")
        changed = run_json(config_path, source, target, monkeypatch, capsys)
    assert document["exit"] == 0, document
    assert document["hashing"] == hashing
    words_result = results(document)["cmp.words"]
    assert words_result["status"] == "warn"
    assert f"server encodings differ ({encoding} on the source, UTF8 on the target)" in words_result["evidence"]
    assert changed["exit"] == 1
    assert f"changed (word)=({changed_word})" in results(changed)["cmp.words"]["evidence"]


def test_the_digest_is_one_sequential_scan_and_a_hash_aggregate(source: str) -> None:
    """EXPLAIN: ONLY the table, read once, each row's text computed once (below the OFFSET 0 fence)."""
    columns = ["tenant", "id", "note", "amount"]
    queries = TableQueries(Table("cmp", "orders"), columns, ["tenant", "id"], Hashing(mode="text"), 8)
    with open_connection("source", source, statement_timeout_seconds=5) as conn:
        plan = [str(row[0]) for row in conn.execute(sql.SQL("EXPLAIN (VERBOSE, COSTS OFF) {}").format(queries.digest()))]
    assert plan[0].strip() == "HashAggregate"
    assert [line.strip() for line in plan if "->" in line] == ["->  Seq Scan on cmp.orders"]
    scan_output = plan[plan.index("  ->  Seq Scan on cmp.orders") + 1]
    # the scan computes the row text (the aggregates read it); without the fence each would compute its own
    assert "(ROW(orders.tenant, orders.id, orders.note, orders.amount))::text" in scan_output, plan


def during_the_recheck_pause(monkeypatch: pytest.MonkeyPatch, dsn: str, statement: str) -> None:
    """Run `statement` on `dsn` each time the comparison pauses before a recheck, then pause as it would."""
    pause = Pair.pause

    def run_then_pause(self: Pair, seconds: float) -> None:
        execute(dsn, statement)
        pause(self, seconds)

    monkeypatch.setattr(Pair, "pause", run_then_pause)


def test_a_difference_in_flight_is_equal_on_recheck(
    config_path: Path, source: str, changed_target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The target catches up during the pause before the recheck (CDC latency): the table passes, and says so."""
    execute(changed_target, "UPDATE cmp.orders SET amount = amount + 0.001 WHERE tenant = 2 AND id = 100")
    catch_up = "UPDATE cmp.orders SET amount = amount - 0.001 WHERE tenant = 2 AND id = 100"
    during_the_recheck_pause(monkeypatch, changed_target, catch_up)
    document = run_json(config_path, source, changed_target, monkeypatch, capsys, "--tables", "cmp.orders")
    assert document["exit"] == 0
    orders = by_table(document)["cmp.orders"]
    assert (orders["status"], orders["first_pass_differences"], orders["differences"]) == ("pass", 1, [])
    assert (
        "(1 differed at first and were equal when rechecked 0 s later: changes in flight)"
        in results(document)["cmp.orders"]["evidence"]
    )


def test_a_difference_while_the_source_changes_says_so(
    config_path: Path, source: str, changed_target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(changed_target, "DELETE FROM cmp.orders WHERE tenant = 1 AND id = 4")
    # a write on the source: counted as a change, though it changes nothing
    during_the_recheck_pause(monkeypatch, source, "UPDATE cmp.orders SET note = note WHERE tenant = 3 AND id = 2")
    args = ("--tables", "cmp.orders", "cmp.items", "--recheck-delay-seconds", "1")
    document = run_json(config_path, source, changed_target, monkeypatch, capsys, *args)
    assert (document["exit"], document["source_changed"]) == (1, True)
    orders = results(document)["cmp.orders"]
    assert "missing on the target (tenant, id)=(1, 4)" in orders["evidence"]
    assert orders["evidence"].endswith("the source changed during the run: rerun with writes frozen")
    assert orders["fix"].startswith("the source changed during the run")
    assert "reload" not in orders["fix"]
    assert by_table(document)["cmp.items"]["source_changed"] is False


@contextmanager
def _stopped(server: PgServer) -> Iterator[None]:
    """The server's postmaster and every backend stopped (SIGSTOP): connections stay open, nothing answers."""
    postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    children = [
        int(entry)
        for entry in os.listdir("/proc")
        if entry.isdigit() and _parent(int(entry)) == postmaster
    ]  # fmt: skip
    stopped = [postmaster, *children]
    try:
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        yield
    finally:
        for pid in reversed(stopped):
            os.kill(pid, signal.SIGCONT)


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def test_a_server_that_stops_answering_ends_within_the_budget(
    *,
    config_path: Path,
    source: str,
    changed_target: str,
    target_template: PgServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    budget = 4.0
    with _stopped_at_first_digest(target_template, monkeypatch):
        started = time.monotonic()
        code, out, err = run(config_path, source, changed_target, monkeypatch, capsys, "--time-budget-seconds", str(budget))
        elapsed = time.monotonic() - started
    assert code == 1
    assert elapsed < budget + 6, elapsed
    assert "the target did not answer within" in out
    assert "not compared: the target stopped answering earlier in the run" in out
    assert "Traceback" not in out + err


@contextmanager
def _stopped_at_first_digest(server: PgServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The target stops when the first table's digests are about to be sent, and continues when the test ends."""
    with ExitStack() as stack:
        fetch = digest.fetch_digests
        stopped: list[bool] = []

        def stop_then_fetch(query: sql.Composed) -> Any:
            if not stopped:
                stack.enter_context(_stopped(server))
                stopped.append(True)
            return fetch(query)

        monkeypatch.setattr("migration_ops.compare.engine.fetch_digests", stop_then_fetch)
        yield
