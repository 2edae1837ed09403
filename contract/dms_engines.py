"""DMS replication engine versions: when AWS stops creating instances with them, and which PostgreSQL they handle.

Sources, re-read 2026-11-29 (each row names its own in `source`):
- Dates: AWS DMS user guide, "AWS DMS release notes" (CHAP_ReleaseNotes.html). Its copies disagree; each date is
  the earliest a current copy gives. The English page (default engine 3.5.4) lists 3.6.1 as TBD/TBD, 3.6.0
  2026-04-27/2026-07-27, 3.5.4 2027-01-31/2027-03-31, 3.5.3 2026-02-28/2026-06-30, 3.5.2 2025-03-30/2025-04-29,
  3.5.1 2024-11-30/2025-03-15 ("No new instance date" / "EOL date"); an older English copy (default 3.5.3) gives
  3.6.0 an EOL of 2026-06-27, and the Japanese/Chinese copies give 3.5.4 2026-09-15/2026-11-15 and 3.6.1
  2027-04-30/2027-06-30 (re-read 2026-12-03).
- The account's own answer wins over every copy: `make engine-versions ENV=...` (DMS DescribeEngineVersions,
  `DeprecationDate` / `ForceUpgradeDate`) says which rows are out of date (migration_ops/verify/dms_engines.py).
- PostgreSQL majors: DMS user guide, "Using a PostgreSQL database as an AWS DMS source" (version table: 16.x needs
  3.5.3+, 17.x and 18.x need 3.6.1+) and "Targets for AWS DMS" (PostgreSQL 15.x and 16.x need 3.5.3+, 17.x and
  18.x need 3.5.4+).

A creation deadline matters only where the stack creates the replication instance: modules/dms.py ignores
`engine_version` once the instance exists (AWS upgrades it), so `dms.replication_instance_exists = true` turns a
passed deadline into a warning naming the version to move to, instead of refusing every later synth.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

TABLE_DATE = dt.date(2026, 11, 29)
DEADLINE_WARNING_DAYS = 90
DEFAULT_DMS_ENGINE_VERSION = "3.6.1"


@dataclass(frozen=True, kw_only=True)
class DmsEngine:
    version: str
    released: dt.date
    last_creation: dt.date | None
    """Last day AWS creates new replication instances with this version (None: not announced)."""
    end_of_life: dt.date | None
    newest_source_major: int
    """Newest PostgreSQL major this engine reads as a source."""
    newest_target_major: int
    """Newest PostgreSQL major (Aurora included) this engine writes to as a target."""
    source: str
    """Where `last_creation` and `end_of_life` come from (page and the date it was read)."""


_ENGLISH_COPY = "DMS release notes (CHAP_ReleaseNotes.html), English copy with default engine 3.5.4, read 2026-11-29"
DMS_ENGINES: tuple[DmsEngine, ...] = (
    DmsEngine(
        version="3.6.1",
        released=dt.date(2025, 5, 15),
        last_creation=dt.date(2027, 4, 30),
        end_of_life=dt.date(2027, 6, 30),
        newest_source_major=18,
        newest_target_major=18,
        source="DMS release notes, read 2026-11-29 and 2026-12-03: the Japanese (docs.aws.amazon.com/ja_jp) and Chinese "
        "(docs.amazonaws.cn) copies give 2027-04-30/2027-06-30, the English copy TBD/TBD: the earliest announced date "
        "is kept; `make engine-versions` shows the account's own answer",
    ),
    DmsEngine(
        version="3.6.0",
        released=dt.date(2024, 12, 27),
        last_creation=dt.date(2026, 4, 27),
        end_of_life=dt.date(2026, 6, 27),
        newest_source_major=16,
        newest_target_major=18,
        source="DMS release notes, read 2026-11-29: no new instances after 2026-04-27 (every copy); EOL 2026-06-27 "
        "in the English copy with default 3.5.3 (2026-07-27 in the one with default 3.5.4)",
    ),
    DmsEngine(
        version="3.5.4",
        released=dt.date(2024, 11, 15),
        last_creation=dt.date(2026, 9, 15),
        end_of_life=dt.date(2026, 11, 15),
        newest_source_major=16,
        newest_target_major=18,
        source="DMS release notes, read 2026-11-29: Japanese/Chinese copies 2026-09-15/2026-11-15 "
        "(English copy: 2027-01-31/2027-03-31)",
    ),
    DmsEngine(
        version="3.5.3",
        released=dt.date(2024, 5, 17),
        last_creation=dt.date(2026, 2, 28),
        end_of_life=dt.date(2026, 6, 30),
        newest_source_major=16,
        newest_target_major=16,
        source=_ENGLISH_COPY,
    ),
    DmsEngine(
        version="3.5.2",
        released=dt.date(2023, 10, 29),
        last_creation=dt.date(2025, 3, 30),
        end_of_life=dt.date(2025, 4, 29),
        newest_source_major=15,
        newest_target_major=14,
        source=_ENGLISH_COPY,
    ),
    DmsEngine(
        version="3.5.1",
        released=dt.date(2023, 6, 30),
        last_creation=dt.date(2024, 11, 30),
        end_of_life=dt.date(2025, 3, 15),
        newest_source_major=15,
        newest_target_major=14,
        source=_ENGLISH_COPY,
    ),
)
_BY_VERSION = {engine.version: engine for engine in DMS_ENGINES}


def parse_engine_version(version: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    if not match:
        raise ValueError(f"not a DMS engine version: {version!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def known_engine(version: str) -> DmsEngine | None:
    return _BY_VERSION.get(version)


def open_for_creation(engine: DmsEngine, today: dt.date) -> bool:
    return engine.last_creation is None or engine.last_creation >= today


def replacement_engine(version: str, *, target_major: int, today: dt.date) -> DmsEngine | None:
    """The newest engine of the table, other than `version`, that AWS still creates and that writes to `target_major`."""
    candidates = [
        engine
        for engine in DMS_ENGINES
        if engine.version != version and open_for_creation(engine, today) and engine.newest_target_major >= target_major
    ]
    return max(candidates, key=lambda engine: parse_engine_version(engine.version), default=None)


def _move_to(version: str, *, target_major: int, today: dt.date) -> str:
    replacement = replacement_engine(version, target_major=target_major, today=today)
    if replacement is not None:
        return f"use {replacement.version}"
    return (
        f"no engine of the table (contract/dms_engines.py, as of {TABLE_DATE}) is open for new instances on {today}: "
        "compare it with the account (`make engine-versions ENV=...`) and add the current one"
    )


def engine_problems(version: str, *, target_major: int, today: dt.date, instance_exists: bool = False) -> list[str]:
    """Why `version` cannot be used by the replication instance writing to PostgreSQL `target_major`.

    A passed creation deadline refuses only when the stack would create the instance (`instance_exists` false):
    an existing instance keeps running, and modules/dms.py ignores `engine_version` after creation.
    """
    engine = known_engine(version)
    if engine is None:
        usable = ", ".join(e.version for e in DMS_ENGINES if open_for_creation(e, today)) or "none open"
        return [f"unknown DMS engine version (the table in contract/dms_engines.py, as of {TABLE_DATE}, knows: {usable})"]
    problems = []
    if not instance_exists and not open_for_creation(engine, today):
        problems.append(
            f"AWS stopped creating replication instances with DMS {version} after {engine.last_creation} "
            f"(DMS release notes); {_move_to(version, target_major=target_major, today=today)}; if this environment's "
            "replication instance already exists, set dms.replication_instance_exists = true"
        )
    if target_major > engine.newest_target_major:
        problems.append(
            f"DMS {version} cannot write to PostgreSQL {target_major} (newest target: {engine.newest_target_major}; "
            "DMS user guide, 'Targets for AWS DMS')"
        )
    return problems


def engine_warnings(version: str, *, today: dt.date, target_major: int = 0, instance_exists: bool = False) -> list[str]:
    """Deadlines within DEADLINE_WARNING_DAYS of `today`, and passed ones of an existing instance."""
    engine = known_engine(version)
    if engine is None or engine.last_creation is None:
        return []
    move = _move_to(version, target_major=target_major, today=today)
    if instance_exists and engine.last_creation < today:
        upgrade = f"AWS upgrades it from {engine.end_of_life}" if engine.end_of_life else "AWS will upgrade it"
        return [
            f"DMS {version}: no new replication instances after {engine.last_creation}; the existing one keeps it "
            f"(engine_version is ignored after creation) and {upgrade}: {move} for the next instance and upgrade "
            "between migrations (runbook)"
        ]
    days_left = (engine.last_creation - today).days
    if 0 <= days_left <= DEADLINE_WARNING_DAYS:
        return [
            f"DMS {version}: AWS creates new replication instances with it only until {engine.last_creation} "
            f"({days_left} days); plan the move to a newer engine"
        ]
    return []


def oldest_engine_for_source(pg_major: int) -> DmsEngine | None:
    """The oldest engine of the table that reads PostgreSQL `pg_major` as a source."""
    readers = [engine for engine in DMS_ENGINES if engine.newest_source_major >= pg_major]
    return min(readers, key=lambda engine: parse_engine_version(engine.version), default=None)
