"""Data comparison of source and target, per table, over hash buckets of the key (`python -m migration_ops.compare`).

- `command`: the arguments, the typed options and `main`.
- `tables`: what is compared (the task's scope, partitioned tables as their leaves, --tables names not compared).
- `shape`: a table's columns, collations and key on one side, and how the two sides differ.
- `digest`: the buckets and their digests each side computes in one scan, hashed over the same bytes.
- `sessions`: the pinned, keepalive sessions and the bounded, parallel queries of both sides.
- `recheck`: the differing buckets' rows again after a pause, narrowed to keys; `activity`: did the source change.
- `engine`: one table at a time within the time budget; `report`: what was found and how it is shown.
"""
