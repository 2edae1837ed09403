"""Terraform expressions the provider classes cannot express: ephemeral blocks, literals, version numbers."""

from __future__ import annotations

import re

from cdktf import Fn, TerraformLocal, TerraformStack, Token
from constructs import Construct

# 12 hex digits of a SHA-256 fit a Terraform number exactly (48 bits < 2^53).
_VERSION_HASH_HEX_DIGITS = 12


def hcl_literal(value: str) -> str:
    """`value` as it must be written inside a quoted string of a cdktf function argument.

    cdktf escapes `${` in such strings but not quotes, backslashes, newlines or `%{`
    (tests/modules/test_expressions.py evaluates the result with terraform).
    """
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("%{", "%%{")


def version_number(*parts: str) -> float:
    """A Terraform number that changes whenever any of `parts` (tokens or literals) changes.

    `*_wo_version` arguments are numbers; the provider writes the write-only
    value whenever the number differs from the one in state.
    """
    digest = Fn.sha256(Fn.join("|", list(parts)))
    return Token.as_number(Fn.parseint(Fn.substr(digest, 0, _VERSION_HASH_HEX_DIGITS), 16))


def ephemeral_block(scope: Construct, resource_type: str, purpose: str, arguments: dict[str, object]) -> str:
    """Add `ephemeral "<type>" "<name>"` (cdktf 0.21 has no class for it); returns `<type>.<name>`.

    The name is derived from the construct path, so two instances of a construct never collide.
    Ephemeral blocks are not in the state: renaming one is free.
    """
    path = [part for part in scope.node.path.split("/")[1:] if part]  # without the stack
    name = re.sub(r"[^a-z0-9_]", "_", "_".join([*path, purpose]).lower())
    TerraformStack.of(scope).add_override(f"ephemeral.{resource_type}.{name}", arguments)
    return f"{resource_type}.{name}"


def known_only_when_applying(value: str) -> str:
    """`value` during `terraform apply`, unknown during any plan (`terraform.applying`, Terraform >= 1.10).

    An ephemeral resource whose arguments are unknown is not opened ("Configuration unknown, deferring"): an
    argument passed through this keeps the read out of every plan and does it when applying. The plan value is
    `timestamp()`, the one built-in function Terraform leaves unknown until apply.
    """
    return Token.as_string(Fn.conditional(Token.as_any("terraform.applying"), value, Fn.timestamp()))


def ephemeral_value(scope: Construct, id_: str, reference: str) -> str:
    """A token for `ephemeral.<reference>`, usable inside cdktf functions (a local that is itself ephemeral)."""
    return str(TerraformLocal(scope, id_, f"${{ephemeral.{reference}}}").as_string)
