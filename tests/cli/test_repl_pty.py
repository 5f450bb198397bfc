"""``python -m mldsl repl`` in a real pseudo-terminal: prompts, TAB completion, errors with a caret,
Ctrl-C, Ctrl-D and the history file."""
import os
import re
import select
import subprocess
import sys
import time

import pytest

pytest.importorskip("prompt_toolkit")
if not hasattr(os, "openpty"):
    pytest.skip("no pseudo-terminals here", allow_module_level=True)

TIMEOUT = 20.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Za-z0-9]|\x1b[=>78M]|\r")


class Terminal:
    """A child process on a pseudo-terminal; ``expect`` reads until text (ANSI codes removed) shows."""

    def __init__(self, args, env, cwd):
        import fcntl
        import struct
        import termios

        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.raw = b""
        self.mark = 0

    def _read(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            return None
        if not data:
            return None
        self.raw += data
        return True

    @property
    def screen(self):
        return ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def expect(self, text, timeout=TIMEOUT):
        """Waits until ``text`` appears after the last match; returns what was read up to it."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.screen.find(text, self.mark)
            if found >= 0:
                seen = self.screen[self.mark:found + len(text)]
                self.mark = found + len(text)
                return seen
            left = deadline - time.monotonic()
            if left <= 0 or self._read(min(left, 0.2)) is None:
                raise AssertionError(f"did not see {text!r}; the screen since the last match:\n"
                                     f"{self.screen[self.mark:][-3000:]}")

    def settle(self, quiet=0.3, timeout=TIMEOUT):
        """Reads until nothing more arrives for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._read(quiet):
                return

    def redrawn(self, timeout=TIMEOUT):
        """Waits for the redraw after a key (at least some output), then for quiet."""
        size = len(self.raw)
        deadline = time.monotonic() + timeout
        while len(self.raw) == size:
            left = deadline - time.monotonic()
            if left <= 0 or self._read(min(left, 0.2)) is None:
                raise AssertionError("no redraw after the key")
        self.settle()

    def send(self, text):
        os.write(self.master, text.encode())

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        os.close(self.master)


@pytest.fixture
def term(tmp_path):
    env = dict(os.environ)
    env.update(TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1", MLDSL_HISTORY=str(tmp_path / "history"),
               PYTHONWARNINGS="ignore", COLUMNS="140", LINES="40")
    env.pop("NO_COLOR", None)
    t = Terminal([sys.executable, "-m", "mldsl", "repl"], env, tmp_path)
    yield t
    t.close()


def test_repl_pty_session(term, tmp_path):
    term.expect("mlx> ")
    # a statement, then :show
    term.send("let hidden = 24\r")
    term.expect("mlx> ")
    term.send(":show hidden\r")
    term.expect("24")
    term.expect("mlx> ")
    # TAB completes a component name (the redraw after "(" shows the whole word) ...
    term.send("let d = Dens")
    term.settle()
    term.send("\t")
    term.redrawn()
    term.send("(")
    term.expect("Dense(")
    # ... and a parameter name inside its parentheses
    term.send("hidden, activ")
    term.settle()
    term.send("\t")
    term.expect("activation=")
    term.settle()
    term.send('"tanh")\r')
    term.expect("mlx> ")
    term.send(":show d\r")
    term.expect('Dense(24, activation="tanh")')
    term.expect("mlx> ")
    # several candidates: the completion menu lists them
    term.send("let e = D")
    term.settle()
    term.send("\t")
    term.expect("Dropout")
    term.settle()
    term.send("\x03")  # Ctrl-C cancels the input
    term.expect("mlx> ")
    # a bad line shows the error with a caret, and the next good line works
    term.send("let x = Dense(unit=3)\r")
    seen = term.expect("did you mean 'units'?")
    assert "<repl>:1:15: error[E021]: Dense has no parameter 'unit'" in seen
    assert "^^^^" in seen
    term.expect("mlx> ")
    term.send("let x = Dense(units=5)\r")
    term.expect("mlx> ")
    term.send(":show x\r")
    term.expect("Dense(5)")
    term.expect("mlx> ")
    term.send("\x04")  # Ctrl-D leaves
    assert term.proc.wait(TIMEOUT) == 0
    history = (tmp_path / "history").read_text()
    assert ":show d" in history and "let x = Dense(units=5)" in history
