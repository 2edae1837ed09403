"""Data comparison of source and target, per table, over primary-key chunks (`python -m migration_ops.compare`).

- `command`: the arguments, the typed options and `main`.
- `tables`: what is compared (the task's scope, partitioned tables as their leaves).
- `shape`: a table's columns and key on one side, and how the two sides differ.
- `chunks`: key ranges and their digests, one snapshot per side, the pinned session settings.
- `engine`: one table at a time within the time budget; `report`: what was found and how it is shown.
"""
