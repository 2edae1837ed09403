"""Operations commands for the migration, one package each, on a shared core.

- `preflight/`: the source database before DMS replicates it.
- `verify/`: the deployed stack against its config, after a deploy.
- `cutover/`: drive the DMS task, freeze writes, reset sequences (one module per subcommand).
- `compare/`: source and target data, per table, over primary-key chunks.

Shared by them: `cli` (option groups read into typed options, config, stack outputs, rendering, the runner that
maps every error to exit 2), `errors` (`OpsError`, the one error root), `results` (`CheckResult`), `postgres`
(connections to the source and the target), `catalog` and `scope` (what the task migrates), `aws` (sessions).
"""
