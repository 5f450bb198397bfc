"""Where the front ends print (``mldsl.service.output``): plain, stable text off a terminal; ``rich``
tables and bars on one, coloured unless ``NO_COLOR`` is set."""
import io

import pytest

from mldsl.service.output import Output, elapsed_text, metric_text


class Tty(io.StringIO):
    def isatty(self):
        return True


ROWS = [["accuracy", "0.9667"], ["loss", "0.1234"]]


def test_a_table_off_a_terminal_is_plain_columns():
    stream = io.StringIO()
    Output(stream).table(["metric", "value"], ROWS)
    lines = stream.getvalue().splitlines()
    assert lines[0].split() == ["metric", "value"] and set(lines[1].replace(" ", "")) == {"-"}
    assert [line.split() for line in lines[2:]] == ROWS
    assert all(line == line.rstrip() for line in lines) and "\x1b" not in stream.getvalue()
    assert lines[2].index("0.9667") == lines[0].index("value")  # aligned columns


@pytest.mark.parametrize("no_color", [False, True])
def test_a_table_on_a_terminal_is_bold_unless_no_color(monkeypatch, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    stream = Tty()
    out = Output(stream)
    assert out.color is not no_color
    out.table(["metric", "value"], ROWS)
    text = stream.getvalue()
    assert "accuracy" in text and "0.1234" in text
    assert ("\x1b[1m" in text) is not no_color


def test_epoch_progress_prints_lines_only_where_asked():
    quiet, transcript, tty = io.StringIO(), io.StringIO(), Tty()
    logs = {"loss": 0.5, "accuracy": 0.75, "seconds": 0.25}
    for stream, plain in ((quiet, False), (transcript, True), (tty, False)):
        with Output(stream, color=False).epoch_progress(2, plain_lines=plain) as progress:
            progress(1, logs)
            progress(2, logs)
    assert quiet.getvalue() == ""  # `mldsl run` piped: the final table says it all
    assert transcript.getvalue().splitlines() == ["epoch 1/2  loss 0.5  accuracy 0.75  0.25s",
                                                  "epoch 2/2  loss 0.5  accuracy 0.75  0.25s"]
    assert "epoch 2/2" in tty.getvalue() and "━" in tty.getvalue()  # a bar with a line per epoch


def test_numbers_as_every_table_shows_them():
    assert [metric_text(v) for v in (None, 0.123456, float("nan"), 3)] == ["-", "0.1235", "nan", "3"]
    assert [elapsed_text(s) for s in (5, 65, 3725)] == ["00:05", "01:05", "1:02:05"]
