"""Cutover: drive the DMS task, freeze writes, reset sequences on Aurora (`python -m migration_ops.cutover`).

- `command`: the usage, `SUBCOMMANDS` and `main`; `subcommand`: what a subcommand is, the shared argument groups.
- `subcommands/`: start, status, stop, pause, reload, freeze-sql, sequences: one module each.
- `task`: finding the task (--task-arn or the stack's outputs) and the AWS clients; `dms_task`: the DMS API calls.
- `gates`: the CDC latency and validation gates of `stop`; `freeze`: the write-freeze checks;
  `freeze_statements`: the freeze SQL and its rollback; `sequence_reset`: sequence values onto the target.
- `audit`: the JSON-lines audit log of every decision.
"""
