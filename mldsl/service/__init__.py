"""The service layer under both front ends: the command line (``mldsl.commands``) and the REPL
(``mldsl.repl``) parse their arguments, call these functions and print what they return.

- ``targets``: ``FILE[:NAME]`` loaded and the definition a verb takes without NAME; ``--patch``/``--set``.
- ``stores``: the one precedence for the results store (``--store`` > ``$MLDSL_STORE`` > ``./mldsl.db``).
- ``runs``: run one experiment (or a recorded run again), and the run records as tables, text and JSON.
- ``studies``: a search's plan from a ``search`` statement or a space, run or resume it, read its trials.
- ``inspect``: values as ``.mlx``, queries by path and type, search spaces, what a backend cannot run.
- ``output``: where the front ends print: plain text off a terminal, colour, tables and progress bars
  (``rich``) on one.

It imports neither front end (``tests/test_layering.py``). Importing it is cheap: each module imports
the engine, NumPy or ``rich`` only inside the functions that need them, so ``mldsl check`` and
``mldsl show`` stay light.
"""
