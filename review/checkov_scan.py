"""The checkov gate: scan the synthesized stacks, subtract reviewed waivers, report the rest.

    python -m review.checkov_scan [--synth DIR] [--waivers FILE]

One checkov process scans every stack file (`-f a.json b.json ...`): checkov's
start-up is most of its run time, and every result carries the absolute path
of its file, so findings stay attributable to their environment. Findings are
keyed by Terraform address (`aws_rds_cluster.aurora_cluster_059EF40F`): the
logical ids are the state address contract, so they are stable across synths.

Waivers live in `security/checkov-waivers.toml`, one `[[waiver]]` per
(check id, address), with the environments it applies to and a reason. The
gate fails on a finding no waiver covers, and on a waiver that no longer
matches a finding in one of its environments (stale: the exception outlived
its cause and must be deleted or narrowed).

checkov runs offline: `--skip-download` and `CKV_SKIP_PACKAGE_UPDATE_CHECK`
(otherwise it asks PyPI for a newer version at import time).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.layout import STACK_FILE, STACKS_DIR
from review.stackdiff import REPO_ROOT, SYNTH_DIR

WAIVERS_FILE = REPO_ROOT / "security" / "checkov-waivers.toml"
FRAMEWORK = "terraform_json"
OFFLINE_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "True", "BC_SKIP_MAPPING": "TRUE"}
MIN_REASON_CHARS = 40
WAIVER_KEYS = {"check_id", "address", "environments", "reason"}
CHECK_ID = re.compile(r"CKV2?_[A-Z0-9]+_\d+")
ADDRESS = re.compile(r"(data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+")
EXIT_GATE_FAILED = 1
EXIT_NO_INPUT = 2


class CheckovError(RuntimeError):
    """checkov could not produce a usable result (crash, parse errors, a file it did not evaluate)."""


class WaiverFileError(ValueError):
    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, order=True)
class Finding:
    """One failed check on one resource of one environment."""

    environment: str
    check_id: str
    address: str
    check_name: str = field(default="", compare=False)

    def describe(self) -> str:
        return f"{self.check_id} {self.address} [{self.environment}]: {self.check_name}"


@dataclass(frozen=True)
class Waiver:
    check_id: str
    address: str
    environments: tuple[str, ...]
    reason: str

    def covers(self, finding: Finding) -> bool:
        return finding.check_id == self.check_id and finding.address == self.address and finding.environment in self.environments

    def describe(self) -> str:
        return f"{self.check_id} {self.address} {list(self.environments)}"


def load_waivers(path: Path = WAIVERS_FILE) -> list[Waiver]:
    """Parse and validate the waiver file; every problem is reported at once."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WaiverFileError([f"{path}: file not found"]) from None
    except tomllib.TOMLDecodeError as error:
        raise WaiverFileError([f"{path}: not valid TOML: {error}"]) from None
    problems = [f"{path.name}: unknown top-level key {key!r} (only [[waiver]] tables)" for key in data if key != "waiver"]
    entries = data.get("waiver", [])
    if not isinstance(entries, list):
        raise WaiverFileError([*problems, f"{path.name}: `waiver` must be an array of tables ([[waiver]])"])
    waivers: list[Waiver] = []
    seen: set[tuple[str, str]] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path.name} waiver #{number}"
        entry_problems = _entry_problems(entry, where)
        problems += entry_problems
        if entry_problems:
            continue
        waiver = Waiver(
            check_id=entry["check_id"],
            address=entry["address"],
            environments=tuple(entry["environments"]),
            reason=" ".join(entry["reason"].split()),
        )
        key = (waiver.check_id, waiver.address)
        if key in seen:
            problems.append(
                f"{where}: second waiver for {waiver.check_id} {waiver.address}: merge them (one per check and address)"
            )
        seen.add(key)
        waivers.append(waiver)
    if problems:
        raise WaiverFileError(problems)
    return waivers


def _entry_problems(entry: Any, where: str) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where}: expected a table"]
    problems = [f"{where}: missing key {key!r}" for key in sorted(WAIVER_KEYS - set(entry))]
    problems += [f"{where}: unknown key {key!r} (allowed: {sorted(WAIVER_KEYS)})" for key in sorted(set(entry) - WAIVER_KEYS)]
    check_id, address = entry.get("check_id"), entry.get("address")
    if "check_id" in entry and not (isinstance(check_id, str) and CHECK_ID.fullmatch(check_id)):
        problems.append(f"{where}: check_id {check_id!r} is not a checkov id like 'CKV_AWS_139' or 'CKV2_AWS_8'")
    if "address" in entry and not (isinstance(address, str) and ADDRESS.fullmatch(address)):
        problems.append(f"{where}: address {address!r} is not a Terraform address like 'aws_rds_cluster.aurora_cluster_059EF40F'")
    environments = entry.get("environments")
    if "environments" in entry and not (
        isinstance(environments, list)
        and environments
        and all(isinstance(name, str) and name for name in environments)
        and len(set(environments)) == len(environments)
    ):
        problems.append(
            f"{where}: environments must be a non-empty list of distinct suffixes, e.g. ['dev'], got {environments!r}"
        )
    reason = entry.get("reason")
    if "reason" in entry and not (isinstance(reason, str) and len(" ".join(reason.split())) >= MIN_REASON_CHARS):
        problems.append(f"{where}: reason must say why the risk is accepted (at least {MIN_REASON_CHARS} characters)")
    return problems


