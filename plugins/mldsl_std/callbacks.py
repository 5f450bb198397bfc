"""Training callbacks."""
from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym

t = sym.typing


@sym.members([
    ("monitor", t.Str("val_loss"), "History key to watch, e.g. \"val_loss\" or \"val_accuracy\"."),
    ("patience", t.Int(0, min_value=0), "Epochs without improvement before stopping."),
    ("min_delta", c.FloatRange(0.0, min_value=0.0, finite=True), "Smallest change that counts as an improvement."),
    ("mode", t.Enum("auto", ["auto", "min", "max"]),
     "Whether lower (min) or higher (max) is better; auto: max for accuracy-like keys, else min."),
    ("restore_best_weights", t.Bool(False), "Restore the weights of the best epoch when stopping."),
])
class EarlyStopping(c.Callback):
    """Stops training when ``monitor`` has stopped improving."""

    type_name = "EarlyStopping"


@hookimpl
def mldsl_components():
    return [EarlyStopping]
