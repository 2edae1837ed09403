"""The environments as the Makefile and the workflows need them.

    python -m config stack-name ENV [--suffix S]             the stack name (make plan/deploy/diff/destroy)
    python -m config role-arn ENV plan|deploy [--suffix S]   the role a workflow job assumes for ENV
    python -m config environments [--role R] [--only ENV]   the workflows' matrix, a JSON list of file stems

ENV and --suffix resolve as the operations commands' --env and --suffix do (config.loader.resolve_environment):
with --suffix, the short-lived stack S on the base ENV; without it, ENV may also be the ENVIRONMENT_SUFFIX of the
process environment. AURORA_MIGRATION_CONFIG_DIR, if set, is the config folder of every subcommand.
role-arn prints `deployment.plan_role_arn` (plan) or `deployment.role_arn` (deploy), an empty line when it is
not set (the job then plans or deploys nothing). environments loads every file (a bad one fails the matrix, not
one leg) and keeps, with --role, those that name that role, with --only the one named. ENV is a file stem in
config/ or an environment_suffix. Exit 2 with the reason when something names no valid environment.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from config.loader import CONFIG_DIR, ConfigError, Selection, environment_files, load_environments, resolve_environment
from config.model import EnvironmentConfig

ROLE_KINDS = ("plan", "deploy")


def role_arn(config: EnvironmentConfig, kind: str) -> str | None:
    return config.deployment.plan_role_arn if kind == "plan" else config.deployment.role_arn


def environment_names(config_dir: Path = CONFIG_DIR, *, role: str | None = None, only: str | None = None) -> list[str]:
    """File stems of the valid environment files in `config_dir` (ConfigError naming every problem otherwise)."""
    files = environment_files(config_dir)
    configs = load_environments(files)
    names = [path.stem for path, config in zip(files, configs, strict=True) if role is None or role_arn(config, role)]
    if only:
        if only not in {path.stem for path in files}:
            raise ConfigError(problems=(f"{only}: no such environment (known: {', '.join(p.stem for p in files)})",))
        names = [name for name in names if name == only]
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m config", description="The environments in config/.")
    commands = parser.add_subparsers(dest="command", required=True)
    name = commands.add_parser("stack-name")
    name.add_argument("env")
    role = commands.add_parser("role-arn")
    role.add_argument("env")
    role.add_argument("kind", choices=ROLE_KINDS)
    for command in (name, role):
        command.add_argument("--suffix", help="the short-lived stack of this suffix on the base ENV")
    listing = commands.add_parser("environments")
    listing.add_argument("--role", choices=ROLE_KINDS, help="only environments that name this role")
    listing.add_argument("--only", help="only this environment (a file stem)")
    return parser


def main(argv: Sequence[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # usage errors: argparse printed them, exit 2
        return int(exit_.code or 0)
    selection = Selection.from_environ()
    try:
        if args.command == "environments":
            print(json.dumps(environment_names(selection.config_dir, role=args.role, only=args.only)))
            return 0
        config = resolve_environment(args.env, suffix=args.suffix, selection=selection)
    except ConfigError as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
        return 2
    print(config.stack_name if args.command == "stack-name" else role_arn(config, args.kind) or "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
