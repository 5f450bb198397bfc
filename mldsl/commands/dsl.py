"""CLI verbs (dsl)."""


def add_parsers(subparsers):
    """Adds this area's verbs."""
