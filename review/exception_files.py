"""The reviewed-exception files, one pydantic model per kind, and the one loader that reads them.

Three files in `review/exceptions/`, each an array of TOML tables a reviewer approves entry by entry:

- `checkov-waivers.toml`: `[[waiver]]` check_id, address, when, reason (the checkov gate, checkov_scan.py);
- `acknowledged-risks.toml`: `[[acknowledge]]` address, stack, change, reason (the plan risk report, plan_risk/);
- `iam-lint-waivers.toml`: `[[waiver]]` issue, target, reason (the IAM lint of the AWS contract gate).

Models are frozen, refuse unknown keys and take strict types (a number is not a string). Problems are reported
as config/loader.py reports them, one line each, all at once: `<file>: <entry>.<field>: <what is allowed>, got
<value>`, the entry named by its table and position (`waiver #2`, counted from 1 as the file reads).
"""

from __future__ import annotations

import operator
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from config.model import EnvironmentConfig
from review.plan_risk.transitions import KINDS

EXCEPTIONS_DIR = Path(__file__).resolve().parent / "exceptions"
CHECKOV_WAIVERS_FILE = EXCEPTIONS_DIR / "checkov-waivers.toml"
ACKNOWLEDGEMENTS_FILE = EXCEPTIONS_DIR / "acknowledged-risks.toml"
IAM_WAIVERS_FILE = EXCEPTIONS_DIR / "iam-lint-waivers.toml"

MIN_WAIVER_REASON_CHARS = 40
MIN_ACKNOWLEDGEMENT_REASON_CHARS = 20
CHECK_ID = re.compile(r"CKV2?_[A-Z0-9]+_\d+")
WAIVER_ADDRESS = re.compile(r"(data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+")
# Terraform's resource address: module calls (each with an optional count index or for_each key), then type.name[key].
_KEY = r'(\[(\d+|"([^"\\]|\\.)*")\])?'
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
PLAN_ADDRESS = re.compile(rf"(module\.{_NAME}{_KEY}\.)*[a-z][a-z0-9_]*\.{_NAME}{_KEY}")
STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
EXAMPLE_ADDRESS = "aws_rds_cluster.aurora_cluster_059EF40F"
EXAMPLE_STACK = "aurora-migration-dev"


@dataclass(frozen=True, kw_only=True)
class ExceptionFileError(Exception):
    """Every problem of a reviewed-exception file (or of `--acknowledge`), one line each."""

    problems: tuple[str, ...]

    def __str__(self) -> str:
        return "\n".join(self.problems)


def _shaped(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"expected {what}")
        return value

    return AfterValidator(check)


def _reason(min_chars: int, why: str) -> AfterValidator:
    """Whitespace collapsed (TOML multi-line strings), then at least `min_chars` characters."""

    def check(value: str) -> str:
        collapsed = " ".join(value.split())
        if len(collapsed) < min_chars:
            raise ValueError(f"must say why {why} (at least {min_chars} characters)")
        return collapsed

    return AfterValidator(check)