def unknown_environments(waivers: Sequence[Waiver], known: Sequence[str]) -> list[str]:
    return [
        f"waiver {waiver.describe()} names unknown environment {name!r} (known: {sorted(known)})"
        for waiver in waivers
        for name in waiver.environments
        if name not in known
    ]


@dataclass
class GateResult:
    unwaived: list[Finding] = field(default_factory=list)
    waived: list[tuple[Finding, Waiver]] = field(default_factory=list)
    stale: list[tuple[Waiver, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.unwaived and not self.stale

    def problems(self) -> list[str]:
        lines = [f"not waived: {finding.describe()}" for finding in sorted(self.unwaived)]
        lines += [
            f"stale waiver: {waiver.check_id} {waiver.address} no longer fails in {environment}: "
            "delete it or drop that environment from it"
            for waiver, environment in self.stale
        ]
        return lines


def evaluate(findings: Mapping[str, Sequence[Finding]], waivers: Sequence[Waiver]) -> GateResult:
    """Split findings into waived and not waived; a waiver is stale in a scanned environment where it matches nothing."""
    result = GateResult()
    used: set[tuple[int, str]] = set()
    for environment in findings:
        for finding in findings[environment]:
            cover = next((waiver for waiver in waivers if waiver.covers(finding)), None)
            if cover is None:
                result.unwaived.append(finding)
            else:
                result.waived.append((finding, cover))
                used.add((id(cover), environment))
    for waiver in waivers:
        for environment in waiver.environments:
            if environment in findings and (id(waiver), environment) not in used:
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


def scan(files: Mapping[str, Path], *, timeout_seconds: float = 600) -> ScanResult:
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
    completed = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **OFFLINE_ENV}, timeout=timeout_seconds, check=False
    )
    seconds = time.perf_counter() - started
    if completed.returncode not in (0, 1):  # 1 = some check failed
        raise CheckovError(f"checkov exited {completed.returncode}:\n{completed.stderr[-3000:]}")
    try:
        output = json.loads(completed.stdout)
    except ValueError:
        raise CheckovError(f"checkov printed no JSON report:\n{completed.stdout[-1500:]}\n{completed.stderr[-1500:]}") from None
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


def _stack_labels(stacks: Sequence[str]) -> dict[str, str]:
    """Stack name -> environment suffix, from config/ (stacks it does not know keep their stack name)."""
    from config import environment_files, load_environments

    known = {config.stack_name: config.environment_suffix for config in load_environments(environment_files())}
    return {stack: known.get(stack, stack) for stack in stacks}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review.checkov_scan", description="checkov gate with reviewed waivers")
    parser.add_argument("--synth", type=Path, default=SYNTH_DIR, help="cdktf output directory (default: %(default)s)")
    parser.add_argument("--waivers", type=Path, default=WAIVERS_FILE, help="waiver file (default: %(default)s)")
    args = parser.parse_args(argv)

    stack_files = {path.parent.name: path for path in sorted((args.synth / STACKS_DIR).glob(f"*/{STACK_FILE}"))}
    missing = checkov_missing()
    if not stack_files or missing:
        print(missing or f"checkov_scan: no {args.synth}/stacks/*/{STACK_FILE}: run `make synth` first", file=sys.stderr)
        return EXIT_NO_INPUT
    try:
        waivers = load_waivers(args.waivers)
    except WaiverFileError as error:
        print(f"checkov_scan: bad waiver file:\n{error}", file=sys.stderr)
        return EXIT_NO_INPUT
    labels = _stack_labels(list(stack_files))
    result = scan({labels[stack]: path for stack, path in stack_files.items()})
    gate = evaluate(result.findings, waivers)
    problems = gate.problems() + unknown_environments(waivers, list(labels.values()))
    for label, items in result.findings.items():
        waived = sum(1 for finding, _ in gate.waived if finding.environment == label)
        print(f"{label}: {result.passed_counts[label]} passed, {len(items)} failed ({waived} waived)")
    print(f"checkov {result.seconds:.1f} s, waivers: {args.waivers}")
    for line in problems:
        print(line)
    return EXIT_GATE_FAILED if problems else 0


if __name__ == "__main__":
    sys.exit(main())
