"""CLI verbs, one module per area. Each module defines ``add_parsers(subparsers)``, which adds its
verbs and sets ``handler=<callable(args) -> int>`` on each sub-parser with ``set_defaults``. The verbs do
their work through :mod:`mldsl.service`; ``mldsl.cli`` lists the modules (with the REPL's ``repl`` verb).
"""
