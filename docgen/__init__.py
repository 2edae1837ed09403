"""Placeholder: filled by the architecture step (#22)."""
