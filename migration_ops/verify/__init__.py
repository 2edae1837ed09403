"""Post-deploy verification: does what AWS runs match the environment's config? (`python -m migration_ops.verify`)

- `command`: the arguments, the typed options and `main`.
- `context`: what every check reads (outputs, config, AWS clients) and the errors that end a check or the run.
- `checks`: `CHECKS`, every check in report order, and how one runs (an AWS error fails its check).
- `aurora`, `dms`, `secret`, `alarms`: the checks, one room per part of the stack.
"""
