"""Cutover: drive the DMS task, freeze writes, reset sequences on Aurora (`python -m migration_ops.cutover`)."""
