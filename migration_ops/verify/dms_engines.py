"""The DMS engine table (contract/dms_engines.py) against the account's own answer, DMS DescribeEngineVersions.

botocore `dms` shape `EngineVersion`: `Version`, `ReleaseStatus` (beta | prod), `DeprecationDate` ("can no longer
be requested": the table's `last_creation`), `ForceUpgradeDate` (the table's `end_of_life`), `AutoUpgradeDate`.
A FAIL is a configured engine the stack cannot create; a WARN is a table out of date (a date that differs, a
version the account offers that the table does not know) or an engine the account calls beta.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from contract.dms_engines import DMS_ENGINES, TABLE_DATE, engine_problems, parse_engine_version
from migration_ops import aws, cli
from migration_ops.results import CheckResult, failed, passed, skipped, warned
from migration_ops.verify.context import VerifyContext

if TYPE_CHECKING:
    from mypy_boto3_dms import DatabaseMigrationServiceClient

NAME = "dms.engine-versions"


class EngineVersionsUnansweredError(Exception):
    """The endpoint does not implement DescribeEngineVersions."""


def account_engine_versions(dms: DatabaseMigrationServiceClient) -> list[Mapping[str, Any]]:
    """Every page of DescribeEngineVersions (botocore has no paginator for it: Marker by hand)."""
    versions: list[Mapping[str, Any]] = []
    marker: str | None = None
    while True:
        try:
            page = dms.describe_engine_versions(Marker=marker) if marker else dms.describe_engine_versions()
        except NotImplementedError as error:  # an emulator without the API: cannot tell (check_engine_versions FAILs)
            raise EngineVersionsUnansweredError(f"DescribeEngineVersions is not answered here: {error}") from None
        versions.extend(page.get("EngineVersions", []))
        marker = page.get("Marker")
        if not marker:
            return versions


def _day(value: Any) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value if isinstance(value, dt.date) else None


def compare_engine_table(
    answer: Iterable[Mapping[str, Any]], *, configured: str, target_major: int, instance_exists: bool, today: dt.date
) -> CheckResult:
    by_version = {str(item.get("Version")): item for item in answer if item.get("Version")}
    stale: list[str] = []
    for engine in DMS_ENGINES:
        offered = by_version.get(engine.version)
        if offered is None:
            continue
        for field, table_date, key in (
            ("last_creation", engine.last_creation, "DeprecationDate"),
            ("end_of_life", engine.end_of_life, "ForceUpgradeDate"),
        ):
            account_date = _day(offered.get(key))
            if account_date is not None and account_date != table_date:
                stale.append(f"{engine.version} {field} {table_date or 'unset'} but the account's {key} is {account_date}")
    known = {engine.version for engine in DMS_ENGINES}
    unknown = sorted((v for v in by_version if v not in known), key=_sort_key, reverse=True)
    stale += [f"the account offers {version}, which the table does not know" for version in unknown]

    offered = by_version.get(configured)
    problems: list[str] = []
    if offered is None:
        if not instance_exists:
            problems.append(f"the account does not offer DMS {configured} for new replication instances")
    else:
        deprecated = _day(offered.get("DeprecationDate"))
        if not instance_exists and deprecated is not None and deprecated < today:
            problems.append(f"the account deprecated DMS {configured} on {deprecated}: a new instance cannot use it")
    problems += engine_problems(configured, target_major=target_major, today=today, instance_exists=instance_exists)
    beta = offered is not None and str(offered.get("ReleaseStatus", "prod")) == "beta"

    evidence = (
        f"configured {configured} ({'instance exists' if instance_exists else 'created by the stack'}); "
        f"account offers {', '.join(sorted(by_version, key=_sort_key, reverse=True)) or 'none'}"
    )
    fix = f"update contract/dms_engines.py (table of {TABLE_DATE}) from the account's answer" if stale else ""
    if problems:
        return failed(NAME, f"{evidence}; {'; '.join(problems + stale)}", fix=fix or "set dms.engine_version")
    if stale or beta:
        notes = stale + ([f"the account lists DMS {configured} as beta"] if beta else [])
        return warned(NAME, f"{evidence}; table out of date: {'; '.join(notes)}" if stale else f"{evidence}; {notes[0]}", fix=fix)
    return passed(NAME, f"{evidence}; the table of {TABLE_DATE} matches")


def _sort_key(version: str) -> tuple[int, int, int]:
    try:
        return parse_engine_version(version)
    except ValueError:
        return (0, 0, 0)


def check_engine_versions(ctx: VerifyContext) -> CheckResult:
    if ctx.emulated:
        return skipped(NAME, "skipped: emulator (moto has no DescribeEngineVersions)")
    config = ctx.config
    try:
        answer = account_engine_versions(ctx.aws.dms)
    except EngineVersionsUnansweredError as error:
        return failed(NAME, f"cannot tell: {error}")
    return compare_engine_table(
        answer,
        configured=config.dms.engine_version,
        target_major=config.aurora.engine_major,
        instance_exists=config.dms.replication_instance_exists,
        today=dt.date.today(),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`make engine-versions ENV=...`: this one check, without stack outputs (exit 0 PASS/WARN, 1 FAIL, 2 could not run)."""
    parser = argparse.ArgumentParser(
        prog="python -m migration_ops.verify.dms_engines",
        description="Compare contract/dms_engines.py with the account's DMS DescribeEngineVersions.",
    )
    cli.add_environment_arguments(parser)
    cli.add_aws_arguments(parser)
    args = parser.parse_args(argv)

    def body() -> int:
        environment = cli.EnvironmentOptions(env=args.env, config=args.config, suffix=args.suffix)
        options = cli.AwsOptions(region=args.region, endpoint_url=args.endpoint_url)
        config = cli.load_config(environment)
        client = aws.session(options.region_of(config)).client(
            "dms", endpoint_url=options.endpoint_url, config=aws.client_settings()
        )
        result = compare_engine_table(
            account_engine_versions(client),
            configured=config.dms.engine_version,
            target_major=config.aurora.engine_major,
            instance_exists=config.dms.replication_instance_exists,
            today=dt.date.today(),
        )
        print(cli.render_line(result))
        return cli.exit_code([result])

    return cli.run(body)


if __name__ == "__main__":
    sys.exit(main())
