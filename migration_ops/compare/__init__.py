"""Data comparison of source and target, per table, over primary-key chunks (`python -m migration_ops.compare`)."""
