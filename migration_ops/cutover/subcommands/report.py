"""`cutover report [RECORD] [--json]`: print a cutover record `cutover stop` wrote, again (../record.py): a record's
.json, or the newest record in a directory (default cutover-records). Changes nothing and calls no AWS API."""

from __future__ import annotations

import argparse

from migration_ops.cutover.record import REPORT_HELP, ReportOptions, add_report_arguments, run_report

NAME = "report"
HELP = "print a cutover record again (Markdown, or --json)"
COMMAND_HELP = REPORT_HELP
OPTIONS = ReportOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_report_arguments(parser)


def run(options: ReportOptions) -> int:
    return run_report(options)
