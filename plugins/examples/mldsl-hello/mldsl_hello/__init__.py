"""mldsl-hello: an example third-party plugin for mldsl.

Contributes, through the ``mldsl`` entry-point group (see this distribution's pyproject.toml):

* the layer component ``HelloDense`` (:mod:`mldsl_hello.components`), with its lowerings for the
  ``native`` and ``keras`` backends (:mod:`mldsl_hello.lowerings`);
* the patcher ``hello_dropout`` (:mod:`mldsl_hello.patchers`).

Each module is registered as a part of the plugin, listed in ``mldsl_plugins``.
"""
__version__ = "0.1.0"

mldsl_plugins = ("mldsl_hello.components", "mldsl_hello.lowerings", "mldsl_hello.patchers")
