"""Operational tools for the migration: preflight of the source database, post-deploy verification."""
