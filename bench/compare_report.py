"""The comparison benchmark's verdicts: medians, ratios, the issue's targets, a table for the terminal, Markdown for the README.

Ratios are what count (absolute times vary 2-3x with the load of a shared machine; every figure of one result comes
from one run, its rounds interleaved):
  throughput ratio to the read floor    read floor time / compare time (1.0: compare reads as fast as COPY can)
  compare / reladiff                    compare time / reladiff time (below 1.0: compare is faster)
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.compare_data import KEY, PlantedCase
from plumbing.text import human_size

# issue 24, box 11
MIN_THROUGHPUT_RATIO = 0.5
MAX_COMPARE_TO_RELADIFF = 1.0
MAX_PEAK_RSS_MB = 300.0
# How compare (either engine) words each kind of difference, in its JSON's field names and in its evidence text.
KIND_WORDS = {"changed": "changed", "missing": "missing", "extra": "extra"}
# Fields that hold a key as a chunk's bound, not as a differing row.
BOUND_FIELDS = frozenset({"lower", "upper", "reached", "first", "last", "start", "end", "bounds", "from_key", "to_key"})


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def timing(values: Sequence[float]) -> dict[str, Any]:
    return {"median": median(values), "runs": [round(value, 3) for value in values]}


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def _field(path: str) -> str:
    """The field name at the end of `path`: `changed` for `tables[0].differences[0].changed[2]`."""
    return path.rsplit(".", 1)[-1].split("[", 1)[0]


def _walk(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, Mapping):
        for name, child in node.items():
            yield from _walk(child, f"{path}.{name}" if path else str(name))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _walk(child, f"{path}[{index}]")


def named_key_paths(document: Any, key: int) -> list[str]:
    """Where compare's --json names `key`: objects `{"id": key}` (as text or number) and evidence text `(id)=(key)`."""
    wanted = {str(key)}
    pattern = re.compile(rf"\({KEY}\)=[^;]*?\({key}\)")

    def names_key(path: str, node: Any) -> bool:
        if isinstance(node, Mapping):
            return str(node.get(KEY)) in wanted and _field(path) not in BOUND_FIELDS
        return isinstance(node, str) and pattern.search(node) is not None

    return [path for path, node in _walk(document, "") if names_key(path, node)]


def kind_named(document: Any, key: int, kind: str, paths: Sequence[str]) -> bool:
    """Whether compare said what kind of difference it was: in the field name holding the key, or next to it in text."""
    word = KIND_WORDS[kind]
    if any(word in _field(path) for path in paths):
        return True
    pattern = re.compile(rf"{word}[^;]*?\({KEY}\)=[^;]*?\({key}\)")
    return any(isinstance(node, str) and pattern.search(node) for _, node in _walk(document, ""))


@dataclass(frozen=True, kw_only=True)
class CaseResult:
    name: str
    kind: str
    key: int
    exit_code: int | None
    named_at: list[str]
    """Where compare's --json names the key."""
    kind_named: bool
    reverted: bool
    seconds: float
    error: str | None = None

    @property
    def found(self) -> bool:
        return self.exit_code == 1 and bool(self.named_at)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "found": self.found}


def judge_case(case: PlantedCase, *, exit_code: int | None, document: Any, reverted: bool, seconds: float) -> CaseResult:
    paths = [] if document is None else named_key_paths(document, case.key)
    return CaseResult(
        name=case.name,
        kind=case.kind,
        key=case.key,
        exit_code=exit_code,
        named_at=paths,
        kind_named=document is not None and kind_named(document, case.key, case.kind, paths),
        reverted=reverted,
        seconds=round(seconds, 3),
        error=None if document is not None else "compare printed no JSON document",
    )


