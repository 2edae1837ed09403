"""Constructs, one per concern. They take typed props and read no files or environment variables."""
