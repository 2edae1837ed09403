"""Entry point: validate every environment in config/, then synthesize one stack per environment.

ENVIRONMENT_SUFFIX (with ENVIRONMENT_BASE, default `dev`) adds a short-lived
stack without a file of its own; AURORA_MIGRATION_CONFIG_DIR reads the
environment files from another folder; AURORA_MIGRATION_ROLE=plan synthesizes every
stack for planning (provider and state backend assume `deployment.plan_role_arn`,
stacks/roles.py). Bad configuration exits 2 with one line per problem and leaves
cdktf.out/ untouched.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

from config import ConfigError, environment_files, load_environments
from config.loader import CONFIG_DIR
from contract.dms_engines import engine_warnings
from contract.layout import SYNTH_DIR
from stacks.emulator import EMULATOR_ENV_VAR, LocalEmulator
from stacks.roles import ROLE_ENV_VAR, purpose_from, purpose_problems

EXIT_BAD_CONFIG = 2


def main() -> int:
    try:
        configs = load_environments(
            environment_files(Path(os.environ.get("AURORA_MIGRATION_CONFIG_DIR", CONFIG_DIR))),
            ephemeral_suffix=os.environ.get("ENVIRONMENT_SUFFIX") or None,
            ephemeral_base=os.environ.get("ENVIRONMENT_BASE", "dev"),
        )
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

    synth_atomically(configs, outdir=Path(os.environ.get("CDKTF_OUTDIR", SYNTH_DIR)), emulator=emulator, purpose=purpose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
