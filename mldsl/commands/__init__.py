"""CLI verbs, one module per area. Each module defines ``add_parsers(subparsers)``, which adds its
verbs and sets ``handler=<callable(args) -> int>`` on each sub-parser with ``set_defaults``."""

COMMAND_MODULES = (
    "mldsl.commands.dsl",      # check, show, diff, query, space, fmt, explain
    "mldsl.commands.plugins",  # plugins, schema
    "mldsl.commands.search",   # search, trials
    "mldsl.commands.run",      # run, runs
    "mldsl.commands.repl",     # repl
    "mldsl.commands.bench",    # bench
)
