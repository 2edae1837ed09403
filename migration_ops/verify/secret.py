"""Verify check of the credentials secret: the keys the stack writes, never the password's value."""

from __future__ import annotations

import json

from contract.outputs import Output
from migration_ops.results import CheckResult, failed, passed
from migration_ops.verify.context import VerifyContext

SECRET_KEYS = ("username", "password", "engine", "port", "host")


def check_credentials_secret(ctx: VerifyContext) -> CheckResult:
    name = "secret.credentials"
    arn = str(ctx.output(Output.SECRET_ARN))
    secret_string = ctx.aws.secretsmanager.get_secret_value(SecretId=arn).get("SecretString")
    if secret_string is None:
        return failed(name, f"{arn} has no SecretString (binary secret?)")
    try:
        document = json.loads(secret_string)
    except ValueError:
        return failed(name, f"{arn} is not a JSON document")  # never echo the value: it may hold the password
    if not isinstance(document, dict):
        return failed(name, f"{arn} is JSON but not an object")
    missing = [key for key in SECRET_KEYS if document.get(key) in (None, "")]
    shown = ", ".join(f"{key}={document.get(key)!r}" for key in ("username", "engine", "port", "host") if key in document)
    password_note = "password present" if document.get("password") not in (None, "") else "password missing"
    evidence = f"{shown}, {password_note}"
    problems = []
    if missing:
        problems.append(f"missing keys: {', '.join(missing)}")
    if "username" in document and document["username"] != ctx.config.aurora.master_username:
        problems.append(f"username should be {ctx.config.aurora.master_username!r}")
    return failed(name, f"{'; '.join(problems)} -- {evidence}") if problems else passed(name, evidence)