def targets(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    ratios, memory = result["ratios"], result["memory"]
    cases = result["cases"]

    def verdict(ok: bool | None) -> str:
        return "not run" if ok is None else ("pass" if ok else "FAIL")

    throughput, versus = ratios["throughput_ratio_to_read_floor"], ratios["compare_to_reladiff"]
    peak = memory["compare_peak_rss_mb"]
    return [
        {
            "target": f"compare's throughput at least {MIN_THROUGHPUT_RATIO}x the read floor's",
            "value": throughput,
            "verdict": verdict(None if throughput is None else throughput >= MIN_THROUGHPUT_RATIO),
        },
        {
            "target": "compare faster than reladiff on identical data (compare / reladiff below 1)",
            "value": versus,
            "verdict": verdict(None if versus is None else versus < MAX_COMPARE_TO_RELADIFF),
        },
        {
            "target": f"compare's peak client memory under {MAX_PEAK_RSS_MB:g} MB",
            "value": peak,
            "verdict": verdict(None if peak is None else peak < MAX_PEAK_RSS_MB),
        },
        {
            "target": "compare exits 0 on identical data",
            "value": result["compare"]["exit_codes"],
            "verdict": verdict(result["compare"]["passed_identical"]),
        },
        {
            "target": "a planted single-row update, delete and insert each found and named by key (exit 1)",
            "value": [case["name"] for case in cases if case["found"]],
            "verdict": verdict(bool(cases) and all(case["found"] for case in cases)),
        },
    ]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _rows(result: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(what, median seconds, compare's throughput relative to it)."""
    timings = result["timings"]
    compare_s = timings["compare_s"]["median"]

    def relative(name: str) -> str:
        return _times(ratio(timings[name]["median"], compare_s))

    reladiff = result["reladiff"]
    rows = [
        (
            "read floor: COPY TO STDOUT of both tables in parallel (psql)",
            _seconds(timings["read_floor_s"]["median"]),
            relative("read_floor_s"),
        ),
        (
            "read floor through psycopg (two threads)",
            _seconds(timings["read_floor_psycopg_s"]["median"]),
            relative("read_floor_psycopg_s"),
        ),
        (
            "hash floor: sum(hashtextextended(t::text, 0)), both sides",
            _seconds(timings["hash_floor_s"]["median"]),
            relative("hash_floor_s"),
        ),
    ]
    if reladiff["skipped"]:
        rows.append(("reladiff", "skipped", "-"))
    else:
        rows.append(
            (f"reladiff {reladiff['version']} (`-k id -c %`)", _seconds(timings["reladiff_s"]["median"]), relative("reladiff_s"))
        )
    rows.append(("this project's compare", _seconds(compare_s), "1.00x"))
    return rows


def _setup_line(result: Mapping[str, Any]) -> str:
    machine, size = result["machine"], result["bytes_per_side"]
    load = ", ".join(f"{value:.2f}" for value in machine["load_average_start"])
    return (
        f"{machine['cores']} cores, {machine['memory_gib']:.0f} GiB, load average {load} at the start; "
        f"two local PostgreSQL {machine['postgres']} servers; {result['rows']:,} rows of mixed types, "
        f"{human_size(size['table_bytes'])} per side ({human_size(size['total_bytes'])} with the key's index); "
        f"median of {result['repeat']}, identical data"
    )


def _cases_line(result: Mapping[str, Any]) -> str:
    described = [
        f"{case['name']} of id {case['key']}: "
        + ("found and named" if case["found"] else f"NOT found (exit {case['exit_code']})")
        for case in result["cases"]
    ]
    return "; ".join(described) if described else "not run"


def render_text(result: Mapping[str, Any]) -> str:
    memory, ratios = result["memory"], result["ratios"]
    rows = _rows(result)
    width = max(len(row[0]) for row in rows)
    lines = [_setup_line(result), ""]
    lines.append(f"{'what':<{width}}  {'seconds':>8}  compare's throughput relative to it")
    lines += [f"{what:<{width}}  {seconds:>8}  {relative}" for what, seconds, relative in rows]
    lines += [
        "",
        f"throughput ratio to the read floor (floor / compare): {_times(ratios['throughput_ratio_to_read_floor'])}",
        f"compare / reladiff: {_times(ratios['compare_to_reladiff'])}",
        f"peak client memory (process tree): compare {_mb(memory['compare_peak_rss_mb'])}, "
        f"reladiff {_mb(memory['reladiff_peak_rss_mb'])}",
        f"planted cases: {_cases_line(result)}",
        "",
    ]
    lines += [f"{target['verdict']:<8} {target['target']}" for target in result["targets"]]
    return "\n".join(lines)


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


def render_markdown(result: Mapping[str, Any]) -> str:
    memory, ratios = result["memory"], result["ratios"]
    lines = [
        f"Measured by `{result['rerun']}` ({result['started'][:10]}): {_setup_line(result)}.",
        "",
        "| what | seconds | compare's throughput relative to it |",
        "|---|---:|---:|",
    ]
    lines += [f"| {what} | {seconds} | {relative} |" for what, seconds, relative in _rows(result)]
    lines += [
        "",
        f"Throughput ratio to the read floor (floor time / compare time): {_times(ratios['throughput_ratio_to_read_floor'])} "
        f"(target at least {MIN_THROUGHPUT_RATIO}x); compare time / reladiff time: {_times(ratios['compare_to_reladiff'])} "
        f"(target below 1). Peak client memory (process tree): compare {_mb(memory['compare_peak_rss_mb'])}, "
        f"reladiff {_mb(memory['reladiff_peak_rss_mb'])} (target under {MAX_PEAK_RSS_MB:g} MB). "
        f"Planted single-row differences on the target: {_cases_line(result)}.",
    ]
    return "\n".join(lines)
