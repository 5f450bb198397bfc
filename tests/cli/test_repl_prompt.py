"""The interactive REPL driven through prompt_toolkit's pipe input (keystrokes, TAB included)."""
import io
import threading
import time

import pytest

pytest.importorskip("prompt_toolkit")
from prompt_toolkit.input import create_pipe_input  # noqa: E402
from prompt_toolkit.output import DummyOutput  # noqa: E402

from mldsl.repl.shell import Repl  # noqa: E402

TIMEOUT = 15.0


class Driver:
    """Runs ``Repl.interactive`` on a pipe input in a thread and types into it."""

    def __init__(self, tmp_path):
        self.out, self.err = io.StringIO(), io.StringIO()
        self.repl = Repl(out=self.out, err=self.err, color=False)
        self.history = tmp_path / "history"
        self._pipe_cm = create_pipe_input()
        self.pipe = self._pipe_cm.__enter__()
        self.code = None
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.code = self.repl.interactive(input=self.pipe, output=DummyOutput(), history=self.history)
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _wait(self, predicate, what):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if predicate():
                return
            if not self.thread.is_alive():
                raise AssertionError(f"the REPL stopped while waiting for {what}: {self.error!r}\n"
                                     f"out={self.out.getvalue()!r}\nerr={self.err.getvalue()!r}")
            time.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}; out={self.out.getvalue()!r} "
                             f"err={self.err.getvalue()!r} buffer={self.buffer_text()!r}")

    def buffer_text(self):
        session = self.repl.prompt_session
        return session.default_buffer.text if session is not None else None

    def ready(self):
        self._wait(lambda: self.repl.prompt_session is not None and self.repl.prompt_session.app.is_running,
                   "the prompt")

    def type(self, text, expect_buffer=None):
        """Sends keystrokes; with ``expect_buffer``, waits until the input line holds that text."""
        self.ready()
        self.pipe.send_text(text)
        if expect_buffer is not None:
            self._wait(lambda: self.buffer_text() == expect_buffer, f"buffer {expect_buffer!r}")

    def line(self, text, expect_out=None, expect_err=None):
        """Types a line and Enter; waits for output containing ``expect_out``/``expect_err``."""
        self.type(text + "\r")
        if expect_out is not None:
            self._wait(lambda: expect_out in self.out.getvalue(), f"output {expect_out!r}")
        if expect_err is not None:
            self._wait(lambda: expect_err in self.err.getvalue(), f"error {expect_err!r}")

    def quit(self):
        self.type("\x04")  # Ctrl-D on an empty line
        self.thread.join(TIMEOUT)
        self._pipe_cm.__exit__(None, None, None)
        assert not self.thread.is_alive(), "the REPL did not leave on Ctrl-D"
        assert self.error is None, self.error
        return self.code


@pytest.fixture
def driver(tmp_path):
    d = Driver(tmp_path)
    yield d
    if d.thread.is_alive():
        d.pipe.send_text("\x04")
        d.thread.join(5)
        d._pipe_cm.__exit__(None, None, None)


def test_repl_prompt_statement_then_show(driver):
    driver.line("let hidden = 48")
    driver.line("experiment m = Experiment(model=Sequential([Dense(hidden, activation=\"relu\")]), data=Digits())")
    driver.line(":show m", expect_out="Dense(48, activation=\"relu\")")
    driver.line(":show m model.layers[0].units", expect_out="48\n")
    assert driver.err.getvalue() == ""
    assert driver.quit() == 0
    assert ":show m" in driver.history.read_text()  # persistent history


def test_repl_prompt_multiline_input(driver):
    driver.type("experiment m = Experiment(\r", expect_buffer="experiment m = Experiment(\n    ")
    driver.type("model=Sequential([Dense(7)]),\r")
    driver.type("data=Digits(),\r")
    driver.type(")", expect_buffer="experiment m = Experiment(\n    model=Sequential([Dense(7)]),\n    "
                                   "data=Digits(),\n)")  # the closing bracket dedents
    driver.type("\r")
    driver.line(":show m.model", expect_out="Sequential([Dense(7)])")
    assert driver.err.getvalue() == ""
    assert driver.quit() == 0


def test_repl_prompt_completes_component_and_parameter(driver):
    driver.type("let d = Dens\t", expect_buffer="let d = Dense")
    driver.type("(3, act\t", expect_buffer="let d = Dense(3, activation=")
    driver.type('"rel\t', expect_buffer='let d = Dense(3, activation="relu"')
    driver.line(")")
    driver.line(":show d", expect_out='Dense(3, activation="relu")')
    driver.type("experiment m = Experiment(model=Sequential([d]), data=Digits())\r")
    # key paths of a defined experiment, after `:show NAME ` and inside `with { ... }`
    driver.type(":show m model.lay\t", expect_buffer=":show m model.layers")
    driver.line("[0].units", expect_out="3\n")
    driver.type("experiment m2 = m with { training.batch_s\t",
                expect_buffer="experiment m2 = m with { training.batch_size")
    driver.line(" = 64 }")
    driver.line(":show m2 training.batch_size", expect_out="64\n")
    assert driver.err.getvalue() == ""
    assert driver.quit() == 0


def test_repl_prompt_bad_line_then_good_line(driver):
    driver.line("let d = Dense(unit=3)", expect_err="did you mean 'units'?")
    err = driver.err.getvalue()
    assert "<repl>:1:15: error[E021]" in err
    assert "1 | let d = Dense(unit=3)" in err
    assert "|               ^^^^" in err
    driver.line("let d = Dense(units=3)")
    driver.line(":show d", expect_out="Dense(3)")
    driver.line(":nonsense", expect_err="unknown command ':nonsense'")
    driver.line(":show nothing_here", expect_err="'nothing_here' is not defined")
    # Ctrl-C cancels the current input and the REPL goes on
    driver.type("let broken = (\x03")
    driver.line("let ok = 5")
    driver.line(":show ok", expect_out="5\n")
    assert "broken" not in driver.repl.session.names()
    assert driver.quit() == 0
