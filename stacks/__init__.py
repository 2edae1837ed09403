"""Stacks: one per environment. A stack owns provider, backend, default tags and outputs."""
