"""``Experiment``: a model, its data, and how to train and evaluate it."""
from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym
from mldsl.data.order import ORDERS
from mldsl_std.losses import SparseCategoricalCrossentropy
from mldsl_std.metrics import SparseCategoricalAccuracy
from mldsl_std.optimizers import Adam

t = sym.typing

TRAINING_FIELDS = [
    ("batch_size", t.Int(32, min_value=1), "Examples per gradient step."),
    ("num_epochs", t.Int(1, min_value=0), "Passes over the training data; 0 trains nothing and evaluates the "
                                          "untrained model (its initial test loss)."),
    ("loss", t.Object(c.Loss, default=SparseCategoricalCrossentropy()), "The loss to minimise."),
    ("optimizer", t.Object(c.Optimizer, default=Adam()), "The optimizer."),
    ("validation_split", c.FloatRange(0.0, 0.0, 1.0, max_inclusive=False),
     "Fraction of the training data held out to report val_loss/val_<metric> each epoch, in [0, 1)."),
    ("callbacks", t.List(t.Object(c.Callback), default=[]), "Callbacks such as EarlyStopping."),
    ("order", t.Enum(ORDERS[0], list(ORDERS)),
     "The order examples are visited in each epoch: shuffle (a new random order every epoch), sequential "
     "(the data's order) or by_class (class 0's examples, then class 1's, ...; shuffled within a class); "
     "seeded by the experiment's seed. A validation split is held out before ordering."),
    ("eval_every", t.Int(0, min_value=0), "Evaluate on the test split every N epochs, adding test_loss and "
                                          "test_<metric name> to those epochs' history (0: only at the end)."),
    ("report_every", t.Int(1, min_value=1), "Print a progress line every N epochs (the history keeps every "
                                            "epoch)."),
]

EVALUATION_FIELDS = [
    ("batch_size", t.Int(256, min_value=1), "Examples per evaluation batch."),
    ("metric", t.Object(c.Metric, default=SparseCategoricalAccuracy()),
     "The metric reported on the test set (its name is the result key)."),
    ("per_class", t.Bool(False),
     "Also report each class's test accuracy and the confusion matrix (metrics key per_class; confusion.png)."),
]


@sym.members([
    ("model", t.Object(c.Model), "The model to train, e.g. Sequential([...])."),
    ("data", t.Object(c.Dataset), "The dataset, e.g. Mnist() or Digits()."),
    ("training", t.Dict(TRAINING_FIELDS), "How to train: batch_size, num_epochs, loss, optimizer, "
                                          "validation_split, callbacks, order, eval_every, report_every."),
    ("evaluation", t.Dict(EVALUATION_FIELDS), "How to evaluate on the test set: batch_size, metric, per_class."),
    ("seed", t.Int(0), "Seed of weight initialisation, shuffling and dropout."),
    ("backend", t.Enum("auto", ["auto", "native", "keras"]),
     "Which backend runs it: native (mldsl's kernels), keras (TensorFlow), or auto (native when it "
     "can run every component, else keras)."),
])
class Experiment(c.ExperimentBase):
    """A machine-learning experiment: train ``model`` on ``data`` as ``training`` says, then evaluate.

    The history of a run has the keys ``loss``, the metric's name, and with a validation split
    ``val_loss`` and ``val_<metric name>``, and with ``eval_every`` ``test_loss`` and ``test_<metric name>``
    every N epochs.
    """

    type_name = "Experiment"


@hookimpl
def mldsl_components():
    return [Experiment]
