"""Whether the source changed while compare ran: each compared table's write counters before and after.

A table's signature is its relfilenode (TRUNCATE, VACUUM FULL and CLUSTER give it a new one) and pg_stat_all_tables'
n_tup_ins, n_tup_upd and n_tup_del. The counters are read outside any transaction, so each read is current;
a backend publishes its counters within about a second of going idle, and the recheck's pause comes before the
after-reading. A changed signature means rows of that table were written (or at least attempted) during the run,
so a difference may be changes still on their way through CDC; an unchanged one makes a confirmed difference
conclusive. With track_counts off nothing can be said.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from migration_ops.compare.tables import Table

_COUNTERS_SQL = """
SELECT n.nspname, c.relname, c.relfilenode::bigint,
       coalesce(s.n_tup_ins, 0), coalesce(s.n_tup_upd, 0), coalesce(s.n_tup_del, 0)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
 WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
"""

Signatures = dict[Table, tuple[int, int, int, int]]


def read_signatures(tables: Sequence[Table]) -> Any:
    """A job for the source: {table: (relfilenode, inserted, updated, deleted)}; None when track_counts is off."""

    def job(conn: psycopg.Connection[Any]) -> Signatures | None:
        setting = conn.execute("SELECT current_setting('track_counts')").fetchone()
        if setting is None or setting[0] != "on":
            return None
        rows = conn.execute(_COUNTERS_SQL, ([t.schema for t in tables], [t.name for t in tables])).fetchall()
        return {Table(str(row[0]), str(row[1])): (int(row[2]), int(row[3]), int(row[4]), int(row[5])) for row in rows}

    return job


class SourceActivity:
    """The signatures read when the run started; `changed` compares a table's later one with them."""

    def __init__(self, before: Signatures | None, *, unknown: str | None = None) -> None:
        self.before = before
        self.unknown = unknown or (None if before is not None else "track_counts is off on the source")

    def changed(self, table: Table, after: Signatures | None) -> bool | None:
        """True: written during the run; False: not; None: cannot tell."""
        if self.before is None or after is None or table not in self.before or table not in after:
            return None
        return self.before[table] != after[table]
