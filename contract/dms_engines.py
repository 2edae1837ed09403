"""DMS replication engine versions: when AWS stops creating instances with them, and which PostgreSQL they handle.

Sources, read 2026-11-29:
- Dates: AWS DMS user guide, "AWS DMS release notes" (CHAP_ReleaseNotes.html), in its English, Japanese and
  Chinese (docs.amazonaws.cn) copies. The copies disagree; each date below is the earliest one any current copy
  gives (3.5.4: English 2027-01-31, Japanese/Chinese 2026-09-15). An English copy listing 3.5.3 as the default
  version gives still earlier dates for 3.5.4 and 3.6.1; the later copies supersede it. For an account's own dates
  run `aws dms describe-engine-versions` (DeprecationDate, ForceUpgradeDate).
- PostgreSQL majors: DMS user guide, "Using a PostgreSQL database as an AWS DMS source" (version table: 16.x needs
  3.5.3+, 17.x and 18.x need 3.6.1+) and "Targets for AWS DMS" (PostgreSQL 15.x and 16.x need 3.5.3+, 17.x and
  18.x need 3.5.4+).
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


DMS_ENGINES: tuple[DmsEngine, ...] = (
    DmsEngine(
        version="3.6.1",
        released=dt.date(2025, 5, 15),
        last_creation=dt.date(2027, 4, 30),
        end_of_life=dt.date(2027, 6, 30),
        newest_source_major=18,
        newest_target_major=18,
    ),
    DmsEngine(
        version="3.6.0",
        released=dt.date(2024, 12, 27),
        last_creation=dt.date(2026, 4, 27),
        end_of_life=dt.date(2026, 6, 27),
        newest_source_major=16,
        newest_target_major=18,
    ),
    DmsEngine(
        version="3.5.4",
        released=dt.date(2024, 11, 15),
        last_creation=dt.date(2026, 9, 15),
        end_of_life=dt.date(2026, 11, 15),
        newest_source_major=16,
        newest_target_major=18,
    ),
    DmsEngine(
        version="3.5.3",
        released=dt.date(2024, 5, 17),
        last_creation=dt.date(2026, 2, 28),
        end_of_life=dt.date(2026, 6, 30),
        newest_source_major=16,
        newest_target_major=16,
    ),
    DmsEngine(
        version="3.5.2",
        released=dt.date(2023, 10, 29),
        last_creation=dt.date(2025, 3, 30),
        end_of_life=dt.date(2025, 4, 29),
        newest_source_major=15,
        newest_target_major=14,
    ),
    DmsEngine(
        version="3.5.1",
        released=dt.date(2023, 6, 30),
        last_creation=dt.date(2024, 11, 30),
        end_of_life=dt.date(2025, 3, 15),
        newest_source_major=15,
        newest_target_major=14,
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


def engine_problems(version: str, *, target_major: int, today: dt.date) -> list[str]:
    """Why `version` cannot be used for a new replication instance writing to PostgreSQL `target_major`."""
    engine = known_engine(version)
    if engine is None:
        usable = ", ".join(e.version for e in DMS_ENGINES if e.last_creation is None or e.last_creation >= today)
        return [f"unknown DMS engine version (the table in contract/dms_engines.py, as of {TABLE_DATE}, knows: {usable})"]
    problems = []
    if engine.last_creation is not None and engine.last_creation < today:
        problems.append(
            f"AWS stopped creating replication instances with DMS {version} after {engine.last_creation} "
            f"(DMS release notes); use {DEFAULT_DMS_ENGINE_VERSION}"
        )
    if target_major > engine.newest_target_major:
        problems.append(
            f"DMS {version} cannot write to PostgreSQL {target_major} (newest target: {engine.newest_target_major}; "
            "DMS user guide, 'Targets for AWS DMS')"
        )
    return problems


def engine_warnings(version: str, *, today: dt.date) -> list[str]:
    """Deadlines within DEADLINE_WARNING_DAYS of `today`."""
    engine = known_engine(version)
    if engine is None or engine.last_creation is None:
        return []
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
