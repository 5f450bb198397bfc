"""The language server (``mldsl lsp``): ``.mlx`` in editors, over the Language Server Protocol (pygls).

A front end beside ``mldsl.commands`` and ``mldsl.repl``: it takes what it shows from the language and
the service layer, never from another front end. Modules: ``positions`` (mldsl spans and LSP positions,
UTF-16 columns), ``analysis`` (a document compiled as ``mldsl check`` does), ``diagnostics``,
``actions`` (quick fixes from the diagnostics' "did you mean"), ``completion``
(``mldsl.service.completion``, as the REPL), ``hover`` (schemas as ``mldsl schema``, provenance as
``mldsl explain``), ``signature`` (the parameters of the call being written), ``symbols`` (outline,
definition, references, highlights, rename), ``formatting`` (``mldsl fmt``'s formatter), ``tokens``
(semantic tokens from the Pygments lexer), ``server`` (the pygls wiring) and ``launch`` (the verb; pygls
is imported only when the server starts).
"""
