"""The end of every operations command's --help: its exit codes, where its credentials come from, whether it
calls AWS; one text for all of them (`CommandHelp`, shown as written: `help_options`)."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HELP_WIDTH = 100
COULD_NOT_RUN = "the command could not run: usage, configuration, outputs, connection or AWS errors (one line on stderr)"

SOURCE_CREDENTIALS = (
    "source database",
    "the libpq URI in the variable --dsn-env names, e.g. postgresql://USER@HOST:5432/DB?sslmode=verify-full "
    "(percent-encode @ / : % in a password, or leave the password out and set PGPASSWORD); without --dsn-env: host, "
    "port, database and TLS mode from the config, the user and password from libpq's variables PGUSER and "
    "PGPASSWORD (or ~/.pgpass); PGSSLMODE, PGSSLROOTCERT, PGCONNECT_TIMEOUT and the other PG* variables apply as usual",
)
SECRET_CREDENTIALS = (
    "--from-secret",
    "the source user and password from the Secrets Manager secret source.credentials_secret_arn of the config "
    "(the secret the DMS source endpoint reads; calls AWS)",
)
AWS_CREDENTIALS = (
    "AWS",
    "the standard AWS credential chain: AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, "
    "SSO, or an instance or task role; the region is --region, else aws_region of the config",
)


def target_credentials(flag: str) -> tuple[str, str]:
    return (
        "target database",
        f"the TARGET (Aurora) libpq URI in the variable {flag} names (never on the command line; percent-encode "
        "@ / : % in a password, or leave it out and set PGPASSWORD)",
    )


@dataclass(frozen=True, kw_only=True)
class CommandHelp:
    """The end of a command's --help: what each exit code means for it, where its credentials come from, and
    whether it calls AWS."""

    succeeded: str
    """Exit 0."""
    failed: str
    """Exit 1."""
    could_not_run: str = COULD_NOT_RUN
    """Exit 2."""
    credentials: tuple[tuple[str, str], ...]
    """(source, where from): SOURCE_CREDENTIALS, SECRET_CREDENTIALS, target_credentials(flag), AWS_CREDENTIALS."""
    needs_aws: bool
    aws: str
    """What it calls AWS for (needs_aws) or when it still does (not needs_aws)."""

    @property
    def aws_line(self) -> str:
        return f"AWS: {'needed' if self.needs_aws else 'not needed'}. {self.aws}"

    def epilog(self) -> str:
        codes = [("0", self.succeeded), ("1", self.failed), ("2", self.could_not_run)]
        return "\n\n".join(
            [_entries("exit codes:", codes), _entries("credentials:", self.credentials), _wrapped(self.aws_line, "")]
        )


def _wrapped(text: str, indent: str, first: str = "") -> str:
    return textwrap.fill(
        text, HELP_WIDTH, initial_indent=first or indent, subsequent_indent=indent, break_on_hyphens=False, break_long_words=False
    )


def _entries(title: str, rows: Sequence[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    lines = [_wrapped(text, " " * (width + 4), f"  {label:<{width}}  ") for label, text in rows]
    return "\n".join([title, *lines])


def help_options(description: str, help_text: CommandHelp, *, prologue: str = "") -> dict[str, Any]:
    """ArgumentParser (or add_parser) keywords that show `description` and the epilog (after `prologue`) as written."""
    epilog = "\n\n".join(filter(None, [prologue, help_text.epilog()]))
    return {"description": description, "epilog": epilog, "formatter_class": argparse.RawDescriptionHelpFormatter}
