"""The recheck of the chunks whose digests differed: after a pause, only their rows, narrowed to exact keys.

One more scan per side fetches (bucket, key, row hashes) of the rows in the differing buckets only (at most
NARROW_MAX_ROWS of them; the buckets beyond are digested again instead), so the result is what each side holds
now: keys on one side only are missing or extra, keys on both with other row hashes are changed. A table without
a key is compared as a multiset: each distinct row hash and how many copies each side has. A bucket that agrees
now differed only while changes were in flight.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from migration_ops.compare.digest import Digests, TableQueries, fetch_digests, fetch_rows
from migration_ops.compare.report import ChunkDifference
from migration_ops.compare.sessions import Pair

NARROW_MAX_ROWS = 50_000
"""Rows per side fetched to name the differing keys of a table; the client holds them all at once (about 100 MB
for both sides with short keys: a million rows that all differ peaked at 175 MB with 100,000)."""

Key = tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Recheck:
    differences: list[ChunkDifference]
    """The buckets that still differ."""
    counts: dict[int, tuple[int, int]]
    """Each rechecked bucket's rows now on (the source, the target)."""


def recheck(
    pair: Pair, queries: tuple[TableQueries, TableQueries], first: tuple[Digests, Digests], differing: Sequence[int]
) -> Recheck:
    on_source, on_target = queries
    narrowed, rest = _split(first, differing)
    differences: list[ChunkDifference] = []
    counts: dict[int, tuple[int, int]] = {}
    if narrowed and on_source.key:
        rows = pair.both(fetch_rows(on_source.keyed_rows(narrowed)), fetch_rows(on_target.keyed_rows(narrowed)))
        differences += _keyed(on_source, narrowed, rows, counts)
    elif narrowed:
        groups = pair.both(fetch_rows(on_source.row_groups(narrowed)), fetch_rows(on_target.row_groups(narrowed)))
        differences += _multiset(on_source, narrowed, groups, counts)
    if rest:
        again = pair.both(fetch_digests(on_source.digest(rest)), fetch_digests(on_target.digest(rest)))
        for bucket in rest:
            source, target = again[0].get(bucket, (0, 0, 0)), again[1].get(bucket, (0, 0, 0))
            counts[bucket] = (source[0], target[0])
            if source != target:
                differences.append(_difference(on_source, bucket, counts[bucket]))
    return Recheck(differences=sorted(differences, key=lambda item: item.chunk), counts=counts)


def _split(first: tuple[Digests, Digests], differing: Sequence[int]) -> tuple[list[int], list[int]]:
    """The buckets whose rows fit NARROW_MAX_ROWS (in bucket order), and the rest."""
    narrowed: list[int] = []
    total = 0
    for index, bucket in enumerate(differing):
        size = max(first[0].get(bucket, (0, 0, 0))[0], first[1].get(bucket, (0, 0, 0))[0])
        if total + size > NARROW_MAX_ROWS:
            return narrowed, list(differing[index:])
        total += size
        narrowed.append(bucket)
    return narrowed, []


def _difference(queries: TableQueries, bucket: int, counts: tuple[int, int]) -> ChunkDifference:
    return ChunkDifference(
        chunk=bucket, where=queries.where(bucket), source_rows=counts[0], target_rows=counts[1], key=list(queries.key)
    )


def _keyed(
    queries: TableQueries,
    buckets: Sequence[int],
    rows: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]],
    counts: dict[int, tuple[int, int]],
) -> list[ChunkDifference]:
    width = len(queries.key)
    sides: list[dict[int, dict[Key, list[tuple[int, int]]]]] = []
    for side in rows:
        by_bucket: dict[int, dict[Key, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
        for row in side:
            key = tuple(str(value) for value in row[1 : 1 + width])
            by_bucket[int(row[0])][key].append((int(row[1 + width]), int(row[2 + width])))
        sides.append(by_bucket)
    differences = []
    for bucket in buckets:
        source, target = sides[0].get(bucket, {}), sides[1].get(bucket, {})
        counts[bucket] = (sum(map(len, source.values())), sum(map(len, target.values())))
        changed, missing, extra = [], [], []
        for key in sorted(source.keys() | target.keys(), key=_natural):
            here, there = source.get(key, []), target.get(key, [])
            if not there:
                missing.append(key)
            elif not here or (len(there) > len(here) and set(here) <= set(there)):
                extra.append(key)  # only on the target, or the same key again (a target without the primary key)
            elif sorted(here) != sorted(there):
                changed.append(key)
        if changed or missing or extra:
            difference = _difference(queries, bucket, counts[bucket])
            difference.changed, difference.missing, difference.extra = changed, missing, extra
            differences.append(difference)
    return differences


def _multiset(
    queries: TableQueries,
    buckets: Sequence[int],
    groups: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]],
    counts: dict[int, tuple[int, int]],
) -> list[ChunkDifference]:
    mask = queries.buckets - 1
    copies: list[Counter[tuple[int, int]]] = [Counter(), Counter()]
    samples: dict[tuple[int, int], str] = {}
    for side, found in zip(copies, groups, strict=True):
        for h0, h1, count, sample in found:
            side[(int(h0), int(h1))] += int(count)
            samples[(int(h0), int(h1))] = str(sample)
    by_bucket: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for side in copies:
        for row in side:
            by_bucket[row[0] & mask].add(row)
    differences = []
    for bucket in buckets:
        in_bucket = sorted(by_bucket.get(bucket, ()))
        counts[bucket] = (sum(copies[0][row] for row in in_bucket), sum(copies[1][row] for row in in_bucket))
        missing: list[tuple[str, ...]] = [
            (samples[row],) for row in in_bucket for _ in range(max(0, copies[0][row] - copies[1][row]))
        ]
        extra: list[tuple[str, ...]] = [
            (samples[row],) for row in in_bucket for _ in range(max(0, copies[1][row] - copies[0][row]))
        ]
        if missing or extra:
            difference = _difference(queries, bucket, counts[bucket])
            difference.changed, difference.missing, difference.extra = [], missing, extra
            differences.append(difference)
    return differences


def _natural(key: Key) -> tuple[tuple[int, int | str], ...]:
    """Numbers in numeric order, text after them: (2), (10), (b)."""
    return tuple((0, int(part)) if part.lstrip("-").isdigit() else (1, part) for part in key)