def _stripped(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


WaiverAddress = Annotated[str, _shaped(WAIVER_ADDRESS, f"a Terraform address like {EXAMPLE_ADDRESS!r}")]
PlanAddress = Annotated[str, _shaped(PLAN_ADDRESS, f"a Terraform address like {EXAMPLE_ADDRESS!r}")]


class ExceptionModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class _CheckovFinding(Protocol):
    @property
    def environment(self) -> str: ...
    @property
    def check_id(self) -> str: ...
    @property
    def address(self) -> str: ...


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
CONDITION = re.compile(r"(?P<field>[a-z_]+(\.[a-z_]+)*) *(?P<op>==|!=|<=|>=|<|>) *(?P<value>\S.*)")
EXAMPLE_CONDITION = "aurora.deletion_protection == false"


@dataclass(frozen=True, kw_only=True)
class ConfigCondition:
    """`<config field> <operator> <TOML value>`: what an environment's config chooses, e.g. deletion protection off."""

    field: str
    op: str
    value: bool | int | float | str

    def holds(self, config: EnvironmentConfig) -> bool:
        current: Any = config
        for part in self.field.split("."):
            current = getattr(current, part)
        return _OPERATORS[self.op](current, self.value)


def parse_condition(text: str) -> ConfigCondition:
    """ValueError says what is wrong: the shape, a field the config does not have, a value of the wrong kind."""
    match = CONDITION.fullmatch(text.strip())
    if not match:
        raise ValueError(
            f"expected '<config field> <operator> <TOML value>' (operators {', '.join(_OPERATORS)}), like {EXAMPLE_CONDITION!r}"
        )
    field, op = match.group("field"), match.group("op")
    try:
        value = tomllib.loads(f"value = {match.group('value')}")["value"]
    except tomllib.TOMLDecodeError:
        raise ValueError(f"the value is not a TOML true, false, number or quoted string: {match.group('value')}") from None
    annotation = _leaf_annotation(field)
    if not isinstance(value, bool | int | float | str):
        raise ValueError("the value must be true, false, a number or a quoted string")
    if op not in ("==", "!=") and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValueError(f"{op} compares numbers only")
    if not _fits(value, annotation):
        raise ValueError(f"{field} never holds {value!r}")
    return ConfigCondition(field=field, op=op, value=value)


def _leaf_annotation(field: str) -> Any:
    model: type[BaseModel] = EnvironmentConfig
    parts = field.split(".")
    for depth, part in enumerate(parts):
        if part not in model.model_fields:
            where = ".".join(parts[:depth]) or "the config"
            raise ValueError(f"{where} has no field {part!r} (fields: {', '.join(sorted(model.model_fields))})")
        annotation = model.model_fields[part].annotation
        if depth < len(parts) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                raise ValueError(f"{'.'.join(parts[: depth + 1])} is a value, not a table")
            model = annotation
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            raise ValueError(f"{field} is a table: name one of its fields")
    return model.model_fields[parts[-1]].annotation


def _fits(value: bool | int | float | str, annotation: Any) -> bool:
    """Whether a field of `annotation` can hold `value`: catches `deletion_protection == "no"` and misspelt choices."""
    try:
        TypeAdapter(annotation).validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


def _condition(text: str) -> str:
    parse_condition(text)
    return text.strip()


Condition = Annotated[str, AfterValidator(_condition)]


class CheckovWaiver(ExceptionModel):
    """One reviewed checkov finding: a check on one address, in every environment whose config makes all of `when`
    true (no `when`: every environment)."""

    check_id: Annotated[str, _shaped(CHECK_ID, "a checkov id like 'CKV_AWS_139' or 'CKV2_AWS_8'")]
    address: WaiverAddress
    when: Annotated[tuple[Condition, ...], Field(strict=False)] = ()
    """Conditions on the environment's config, e.g. ("aurora.deletion_protection == false",)."""
    reason: Annotated[str, _reason(MIN_WAIVER_REASON_CHARS, "the risk is accepted")]

    def applies_to(self, config: EnvironmentConfig) -> bool:
        return all(parse_condition(text).holds(config) for text in self.when)

    def covers(self, finding: _CheckovFinding, config: EnvironmentConfig) -> bool:
        return finding.check_id == self.check_id and finding.address == self.address and self.applies_to(config)

    def describe(self) -> str:
        return f"{self.check_id} {self.address} when {' and '.join(self.when) or 'always'}"


def _change_kind(value: str) -> str:
    if value not in KINDS:
        raise ValueError(f"expected one of {', '.join(sorted(KINDS))}")
    return value


class PlanAcknowledgement(ExceptionModel):
    """One dangerous plan change accepted: exactly this address, in this stack, for this kind of change."""

    address: PlanAddress
    stack: Annotated[str, _shaped(STACK_NAME, f"a stack name like {EXAMPLE_STACK!r}")]
    change: Annotated[str, AfterValidator(_change_kind)]
    """replace, destroy, or a named risky transition (review/plan_risk/transitions.py, KINDS)."""
    reason: Annotated[str, _reason(MIN_ACKNOWLEDGEMENT_REASON_CHARS, "the loss is accepted")]

    def describe(self) -> str:
        """`ADDRESS@STACK:CHANGE`, the form `--acknowledge` takes."""
        return f"{self.address}@{self.stack}:{self.change}"


class _IamFinding(Protocol):
    @property
    def address(self) -> str: ...
    @property
    def attribute(self) -> str: ...
    @property
    def issue(self) -> str: ...


class IamWaiver(ExceptionModel):
    """One parliament issue waived for every document of a kind, or for one document."""

    issue: Annotated[str, AfterValidator(_stripped)]
    target: Annotated[str, AfterValidator(_stripped)]
    """`<resource type>.<attribute>` (every such document) or `<address>.<attribute>` (one)."""
    reason: Annotated[str, AfterValidator(_stripped)]

    def covers(self, finding: _IamFinding) -> bool:
        kind = finding.address.split(".")[0]
        return self.issue == finding.issue and self.target in (
            f"{kind}.{finding.attribute}",
            f"{finding.address}.{finding.attribute}",
        )


class CheckovWaiverFile(ExceptionModel):
    waiver: Annotated[tuple[CheckovWaiver, ...], Field(strict=False)] = ()

    @model_validator(mode="after")
    def _one_per_check_and_address(self) -> CheckovWaiverFile:
        problems, seen = [], set()
        for number, waiver in enumerate(self.waiver, start=1):
            if (waiver.check_id, waiver.address) in seen:
                problems.append(
                    f"waiver #{number}: second waiver for {waiver.check_id} {waiver.address}: "
                    "merge them (one per check and address)"
                )
            seen.add((waiver.check_id, waiver.address))
        if problems:
            raise ValueError("\n".join(problems))
        return self


class AcknowledgementFile(ExceptionModel):
    acknowledge: Annotated[tuple[PlanAcknowledgement, ...], Field(strict=False)] = ()

    @model_validator(mode="after")
    def _once_per_change(self) -> AcknowledgementFile:
        problems, seen = [], set()
        for number, entry in enumerate(self.acknowledge, start=1):
            if entry.describe() in seen:
                problems.append(f"acknowledge #{number}: {entry.describe()} is acknowledged twice")
            seen.add(entry.describe())
        if problems:
            raise ValueError("\n".join(problems))
        return self


class IamWaiverFile(ExceptionModel):
    waiver: Annotated[tuple[IamWaiver, ...], Field(strict=False)] = ()


FileModel = TypeVar("FileModel", bound=ExceptionModel)


def load_exception_file(path: Path, model: type[FileModel], *, missing_ok: bool = False) -> FileModel:
    """Read and validate one file; ExceptionFileError names every problem. A missing file is empty if `missing_ok`."""
    label = _label(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if missing_ok:
            return model()
        raise ExceptionFileError(problems=(f"{label}: file not found",)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ExceptionFileError(problems=(f"{label}: not readable: {error}",)) from None
    except tomllib.TOMLDecodeError as error:
        raise ExceptionFileError(problems=(f"{label}: not valid TOML: {error}",)) from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ExceptionFileError(problems=tuple(f"{label}: {line}" for line in describe_errors(error, model))) from None


def load_checkov_waivers(path: Path = CHECKOV_WAIVERS_FILE) -> tuple[CheckovWaiver, ...]:
    return load_exception_file(path, CheckovWaiverFile).waiver


def load_acknowledgement_entries(path: Path = ACKNOWLEDGEMENTS_FILE) -> tuple[PlanAcknowledgement, ...]:
    """A missing file acknowledges nothing."""
    return load_exception_file(path, AcknowledgementFile, missing_ok=True).acknowledge


def load_iam_waivers(path: Path = IAM_WAIVERS_FILE) -> tuple[IamWaiver, ...]:
    return load_exception_file(path, IamWaiverFile).waiver


def describe_errors(error: ValidationError, model: type[BaseModel]) -> list[str]:
    """`<entry>.<field>: what is wrong, got <value>` for each pydantic error (config/loader.py's format)."""
    lines = []
    for item in error.errors(include_url=False):
        location = _location(item["loc"])
        message = _message(item, model)
        # Rules over the whole file name their entries and values themselves: never echo the file.
        whole = item["type"] == "value_error" and _model_at(item["loc"], model) is not None
        got = "" if item["type"] in ("missing", "extra_forbidden") or whole else f", got {item['input']!r}"
        for line in message.splitlines():
            lines.append(f"{location}: {line}{got}" if location else f"{line}{got}")
    return lines


FIXED_MESSAGES = {"missing": "required field is missing", "too_short": "must not be empty", "tuple_type": "expected an array"}


def _message(item: Mapping[str, Any], model: type[BaseModel]) -> str:
    location, kind = item["loc"], item["type"]
    if kind == "extra_forbidden":
        return f"unknown key (allowed here: {', '.join(_fields_at(location[:-1], model))})"
    if kind == "model_type":
        return f"expected a table with {', '.join(_fields_at(location, model))}"
    if kind == "tuple_type" and len(location) == 1:
        return f"expected an array of tables ([[{location[0]}]])"
    return FIXED_MESSAGES.get(kind) or str(item["msg"]).removeprefix("Value error, ").replace("Input should be", "expected")


def _location(location: Sequence[int | str]) -> str:
    """`waiver #2.environments[0]`: the entry counted from 1, positions inside it from 0 as in a path."""
    text = ""
    for depth, part in enumerate(location):
        if isinstance(part, int):
            text += f" #{part + 1}" if depth == 1 else f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _model_at(location: Sequence[int | str], model: type[BaseModel]) -> type[BaseModel] | None:
    """The model a location points at (the file, an entry), or None for a field."""
    if not location:
        return model
    entries = model.model_fields.get(str(location[0]))
    entry_type = getattr(entries.annotation, "__args__", (None,))[0] if entries else None
    if len(location) == 2 and isinstance(location[1], int) and isinstance(entry_type, type):
        return entry_type if issubclass(entry_type, BaseModel) else None
    return None


def _fields_at(location: Sequence[int | str], model: type[BaseModel]) -> list[str]:
    found = _model_at(location, model)
    return sorted(found.model_fields) if found is not None else []


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
