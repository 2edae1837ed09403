"""Entry point: validate every environment in config/, then synthesize one stack per environment.

ENVIRONMENT_SUFFIX (with ENVIRONMENT_BASE, default `dev`) adds a short-lived
stack without a file of its own; AURORA_MIGRATION_CONFIG_DIR reads the
environment files from another folder; AURORA_MIGRATION_ROLE=plan synthesizes every
stack for planning (provider and state backend assume `deployment.plan_role_arn`,
stacks/roles.py). Bad configuration exits 2 with one line per problem and leaves
cdktf.out/ untouched.

Each stack folder it writes is replaced whole; the folders of stacks it does not write (a short-lived stack of an
earlier ENVIRONMENT_SUFFIX run, a removed environment's) are kept, one line each saying so, until `--prune`
(`make prune-stacks`), which removes them after the synth, or `make clean`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from config import ConfigError
from config.loader import Selection, synthesized_environments
from contract.dms_engines import engine_warnings
from contract.layout import STACKS_DIR, SYNTH_DIR
from stacks.emulator import EMULATOR_ENV_VAR, LocalEmulator
from stacks.roles import ROLE_ENV_VAR, purpose_from, purpose_problems

EXIT_BAD_CONFIG = 2


PRUNE_FLAG = "--prune"


def main(argv: Sequence[str] = ()) -> int:
    unknown = [arg for arg in argv if arg != PRUNE_FLAG]
    if unknown:
        print(f"usage: python main.py [{PRUNE_FLAG}] (unknown argument: {unknown[0]})", file=sys.stderr)
        return EXIT_BAD_CONFIG
    prune = PRUNE_FLAG in argv
    try:
        configs = synthesized_environments(Selection.from_environ())
        emulator_url = os.environ.get(EMULATOR_ENV_VAR)
        emulator = LocalEmulator(url=emulator_url) if emulator_url else None
        purpose = purpose_from(os.environ.get(ROLE_ENV_VAR))
    except (ConfigError, ValueError) as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    problems = purpose_problems(configs, purpose)
    if problems:
        print("configuration error:", *problems, sep="\n", file=sys.stderr)
        return EXIT_BAD_CONFIG

    for config in configs:
        for warning in engine_warnings(
            config.dms.engine_version,
            today=dt.date.today(),
            target_major=config.aurora.engine_major,
            instance_exists=config.dms.replication_instance_exists,
        ):
            print(f"warning: {config.stack_name}: dms.engine_version: {warning}", file=sys.stderr)

    from provider_loading.fast_import import enable_fast_provider_import

    enable_fast_provider_import()  # before anything imports modules.aws; another provider version: plain import, warning
    from stacks.app import synth_atomically  # heavy import only after input is known good

    outdir = Path(os.environ.get("CDKTF_OUTDIR", SYNTH_DIR))
    result = synth_atomically(configs, outdir=outdir, emulator=emulator, purpose=purpose, prune=prune)
    for name in result.others:
        folder = outdir / STACKS_DIR / name
        if prune:
            print(f"removed {folder}: not synthesized by this run (--prune)", file=sys.stderr)
        else:
            print(
                f"kept {folder}: not synthesized by this run (make clean or `make prune-stacks` removes it)",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
