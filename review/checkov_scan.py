"""The checkov gate: scan the synthesized stacks, subtract reviewed waivers, report the rest.

    python -m review.checkov_scan [--synth DIR] [--waivers FILE]

One checkov process scans every stack file (`-f a.json b.json ...`): checkov's
start-up is most of its run time, and every result carries the absolute path
of its file, so findings stay attributable to their environment. Findings are
keyed by Terraform address (`aws_rds_cluster.aurora_cluster_059EF40F`): the
logical ids are the state address contract, so they are stable across synths.

Waivers live in `review/exceptions/checkov-waivers.toml`, one `[[waiver]]` per
(check id, address), with what an environment's config must choose for it to
apply (`when`, e.g. `aurora.deletion_protection == false`) and a reason: a new
environment that chooses the same needs no new waiver. The gate fails on a
finding no waiver covers, and on a waiver that matches no finding in an
environment whose config makes its `when` true (stale: the exception outlived
its cause and must be deleted or narrowed).

Each stack is judged by the config it was synthesized from: config/ (or
AURORA_MIGRATION_CONFIG_DIR) plus the short-lived stack of ENVIRONMENT_SUFFIX
and ENVIRONMENT_BASE, as main.py reads them. A stack folder none of them makes
is not scanned, with a line saying so.

checkov runs offline: `--skip-download` and `CKV_SKIP_PACKAGE_UPDATE_CHECK`
(otherwise it asks PyPI for a newer version at import time).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config import ConfigError, EnvironmentConfig, environment_files, load_environments
from config.loader import CONFIG_DIR
from contract.layout import STACK_FILE, STACKS_DIR
from plumbing.exit_codes import ExitCode
from plumbing.tool import ToolError, run_tool, tail
from review.exception_files import CHECKOV_WAIVERS_FILE, CheckovWaiver, ExceptionFileError, load_checkov_waivers
from review.stackdiff import SYNTH_DIR

FRAMEWORK = "terraform_json"
OFFLINE_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "True", "BC_SKIP_MAPPING": "TRUE"}
TIMEOUT_SECONDS = 600


class CheckovError(RuntimeError):
    """checkov could not produce a usable result (crash, parse errors, a file it did not evaluate)."""


@dataclass(frozen=True, order=True)
class Finding:
    """One failed check on one resource of one environment."""

    environment: str
    check_id: str
    address: str
    check_name: str = field(default="", compare=False)

    def describe(self) -> str:
        return f"{self.check_id} {self.address} [{self.environment}]: {self.check_name}"


@dataclass
class GateResult:
    unwaived: list[Finding] = field(default_factory=list)
    waived: list[tuple[Finding, CheckovWaiver]] = field(default_factory=list)
    stale: list[tuple[CheckovWaiver, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.unwaived and not self.stale

    def problems(self) -> list[str]:
        lines = [f"not waived: {finding.describe()}" for finding in sorted(self.unwaived)]
        lines += [
            f"stale waiver: {waiver.check_id} {waiver.address} no longer fails in {environment}, whose config makes "
            f"its `when` true ({' and '.join(waiver.when) or 'always'}): delete it or narrow its `when`"
            for waiver, environment in self.stale
        ]
        return lines


def evaluate(
    findings: Mapping[str, Sequence[Finding]],
    waivers: Sequence[CheckovWaiver],
    configs: Mapping[str, EnvironmentConfig],
) -> GateResult:
    """Split findings into waived and not waived, each environment judged by its config (`configs`, by the same
    label); a waiver is stale in a scanned environment whose config it applies to where it matches nothing."""
    result = GateResult()
    used: set[tuple[int, str]] = set()
    for environment in findings:
        config = configs[environment]
        for finding in findings[environment]:
            cover = next((waiver for waiver in waivers if waiver.covers(finding, config)), None)
            if cover is None:
                result.unwaived.append(finding)
            else:
                result.waived.append((finding, cover))
                used.add((id(cover), environment))
    for waiver in waivers:
        for environment in findings:
            if waiver.applies_to(configs[environment]) and (id(waiver), environment) not in used:
                result.stale.append((waiver, environment))
    return result


def checkov_missing() -> str | None:
    """Why checkov cannot run in this interpreter, or None."""
    if importlib.util.find_spec("checkov") is None:
        return f"checkov is not installed for {sys.executable} (pipenv sync --dev installs the pinned 3.3.30)"
    return None


@dataclass
class ScanResult:
    findings: dict[str, list[Finding]]
    passed_counts: dict[str, int]
    seconds: float


def _resource_types_by_name(document: Mapping[str, Any]) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for resource_type, instances in (document.get("resource") or {}).items():
        for name in instances:
            names.setdefault(name, []).append(resource_type)
    return names


def normalize_address(reported: str, document: Mapping[str, Any]) -> str:
    """checkov's resource checks on terraform_json report `resource.<name>`; graph checks report `<type>.<name>`."""
    if not reported.startswith("resource."):
        return reported
    name = reported.removeprefix("resource.")
    types = _resource_types_by_name(document).get(name, [])
    return f"{types[0]}.{name}" if len(types) == 1 else reported


