"""The configuration and alarm references (docs/reference.md), generated from the config model and the alarm specs.

`python -m docgen.reference` prints the configuration table; `--write` replaces the
configuration and alarm tables between the markers of docs/reference.md (`--write FILE`: of FILE).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from config.model import AuroraConfig, EnvironmentConfig, MonitoringConfig
from contract.aurora import MIB
from contract.naming import Naming
from modules.alarms import LATENCY_METRIC_UNITS_PER_MS, MonitoringProps, alarm_specs
from plumbing.exit_codes import ExitCode
from stacks.alarm_props import alarm_thresholds, instance_max_connections, serverless_max_capacity_acu


def reference_table(model: type[BaseModel] = EnvironmentConfig) -> str:
    rows = ["| key | default | meaning |", "| --- | --- | --- |"]
    rows.extend(_rows(model, prefix=""))
    return "\n".join(rows)


def _rows(model: type[BaseModel], *, prefix: str) -> list[str]:
    rows: list[str] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested.append((name, annotation))
            continue
        rows.append(f"| `{prefix}{name}` | {_default(info)} | {(info.description or '').replace('|', '/')} |")
    for name, section in nested:
        summary = " ".join((section.__doc__ or "").strip().split("\n\n")[0].split())  # the first paragraph
        rows.append(f"| **`[{prefix}{name}]`** | | {summary.replace('|', '/')} |")
        rows.extend(_rows(section, prefix=f"{prefix}{name}."))
    return rows


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    value = info.get_default(call_default_factory=True) if info.default is PydanticUndefined else info.default
    if isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
        value = [item.model_dump() for item in value]
    return f"`{value!r}`".replace("|", "/") if value not in ((), {}, None) else "none"


def alarm_table() -> str:
    """The default alarms of an environment with three instances, and what on-call checks first."""
    aurora, monitoring = AuroraConfig(), MonitoringConfig()
    naming = Naming(prefix="aurora-migration", suffix="<env>")
    props = MonitoringProps(
        naming=naming,
        account_id="<account>",
        partition="aws",
        region="<region>",
        thresholds=alarm_thresholds(monitoring),
        period_seconds=monitoring.period_seconds,
        evaluation_periods=monitoring.evaluation_periods,
        subscriptions=(),
        cluster_identifier="<cluster>",
        instance_identifiers=("db-1", "db-2", "db-3"),
        instance_max_connections=instance_max_connections(aurora),
        serverless_max_capacity_acu=serverless_max_capacity_acu(aurora),
        reader_auto_scaling=aurora.auto_scaling.enabled,
        replication_instance_identifier="<replication-instance>",
        replication_task_identifier="<task>",
        replication_task_resource_id="<task-id>",
        replication_task_arn="<task-arn>",
    )
    rows = ["| alarm | metric | fires when | what it means, what to check first |", "| --- | --- | --- | --- |"]
    for spec in alarm_specs(props):
        operator = ">" if spec.comparison == "GreaterThanThreshold" else "<"
        in_bytes = spec.metric.name in ("FreeableMemory", "FreeLocalStorage", "FreeStorageSpace", "SwapUsage")
        threshold, unit = (spec.threshold / MIB, " MiB") if in_bytes else (spec.threshold, "")
        if spec.metric.name in ("ReadLatency", "WriteLatency"):
            threshold, unit = spec.threshold / LATENCY_METRIC_UNITS_PER_MS, " ms"
        rows.append(
            f"| `{naming.alarm(spec.purpose)}` | {spec.metric.namespace} {spec.metric.name} ({spec.metric.statistic}) "
            f"| {operator} {_number(threshold)}{unit} | {spec.description} |"
        )
    return "\n".join(rows)


def _number(value: float) -> str:
    """`80`, `0.5`, `1,000,000,000` (not `1e+09`)."""
    return f"{int(value):,}" if float(value).is_integer() and abs(value) >= 10_000 else f"{value:g}"


SECTIONS = {"config-reference": reference_table, "alarm-reference": alarm_table}
DEFAULT_TARGET = Path(__file__).resolve().parent.parent / "docs" / "reference.md"
USAGE = "usage: python -m docgen.reference [--write [FILE]]  (FILE default: docs/reference.md)"


def markers(document: str) -> list[str]:
    """The generated sections `document` has markers for."""
    return [marker for marker in SECTIONS if f"<!-- {marker}:start -->" in document]


def with_reference(document: str) -> str:
    """`document` with every generated table between its markers."""
    for marker, render in SECTIONS.items():
        start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
        head, found, rest = document.partition(start)
        if not found:
            continue
        _, _, tail = rest.partition(end)
        document = f"{head}{start}\n{render()}\n{end}{tail}"
    return document


def main(argv: list[str]) -> int:
    """No argument: print the configuration table. `--write [FILE]`: refresh the tables between the file's markers."""
    if not argv:
        print(reference_table())
        return ExitCode.OK
    if argv[0] != "--write" or len(argv) > 2:
        print(USAGE, file=sys.stderr)
        return ExitCode.ERROR
    target = Path(argv[1]) if len(argv) == 2 else DEFAULT_TARGET
    try:
        document = target.read_text(encoding="utf-8")
        if not markers(document):
            print(f"docgen.reference: {target} has no generated-table markers (<!-- config-reference:start -->)", file=sys.stderr)
            return ExitCode.ERROR
        target.write_text(with_reference(document), encoding="utf-8")
    except OSError as error:
        print(f"docgen.reference: cannot update {target}: {error.strerror or error}", file=sys.stderr)
        return ExitCode.ERROR
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
