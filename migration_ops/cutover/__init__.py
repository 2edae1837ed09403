"""Cutover: drive the DMS task, freeze writes, reset sequences on Aurora (`python -m migration_ops.cutover`).

- `command`: the usage, `SUBCOMMANDS` and `main`; `subcommand`: what a subcommand is, the shared argument groups.
- `subcommands/`: start, status, stop, pause, reload, freeze-sql, sequences, target-user, snapshot, analyze, report:
  one module each.
- `task`: finding the task (--task-arn or the stack's outputs) and the AWS clients; `dms_task`: the DMS API calls.
- `gates`: the CDC latency and validation gates of `stop`; `freeze`: the write-freeze checks;
  `write_paths`: what the freeze checks see; `freeze_sql`: the freeze SQL and its rollback;
  `sequence_reset`: sequence values onto the target.
- `migrated`: the tables the task loads (source scope, partitions as leaves, intersected with the target): what
  `reload` truncates and `analyze` vacuums; `snapshot`, `analyze`: the cluster snapshot and VACUUM (ANALYZE);
  `target_user`: the least-privilege DMS target user.
- `audit`: the JSON-lines audit log of every decision (intent before, outcome after); `tags`: DMS tag values.
- `record`, `record_model`, `record_markdown`: the cutover record `stop` writes and `report` prints;
  `record_sequences`: the sequence resets `sequences` leaves for it; `stop_record`: what `stop` gathers for it.
"""