def checkov_readable(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document without settings checkov 3.3.30's JSON parser cannot read and no check looks at.

    Its parser expects every entry of the `terraform` block to be a block, so the string
    `required_version` fails the whole file ("this method receives only dicts"); the same parser
    fails on the top-level `moved` list (state renames, modules/moved.py), which holds no resource.
    """
    readable = {key: value for key, value in document.items() if key != "moved"}
    settings = readable.get("terraform")
    if isinstance(settings, Mapping):
        readable["terraform"] = {key: value for key, value in settings.items() if isinstance(value, Mapping)}
    return readable


def scan(files: Mapping[str, Path], *, timeout_seconds: float = TIMEOUT_SECONDS) -> ScanResult:
    """Run checkov once over every file (as `checkov_readable` copies); findings keyed by each file's label."""
    originals = {label: path.resolve() for label, path in files.items()}
    if len(set(originals.values())) != len(originals):
        raise ValueError("scan: two labels name the same file")
    documents = {label: json.loads(path.read_text(encoding="utf-8")) for label, path in originals.items()}
    with tempfile.TemporaryDirectory(prefix="checkov-") as copies:
        paths = {}
        for index, (label, document) in enumerate(documents.items()):
            copy = Path(copies) / str(index) / STACK_FILE
            copy.parent.mkdir()
            copy.write_text(json.dumps(checkov_readable(document), indent=2), encoding="utf-8")
            paths[label] = copy.resolve()
        return _scan_copies(paths, documents, timeout_seconds=timeout_seconds)


def _scan_copies(paths: Mapping[str, Path], documents: Mapping[str, Any], *, timeout_seconds: float) -> ScanResult:
    labels = {path: label for label, path in paths.items()}
    command = [sys.executable, "-m", "checkov.main", "--framework", FRAMEWORK, "--skip-download", "-o", "json"]
    command += ["-f", *map(str, paths.values())]
    started = time.perf_counter()
    try:
        completed = run_tool(command, env={**os.environ, **OFFLINE_ENV}, timeout_seconds=timeout_seconds)
    except ToolError as error:
        raise CheckovError(f"checkov could not run: {error}") from None
    seconds = time.perf_counter() - started
    if completed.returncode not in (0, 1):  # 1 = some check failed
        raise CheckovError(f"checkov exited {completed.returncode}:\n{tail(completed.stderr, 3000)}")
    try:
        output = json.loads(completed.stdout)
    except ValueError:
        raise CheckovError(
            f"checkov printed no JSON report:\n{tail(completed.stdout, 1500)}\n{tail(completed.stderr, 1500)}"
        ) from None
    reports = [report for report in (output if isinstance(output, list) else [output]) if "results" in report]

    findings: dict[str, list[Finding]] = {label: [] for label in paths}
    passed = dict.fromkeys(paths, 0)
    evaluated = dict.fromkeys(paths, 0)
    for report in reports:
        results = report["results"]
        if results.get("parsing_errors"):
            raise CheckovError(f"checkov could not parse: {results['parsing_errors']}")
        for kind in ("failed_checks", "passed_checks"):
            for record in results.get(kind, []):
                label = labels.get(Path(record["file_abs_path"]).resolve())
                if label is None:
                    raise CheckovError(f"checkov reported on a file it was not given: {record['file_abs_path']}")
                evaluated[label] += 1
                if kind == "passed_checks":
                    passed[label] += 1
                    continue
                findings[label].append(
                    Finding(
                        environment=label,
                        check_id=record["check_id"],
                        address=normalize_address(record["resource"], documents[label]),
                        check_name=record.get("check_name") or "",
                    )
                )
    silent = sorted(label for label, count in evaluated.items() if count == 0)
    if silent:
        raise CheckovError(f"checkov evaluated no check in {silent}: the file was not scanned, which must not pass the gate")
    return ScanResult(findings={label: sorted(items) for label, items in findings.items()}, passed_counts=passed, seconds=seconds)


def synthesized_configs(config_dir: Path) -> dict[str, EnvironmentConfig]:
    """Stack name -> the config it is synthesized from: `config_dir`'s files and the ENVIRONMENT_SUFFIX stack
    (ENVIRONMENT_BASE, default dev), as main.py reads them. Raises ConfigError."""
    configs = load_environments(
        environment_files(config_dir),
        ephemeral_suffix=os.environ.get("ENVIRONMENT_SUFFIX") or None,
        ephemeral_base=os.environ.get("ENVIRONMENT_BASE", "dev"),
    )
    return {config.stack_name: config for config in configs}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review.checkov_scan", description="checkov gate with reviewed waivers")
    parser.add_argument("--synth", type=Path, default=SYNTH_DIR, help="cdktf output directory (default: %(default)s)")
    parser.add_argument("--waivers", type=Path, default=CHECKOV_WAIVERS_FILE, help="waiver file (default: %(default)s)")
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=Path(os.environ.get("AURORA_MIGRATION_CONFIG_DIR", CONFIG_DIR)),
        help="environment files the stacks were synthesized from (default: $AURORA_MIGRATION_CONFIG_DIR or config/)",
    )
    args = parser.parse_args(argv)

    stack_files = {path.parent.name: path for path in sorted((args.synth / STACKS_DIR).glob(f"*/{STACK_FILE}"))}
    missing = checkov_missing()
    if not stack_files or missing:
        print(missing or f"checkov_scan: no {args.synth}/stacks/*/{STACK_FILE}: run `make synth` first", file=sys.stderr)
        return ExitCode.ERROR
    try:
        waivers = load_checkov_waivers(args.waivers)
    except ExceptionFileError as error:
        print(f"checkov_scan: bad waiver file:\n{error}", file=sys.stderr)
        return ExitCode.ERROR
    try:
        known = synthesized_configs(args.config_dir)
    except ConfigError as error:
        print(f"checkov_scan: configuration error:\n{error}", file=sys.stderr)
        return ExitCode.ERROR
    for stack in sorted(set(stack_files) - set(known)):
        print(
            f"not scanned: {stack}: no environment file in {args.config_dir} makes it (a short-lived stack: scan with "
            "its ENVIRONMENT_SUFFIX and ENVIRONMENT_BASE)"
        )
    configs = {known[stack].environment_suffix: known[stack] for stack in stack_files if stack in known}
    if not configs:
        print(f"checkov_scan: no stack in {args.synth}/stacks is made by {args.config_dir}: run `make synth`", file=sys.stderr)
        return ExitCode.ERROR
    try:
        result = scan({known[stack].environment_suffix: path for stack, path in stack_files.items() if stack in known})
    except CheckovError as error:
        print(f"checkov_scan: {error}", file=sys.stderr)
        return ExitCode.ERROR
    gate = evaluate(result.findings, waivers, configs)
    problems = gate.problems()
    for label, items in result.findings.items():
        waived = sum(1 for finding, _ in gate.waived if finding.environment == label)
        print(f"{label}: {result.passed_counts[label]} passed, {len(items)} failed ({waived} waived)")
    print(f"checkov {result.seconds:.1f} s, waivers: {args.waivers}")
    for line in problems:
        print(line)
    return ExitCode.FAILED if problems else ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
