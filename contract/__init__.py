"""Facts every layer shares (config, constructs, operations, review), each with its AWS source.

This package imports nothing from the project: it is the ground floor.
"""
