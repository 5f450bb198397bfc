"""The service layer under the front ends: the command line (``mldsl.commands``), the REPL
(``mldsl.repl``) and the language server (``mldsl.lsp``) take their input, call these functions and
show what they return.

- ``targets``: ``FILE[:NAME]`` loaded and the definition a verb takes without NAME; ``--patch``/``--set``.
- ``stores``: the one precedence for the results store (``--store`` > ``$MLDSL_STORE`` > ``./mldsl.db``).
- ``runs``: run one experiment (or a recorded run again), and the run records as tables, text and JSON.
- ``studies``: a search's plan from a ``search`` statement or a space, run or resume it, read its trials.
- ``gradcheck``: an experiment's gradients against float64 finite differences (the native backend's check).
- ``inspect``: values as ``.mlx``, queries by path and type, search spaces, what a backend cannot run.
- ``schemas``: a component's or patcher's schema as ``mldsl schema NAME`` shows it.
- ``completion``: completion of ``.mlx`` being typed (the REPL's tab completion, the language server's).
- ``output``: where the front ends print: plain text off a terminal, colour, tables and progress bars
  (``rich``) on one.

It imports no front end (``tests/test_layering.py``). Importing it is cheap: each module imports
the engine, NumPy or ``rich`` only inside the functions that need them, so ``mldsl check`` and
``mldsl show`` stay light.
"""
