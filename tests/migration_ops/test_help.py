"""Every operations command's and cutover subcommand's --help tells what it does, its exit codes, where its
credentials come from and whether it needs AWS (#24 box 10).

Each help is read through the command's real `main` (`--help` exits 0). The three parts checked: the exit codes
(0, 1 and 2, each with its meaning), the credentials (the libpq variables and --dsn-env when it reads the source,
each --*-dsn-env flag it has, --from-secret when it has one, the AWS credential chain when it can call AWS), and
the AWS line (needed or not, as this table says; a new subcommand must say one or the other).
"""

from __future__ import annotations

import re

import pytest

from migration_ops.cutover import command as cutover
from tests.migration_ops.commands import Command, every_command

NEEDS_AWS = {
    "preflight": False,  # only with --from-secret
    "verify": True,
    "compare": False,  # only with --from-secret
    "cutover start": True,
    "cutover status": True,
    "cutover stop": True,
    "cutover pause": True,
    "cutover reload": True,
    "cutover snapshot": True,
    "cutover freeze-sql": False,
    "cutover sequences": False,
    "cutover analyze": False,
    "cutover report": False,
}


def _help(command: Command, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as raised:
        command.main(command.argv("--help"))
    assert raised.value.code == 0
    return capsys.readouterr().out


def _flags(command: Command) -> set[str]:
    return {flag for action in command.parser._actions for flag in action.option_strings}


def _section(text: str, title: str) -> str:
    match = re.search(rf"^{title}\n((?:  .*\n?)+)", text, re.MULTILINE)
    assert match, f"no {title!r} section"
    return " ".join(match.group(1).split())


@pytest.mark.parametrize("command", every_command(), ids=lambda command: command.name)
def test_help_tells_what_exit_codes_credentials_and_aws(command: Command, capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(command, capsys)
    usage, _, rest = text.partition("\n\n")
    description = rest.split("\n\n")[0].strip()
    assert usage.startswith("usage: ") and description and not description.startswith("options:"), "what it does"

    codes = re.search(r"^exit codes:\n  0  (.+)\n(?:     .*\n)*  1  (.+)\n(?:     .*\n)*  2  (.+)$", text, re.MULTILINE)
    assert codes, text
    assert all(len(meaning) > 5 for meaning in codes.groups())

    credentials, flags = _section(text, "credentials:"), _flags(command)
    if "--dsn-env" in flags:
        assert all(word in credentials for word in ("--dsn-env", "PGUSER", "PGPASSWORD", "PGSSLMODE", "libpq URI"))
    for flag in sorted(flag for flag in flags if flag.endswith("-dsn-env") and flag != "--dsn-env"):
        assert flag in credentials
    if "--from-secret" in flags:
        assert "--from-secret" in credentials and "source.credentials_secret_arn" in credentials
    aws = re.search(r"^AWS: (needed|not needed)\. ", text, re.MULTILINE)
    assert aws, "no AWS line"
    if command.name in NEEDS_AWS:
        assert (aws.group(1) == "needed") is NEEDS_AWS[command.name]
    if aws.group(1) == "needed" or "--from-secret" in flags or "--region" in flags:
        assert "AWS credential chain" in credentials and "AWS_PROFILE" in credentials


def test_the_cutover_overview_says_which_subcommands_need_aws(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cutover.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "exit codes: 0 " in text and "credentials: " in text
    needing = [command.NAME for command in cutover.SUBCOMMANDS if command.COMMAND_HELP.needs_aws]
    others = [command.NAME for command in cutover.SUBCOMMANDS if not command.COMMAND_HELP.needs_aws]
    assert f"{', '.join(needing)} call AWS; {', '.join(others)} do not" in text
    for command in cutover.SUBCOMMANDS:
        assert command.NAME in text and command.HELP in text
