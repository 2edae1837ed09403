"""Gate: no synthesized file holds password material.

Every file under the synth output is read as text and, when it is JSON,
walked as data (including JSON documents embedded in string attributes, such
as IAM policies). Allowed: write-only arguments (`*_wo`) whose value references
an `ephemeral.` resource or a local that is itself ephemeral (a local whose
value is an ephemeral reference: Terraform lets it flow only into write-only
arguments), `*_wo_version` numbers or expressions that reference no secret
value, and non-string settings such as `password_length`. Everything else that
looks like a credential is a finding. The patterns are precise enough to fail:
see the planted cases below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TEXT_PATTERNS: dict[str, re.Pattern[str]] = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    # 40 characters of the base64 alphabet, quoted, mixing upper, lower and digits (a SHA-1 in hex does not).
    "AWS secret access key": re.compile(
        r'"(?=[A-Za-z0-9/+]{40}\\?")(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[0-9])'
    ),
    "AWS secret access key assignment": re.compile(r"(?i)secret_?access_?key\W{1,6}[A-Za-z0-9/+=]{40}"),
    # "password": "..." (also escaped inside an embedded document); *_wo keys do not end in password.
    "password-like key with a string value": re.compile(r'(?i)\\?"[A-Za-z0-9_]*(?:password|passwd|secret_string)\\?"\s*:\s*\\?"'),
    # password = "..." / password = var.x inside an HCL expression such as jsonencode({...}).
    "password assigned something other than an ephemeral value": re.compile(
        r"(?i)\b(?:password|passwd)\s*=\s*(?!\s*ephemeral\.)\S"
    ),
    "credentials in a connection URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@\"\\]+:[^/\s@\"\\]+@"),
}
PASSWORD_KEY = re.compile(r"(?i)password|passwd|secret_string")
# References to attributes that hold secret values: using them outside a write-only argument copies them into state.
SECRET_REFERENCE = re.compile(r"\bephemeral\.|\.(?:secret_string|random_password|password)\b")


def _embedded(value: str) -> Any | None:
    if not value.lstrip().startswith(("{", "[")):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


EPHEMERAL_REFERENCE = re.compile(r"^\$\{ephemeral\.[A-Za-z0-9_.-]+\}$")


def ephemeral_locals(document: Any) -> frozenset[str]:
    """Locals whose whole value is an ephemeral reference (Terraform treats them as ephemeral too)."""
    locals_block = document.get("locals", {}) if isinstance(document, dict) else {}
    return frozenset(name for name, value in locals_block.items() if isinstance(value, str) and EPHEMERAL_REFERENCE.match(value))


def _string_finding(where: str, key: str, item: str, secret_reference: re.Pattern[str], ephemeral: frozenset[str]) -> str | None:
    write_only = key.endswith("_wo")
    if where.startswith("$.locals.") and key in ephemeral:
        return None  # an ephemeral local: never stored; where it flows is checked at the places that use it
    if key.endswith("_wo_version"):
        return f"{where}: a write-only version must not be derived from a secret value" if secret_reference.search(item) else None
    if write_only and PASSWORD_KEY.search(key) and not secret_reference.search(item):
        return f"{where}: write-only password argument without an ephemeral value"
    if not write_only and PASSWORD_KEY.search(key):
        return f"{where}: password-like argument holds a string (use a write-only *_wo argument)"
    if not write_only and secret_reference.search(item):
        return f"{where}: references a secret value outside a write-only argument"
    return None


def structural_findings(value: Any, path: str = "$", ephemeral: frozenset[str] | None = None) -> Iterator[str]:
    """Password-like keys holding strings, and secret references outside write-only arguments."""
    if ephemeral is None:
        ephemeral = ephemeral_locals(value)
    references = SECRET_REFERENCE.pattern + "".join(f"|\\blocal\\.{re.escape(name)}\\b" for name in sorted(ephemeral))
    secret_reference = re.compile(references)
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            if isinstance(item, str) and (finding := _string_finding(where, key, item, secret_reference, ephemeral)):
                yield finding
            yield from structural_findings(item, where, ephemeral)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from structural_findings(item, f"{path}[{index}]", ephemeral)
    elif isinstance(value, str):
        embedded = _embedded(value)
        if embedded is not None:
            yield from structural_findings(embedded, f"{path}<json>", ephemeral)


def text_findings(text: str) -> Iterator[str]:
    for name, pattern in TEXT_PATTERNS.items():
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            yield f"line {line}: {name}"


def findings_in(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    found = list(text_findings(text))
    if path.suffix == ".json":
        found += structural_findings(json.loads(text))
    return found


def scan_tree(root: Path) -> dict[str, list[str]]:
    """Every regular file under `root`, whatever its name."""
    return {
        str(path.relative_to(root)): found for path in sorted(root.rglob("*")) if path.is_file() and (found := findings_in(path))
    }


def test_no_synthesized_file_contains_password_material(synth_dir: Path) -> None:
    files = [path for path in synth_dir.rglob("*") if path.is_file()]
    assert any(path.name == "cdk.tf.json" for path in files), f"nothing synthesized under {synth_dir}"
    assert scan_tree(synth_dir) == {}


def _keys_holding(value: Any, needle: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and needle in item:
                yield key
            yield from _keys_holding(item, needle)
    elif isinstance(value, list):
        for item in value:
            yield from _keys_holding(item, needle)


def test_the_passwords_reach_only_write_only_arguments(synthesized: dict[str, Any]) -> None:
    """The master password (read back from its secret), the DMS target user's and the application user's (straight
    from their generators)."""
    for suffix, document in synthesized.items():
        carriers = ephemeral_locals(document)
        assert len(carriers) == 3, f"{suffix}: expected three ephemeral locals (the three passwords), got {carriers}"
        holders = set(_keys_holding(document, "ephemeral."))
        for name in carriers:
            holders |= set(_keys_holding(document, f"local.{name}"))
        assert holders == {*carriers, "master_password_wo", "secret_string_wo"}, suffix


LEGITIMATE = {
    "resource": {
        "aws_rds_cluster": {
            "c": {
                "master_password_wo": "${ephemeral.aws_secretsmanager_random_password.p.random_password}",
                "master_password_wo_version": 1,
                "manage_master_user_password": False,
            }
        },
        "aws_secretsmanager_secret_version": {
            "v": {
                "secret_string_wo": (
                    '${jsonencode({username = "u", password = ephemeral.aws_secretsmanager_random_password.p.random_password})}'
                ),
                "secret_string_wo_version": 1,
            }
        },
        "aws_dms_certificate": {"ca": {"certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIDezCCAmOgAwIBAgIUOe3f\n"}},
    },
    "ephemeral": {"aws_secretsmanager_random_password": {"p": {"password_length": 40, "exclude_characters": "/@"}}},
    "output": {"commit": {"value": "0123456789abcdef0123456789abcdef01234567"}},
}


def test_the_legitimate_write_only_shape_passes(tmp_path: Path) -> None:
    (tmp_path / "cdk.tf.json").write_text(json.dumps(LEGITIMATE, indent=2))
    assert scan_tree(tmp_path) == {}


PLANTED: dict[str, tuple[dict[str, Any] | str, str]] = {
    "password attribute": (
        {"resource": {"aws_dms_endpoint": {"s": {"password": "Hunter2-Hunter2"}}}},
        "password-like key with a string value",
    ),
    "master_password literal": (
        {"resource": {"aws_rds_cluster": {"c": {"master_password": "Hunter2-Hunter2"}}}},
        "password-like argument holds a string",
    ),
    "password in an embedded document": (
        {"resource": {"aws_secretsmanager_secret_version": {"v": {"secret_string_wo": '{"password":"Hunter2-Hunter2"}'}}}},
        "password-like key with a string value",
    ),
    "secret_string literal": (
        {"resource": {"aws_secretsmanager_secret_version": {"v": {"secret_string": "Hunter2-Hunter2"}}}},
        "password-like key with a string value",
    ),
    "literal in jsonencode": (
        {"resource": {"aws_secretsmanager_secret_version": {"v": {"secret_string_wo": '${jsonencode({password = "x1"})}'}}}},
        "password assigned something other than an ephemeral value",
    ),
    "write-only from a variable": (
        {"resource": {"aws_rds_cluster": {"c": {"master_password_wo": "${var.master_password}"}}}},
        "write-only password argument without an ephemeral value",
    ),
    "ephemeral local in an output": (
        {
            "locals": {"pw": "${ephemeral.aws_secretsmanager_secret_version.s.secret_string}"},
            "output": {"pw": {"value": "${local.pw}"}},
        },
        "references a secret value outside a write-only argument",
    ),
    "write-only version derived from the secret": (
        {
            "locals": {"pw": "${ephemeral.aws_secretsmanager_secret_version.s.secret_string}"},
            "resource": {
                "aws_rds_cluster": {
                    "c": {"master_password_wo": "${local.pw}", "master_password_wo_version": "${sha256(local.pw)}"}
                }
            },
        },
        "a write-only version must not be derived from a secret value",
    ),
    "ephemeral value in an output": (
        {"output": {"pw": {"value": "${ephemeral.aws_secretsmanager_random_password.p.random_password}"}}},
        "references a secret value outside a write-only argument",
    ),
    "private key": ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n", "private key"),
    "AWS access key id": ('{"access_key": "AKIAIOSFODNN7EXAMPLE"}', "AWS access key id"),
    "AWS secret access key": ('{"secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}', "AWS secret access key"),
    "connection URL": ('{"uri": "postgresql://migration:Hunter2@pg.corp.example.com/orders"}', "credentials in a connection URL"),
}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_planted_password_material_is_found(case: str, tmp_path: Path) -> None:
    planted, expected = PLANTED[case]
    (tmp_path / "stacks" / "aurora-migration-dev").mkdir(parents=True)
    text = planted if isinstance(planted, str) else json.dumps(planted, indent=2)
    (tmp_path / "stacks" / "aurora-migration-dev" / ("notes.txt" if isinstance(planted, str) else "cdk.tf.json")).write_text(text)
    found = scan_tree(tmp_path)
    assert list(found) == [f"stacks/aurora-migration-dev/{'notes.txt' if isinstance(planted, str) else 'cdk.tf.json'}"]
    assert any(expected in finding for finding in next(iter(found.values()))), found
