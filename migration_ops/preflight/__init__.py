"""Preflight of the on-premises PostgreSQL source before DMS replicates it (`python -m migration_ops.preflight`).

- `command`: the arguments, the typed options and `main`.
- `context`: what every check reads (the connection, the DMS config, the catalog read once, the limits).
- `checks`: the server, WAL and privilege checks, and `CHECKS`, every check in report order.
- `source`: the checks of the source server and migration user the endpoint settings need.
- `tables`: the checks of the tables in scope (partitions, foreign keys, LOBs, sequence grants).
- `rows`: which rows DMS reads and what Aurora accepts (row-level security, inheritance, generated columns).
"""
