"""CLI verbs (plugins)."""


def add_parsers(subparsers):
    """Adds this area's verbs."""
