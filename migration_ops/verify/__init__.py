"""Post-deploy verification: does what AWS runs match the environment's config? (`python -m migration_ops.verify`)"""
