"""PyGlove's own examples, replayed with ``pg`` renamed to ``mldsl``.

The snippets are the code cells of PyGlove's "Symbolic Machine Learning" guide
(``docs/notebooks/ml/symbolic_ml.ipynb``) and of the notebook of the paper "PyGlove: Efficiently
Exchanging ML Ideas as Code" (``docs/notebooks/ml/efficiently_exchange_ml_ideas_as_code.ipynb``),
verbatim except for:

* ``pg`` -> ``mldsl``;
* the classes the notebooks take from TensorFlow (``tf.keras.layers.Dense``, ...): plain classes with
  the same constructor signatures stand in for them (the "keras" namespace below), so the tests need no
  TensorFlow, and ``run()``/``train_and_evaluate()`` return a made-up score instead of training;
* the deliberate differences the README lists: ``mldsl.Grid()`` for ``pg.geno.Sweeping()``,
  ``mldsl.Evolution(...)`` for ``pg.evolution.regularized_evolution(...)``, ``mldsl.SealedError`` for
  ``pg.WritePermissionError``.

Each test asserts what the notebook shows (its printed diffs, queries, spaces and messages), compared as
values rather than as text where our layout differs (``key=value`` where PyGlove writes ``key = value``).
"""
import abc
import types

import pytest

import mldsl
from mldsl import patching


@pytest.fixture(autouse=True)
def own_patchers(monkeypatch):
    """The notebooks define patchers named like the std plugin's (``relu_to_elu``, ``change_lr``, ...):
    they take precedence over the plugin's while a test runs, and are forgotten after it."""
    monkeypatch.setattr(patching, "_DEFINED", dict(patching._DEFINED))


# -- stand-ins for the TensorFlow classes the notebooks symbolize -----------------------------------------
def _keras():
    class Layer:
        pass

    class Model(Layer):
        pass

    class Loss:
        pass

    class Optimizer:
        pass

    class Metric:
        pass

    class Sequential(Model):
        def __init__(self, layers=None, name=None):
            pass

    class Flatten(Layer):
        def __init__(self, input_shape=None, data_format=None):
            pass

    class Dense(Layer):
        def __init__(self, units, activation=None, use_bias=True):
            pass

    class Dropout(Layer):
        def __init__(self, rate):
            pass

    class Conv2D(Layer):
        def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", activation=None):
            pass

    class SeparableConv2D(Layer):
        def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", activation=None):
            pass

    class ReLU(Layer):
        def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0):
            pass

    class ELU(Layer):
        def __init__(self, alpha=1.0):
            pass

    class LeakyReLU(Layer):
        def __init__(self, alpha=0.3):
            pass

    class PReLU(Layer):
        def __init__(self, alpha_initializer="zeros"):
            pass

    class Adam(Optimizer):
        def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False,
                     name="Adam"):
            pass

    class RMSprop(Optimizer):
        def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-07, centered=False,
                     name="RMSprop"):
            pass

    class SGD(Optimizer):
        def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD"):
            pass

    class SparseCategoricalCrossentropy(Loss):
        def __init__(self, from_logits=False, reduction="auto", name="sparse_categorical_crossentropy"):
            pass

    class SparseCategoricalAccuracy(Metric):
        def __init__(self, name="sparse_categorical_accuracy", dtype=None):
            pass

    layers = types.SimpleNamespace(Layer=Layer, Flatten=Flatten, Dense=Dense, Dropout=Dropout, Conv2D=Conv2D,
                                   SeparableConv2D=SeparableConv2D, ReLU=ReLU, ELU=ELU, LeakyReLU=LeakyReLU,
                                   PReLU=PReLU)
    keras = types.SimpleNamespace(
        Model=Model, Sequential=Sequential, layers=layers,
        losses=types.SimpleNamespace(Loss=Loss, SparseCategoricalCrossentropy=SparseCategoricalCrossentropy),
        optimizers=types.SimpleNamespace(Optimizer=Optimizer, Adam=Adam, RMSprop=RMSprop, SGD=SGD),
        metrics=types.SimpleNamespace(Metric=Metric, SparseCategoricalAccuracy=SparseCategoricalAccuracy),
    )
    return types.SimpleNamespace(keras=keras)


tf = _keras()


def leaves(diff):
    """``mldsl.diff(a, b)`` as ``{path: (left, right)}``: what the notebooks' printed diffs show."""
    return diff.flatten()


# ====================================================================================================
# The "Symbolic Machine Learning" guide
# ====================================================================================================
@pytest.fixture
def guide(tmp_path, monkeypatch):
    """Cells 3 and 5: the classes and ``exp1``, saved to ``exp1.json``."""
    monkeypatch.chdir(tmp_path)

    @mldsl.members([
      ('model', mldsl.typing.Object(tf.keras.Model),
       'Model used for both training and evaluation.'),
      ('training', mldsl.typing.Dict([
        ('input', mldsl.typing.Callable(),
         'A callable that returns a tuple of (features, labels) for training.'),
        ('batch_size', mldsl.typing.Int(min_value=1),
         'Training batch size.'),
        ('num_epochs', mldsl.typing.Int(min_value=1),
         'Number of epochs for training.'),
        ('loss', mldsl.typing.Object(tf.keras.losses.Loss),
         'Loss used for optimization.'),
        ('optimizer', mldsl.typing.Object(tf.keras.optimizers.Optimizer),
         'Optimizer for minimizing the loss.'),
      ])),
      ('evaluation', mldsl.typing.Dict([
        ('input', mldsl.typing.Callable(),
         'A callable that returns a tuple of (feature, labels) for evaluation.'),
        ('batch_size', mldsl.typing.Int(min_value=1),
         'Evaluation batch size.'),
        ('metric', mldsl.typing.Object(tf.keras.metrics.Metric),
         'Evaluation metrics.')
      ]))
    ])
    class Experiment(mldsl.Object):

      def run(self):  # a made-up accuracy instead of training (see the module docstring)
        return 0.9 + self.training.batch_size / 1e4 - self.training.optimizer.learning_rate

    # Create an experiment instance.
    @mldsl.symbolize
    def mnist(training):
      return training

    # Symbolize regular Keras classes to make them serializable.
    Sequential = mldsl.symbolize(tf.keras.Sequential)
    Flatten = mldsl.symbolize(tf.keras.layers.Flatten)
    Dense = mldsl.symbolize(tf.keras.layers.Dense)
    Dropout = mldsl.symbolize(tf.keras.layers.Dropout)
    Adam = mldsl.symbolize(tf.keras.optimizers.Adam)
    SparseCategoricalCrossentropy = mldsl.symbolize(
        tf.keras.losses.SparseCategoricalCrossentropy)
    SparseCategoricalAccuracy = mldsl.symbolize(
        tf.keras.metrics.SparseCategoricalAccuracy)

    # Create an instance of Experiment via composition.
    exp1 = Experiment(
      model=Sequential(layers=[
         Flatten(input_shape=(28, 28)),
         Dense(1024, activation='relu'),
         Dropout(0.2),
         Dense(10, activation='softmax')
      ]),
      training=mldsl.Dict(
          input=mnist(training=True),
          batch_size=32,
          num_epochs=2,
          loss=SparseCategoricalCrossentropy(),
          optimizer=Adam(),
      ),
      evaluation=mldsl.Dict(
          input=mnist(training=False),
          batch_size=32,
          metric=SparseCategoricalAccuracy()
      ))

    # Run and save experiment.
    exp1.run()
    exp1.save('exp1.json')
    return types.SimpleNamespace(**locals())


@pytest.fixture
def experiment(guide):
    """Cells 9 and 11: reproduce ``exp1`` (clone, load) and modify it with ``rebind``."""
    g = guide
    exp1, Dense, Flatten, Dropout = g.exp1, g.Dense, g.Flatten, g.Dropout

    experiment = exp1.clone(deep=True)
    assert mldsl.eq(experiment, exp1)

    experiment = mldsl.load('exp1.json')
    assert mldsl.eq(experiment, exp1)

    experiment.run()

    @mldsl.symbolize
    class NewModel(tf.keras.Model):

      def __init__(self, activation):
        super().__init__()
        self._dense1 = Dense(1024, activation=activation)
        self._dense2 = Dense(10, activation='softmax')

      def call(self, inputs):
        x = Flatten()(inputs)
        x = self._dense1(x)
        x = Dropout(0.2)(x)
        x = self._dense2(x)
        return x

    ReLU = mldsl.symbolize(tf.keras.layers.ReLU)
    RMSProp = mldsl.symbolize(tf.keras.optimizers.RMSprop)

    experiment.rebind({
      'model': NewModel(activation=ReLU()),
      'training.batch_size': 256,
      'training.optimizer': RMSProp(0.01)
    })
    print(experiment)
    experiment.run()
    g.NewModel, g.ReLU, g.RMSProp = NewModel, ReLU, RMSProp
    return experiment


def test_guide_reproduction_clone_and_load(guide, experiment):
    assert type(experiment).__name__ == "Experiment" and experiment.model.activation == guide.ReLU()
    assert experiment.training.batch_size == 256 and experiment.training.optimizer == guide.RMSProp(0.01)
    assert experiment.training.optimizer.learning_rate == 0.01
    assert mldsl.load('exp1.json') == guide.exp1  # load is the inverse of save


def test_guide_tuning_with_sample(guide, experiment):
    ssd = experiment.clone(deep=True).rebind({
        'training.optimizer.learning_rate':
    mldsl.oneof([1e-2, 1e-1]),
    })

    trials = []
    for exp, feedback in mldsl.sample(ssd, mldsl.Grid()):
      print(f'Trial {feedback.id}: {feedback.dna}')
      accuracy = exp.run()
      feedback(accuracy)
      trials.append((feedback.id, feedback.dna.to_numbers(), exp.training.optimizer.learning_rate))
    # PyGlove prints DNA(0) and DNA(1); a one-decision DNA prints here as DNA([0]) (see the README)
    assert trials == [(1, [0], 0.01), (2, [1], 0.1)]
    assert experiment.training.optimizer.learning_rate == 0.01  # the space was a clone


def test_guide_formatting_and_schema(experiment, guide):
    assert "batch_size=256" in str(experiment) and "\n" in str(experiment)
    assert "\n" not in repr(experiment) and repr(experiment).startswith("Experiment(model=NewModel(")
    # Print with docstr, and hide the default values.
    text = mldsl.format(experiment, verbose=True, hide_default_values=True)
    assert "# Training batch size." in text and "batch_size=256" in text and "loss=SparseCategoricalCrossentropy()" in text
    assert "rho=" not in text and "learning_rate=0.01" in text
    schema = str(type(experiment).__schema__)
    assert "# Model used for both training and evaluation." in schema and "min_value=1" in schema


def test_guide_catches_bad_specifications(experiment):
    printed = []
    try:
      experiment.rebind({
          # Misput batch size.
          'training.batch_size': 0
      })
    except ValueError as e:
      printed.append(str(e))
    assert printed == ["Value 0 is out of range (min=1, max=None). (path=training.batch_size)"]


def test_guide_diff_query_traverse_eq_json(experiment, guide, capsys):
    d = mldsl.diff(experiment, experiment.clone(override={
        'training.batch_size': 128,
        'training.optimizer.learning_rate': 0.2
    }))
    print(d)
    assert leaves(d) == {'training.batch_size': (256, 128), 'training.optimizer.learning_rate': (0.01, 0.2)}

    # Query by key path.
    assert mldsl.query(experiment, '.*input') == {'training.input': guide.mnist(training=True),
                                                  'evaluation.input': guide.mnist(training=False)}
    # Query by values.
    assert mldsl.query(experiment, where=lambda v: isinstance(v, bool)) == {
        'evaluation.input.training': False,
        'training.input.training': True,
        'training.loss.from_logits': False,
        'training.optimizer.centered': False}

    def list_keys(key, value, parent):
      print(key)

    capsys.readouterr()
    assert mldsl.traverse(experiment, list_keys) is True
    assert capsys.readouterr().out.split("\n") == [
        "", "model", "model.activation", "model.activation.max_value", "model.activation.negative_slope",
        "model.activation.threshold", "training", "training.input", "training.input.training",
        "training.batch_size", "training.num_epochs", "training.loss", "training.loss.from_logits",
        "training.loss.reduction", "training.loss.name", "training.optimizer",
        "training.optimizer.learning_rate", "training.optimizer.rho", "training.optimizer.momentum",
        "training.optimizer.epsilon", "training.optimizer.centered", "training.optimizer.name", "evaluation",
        "evaluation.input", "evaluation.input.training", "evaluation.batch_size", "evaluation.metric",
        "evaluation.metric.name", "evaluation.metric.dtype", ""]

    assert mldsl.eq(experiment, guide.exp1) is False
    assert mldsl.eq(experiment, experiment.clone(deep=True)) is True
    assert mldsl.eq(experiment, mldsl.from_json_str(experiment.to_json_str()))


def test_guide_seal(experiment):
    printed = []
    experiment.seal()
    try:
      experiment.rebind({
          'training.batch_size': 5
      })
    except mldsl.SealedError as e:  # pg.WritePermissionError
      printed.append(str(e))
    experiment.seal(False)
    assert len(printed) == 1 and "sealed" in printed[0] and "(path=training" in printed[0]
    assert experiment.rebind({'training.batch_size': 5}).training.batch_size == 5


def test_guide_patchers(experiment, guide):
    ReLU = guide.ReLU

    @mldsl.patcher([
      ('batch_size', mldsl.typing.Int(min_value=1))
    ])
    def scale_lr_with_batch_size(exp, batch_size):
      # A patcher returns a dict of location to updated values
      # within the patching target.
      return {
          'training.batch_size': batch_size,
          'training.optimizer.learning_rate': (
              exp.training.optimizer.sym_init_args.learning_rate * (
                  batch_size / exp.training.batch_size))
      }

    new_experiment = experiment.clone(deep=True)
    mldsl.patch(new_experiment, scale_lr_with_batch_size(batch_size=1024))
    print(mldsl.diff(experiment, new_experiment))
    assert leaves(mldsl.diff(experiment, new_experiment)) == {
        'training.batch_size': (256, 1024), 'training.optimizer.learning_rate': (0.01, 0.04)}

    ELU = mldsl.symbolize(tf.keras.layers.ELU)

    @mldsl.patcher()
    def relu_to_elu(unused_exp):
      def _swap_activation(k, v, p):
        """Transform fn for each node in the symbolic tree in bottom-up a manner.

        Args:
          k: a `mldsl.KeyPath` object representing the location of current node.
          v: the value of current node.
          p: the parent node.

        Returns:
          Transformed value.
        """
        if isinstance(v, ReLU):
          return ELU()
        return v
      return _swap_activation

    new_experiment = experiment.clone(deep=True)
    mldsl.patch(new_experiment, relu_to_elu())
    print(mldsl.diff(experiment, new_experiment))
    assert leaves(mldsl.diff(experiment, new_experiment)) == {'model.activation': (ReLU(), ELU())}

    new_experiment = experiment.clone(deep=True)
    # Combining ideas by chaining the patchers.
    mldsl.patch(new_experiment, [
        scale_lr_with_batch_size(batch_size=1024),
        relu_to_elu(),
    ])
    both = {'model.activation': (ReLU(), ELU()), 'training.batch_size': (256, 1024),
            'training.optimizer.learning_rate': (0.01, 0.04)}
    assert leaves(mldsl.diff(experiment, new_experiment)) == both

    # From the command line's strings: the patchers defined here take precedence over the std plugin's
    # patchers of the same names.
    print(mldsl.diff(experiment, mldsl.patch(experiment.clone(deep=True), [
        'scale_lr_with_batch_size?batch_size=1024',
        'relu_to_elu'
    ])))
    assert leaves(mldsl.diff(experiment, mldsl.patch(experiment.clone(deep=True), [
        'scale_lr_with_batch_size?batch_size=1024',
        'relu_to_elu'
    ]))) == both


def test_guide_search_space_and_evolution(experiment, guide):
    ReLU, RMSProp = guide.ReLU, guide.RMSProp
    ELU = mldsl.symbolize(tf.keras.layers.ELU)
    SGD = mldsl.symbolize(tf.keras.optimizers.SGD)
    Adam = mldsl.symbolize(tf.keras.optimizers.Adam)
    PReLU = mldsl.symbolize(tf.keras.layers.PReLU)

    learning_rate = 0.001

    experiment_space = experiment.clone(override={
        'model.activation': mldsl.oneof([ReLU(), ELU(), PReLU()]),
        'training.optimizer': mldsl.oneof([
            RMSProp(learning_rate=learning_rate),
            SGD(learning_rate=learning_rate),
            Adam(learning_rate=learning_rate),
        ]),
        'training.batch_size': mldsl.oneof([32, 64, 128])
    })

    # Let's inspect the decision points from this space:
    print(mldsl.dna_spec(experiment_space))
    assert str(mldsl.dna_spec(experiment_space)) == """\
Space({
  0 = 'model.activation': Choices(num_choices=1, [
    (0): ReLU()
    (1): ELU()
    (2): PReLU()
  ])
  1 = 'training.batch_size': Choices(num_choices=1, [
    (0): 32
    (1): 64
    (2): 128
  ])
  2 = 'training.optimizer': Choices(num_choices=1, [
    (0): RMSprop()
    (1): SGD(learning_rate=0.001)
    (2): Adam()
  ])
})"""
    # Check the size of the space.
    print(mldsl.dna_spec(experiment_space).space_size)
    assert mldsl.dna_spec(experiment_space).space_size == 27

    best_exp, best_accuracy = None, None
    history = []
    for exp, feedback in mldsl.sample(experiment_space,
                                      mldsl.Evolution(
                                          population_size=5, tournament_size=3),
                                      num_examples=20):
      print(f'Trial {feedback.id}: {feedback.dna}')
      accuracy = exp.run()
      if best_accuracy is None or best_accuracy < accuracy:
        best_accuracy, best_exp = accuracy, exp
      history.append(accuracy)
      feedback(accuracy)

    print(f'Best acurracy: {best_accuracy}')
    print(f'Best experiment: {best_exp}')
    assert len(history) == 20 and mldsl.is_deterministic(best_exp)
    assert best_accuracy == max(history) and best_exp.run() == best_accuracy


# ====================================================================================================
# The paper's notebook: "PyGlove: Efficiently Exchanging ML Ideas as Code"
# ====================================================================================================
@pytest.fixture
def paper(tmp_path, monkeypatch):
    """Cells 3, 5 and 8: the plain classes, then the same classes symbolized, and ``exp``."""
    monkeypatch.chdir(tmp_path)

    class MLExperiment:

      def __init__(self, model, dataset, loss, optimizer, num_epochs=5):
        self._model = model
        self._dataset = dataset
        self._loss = loss
        self._optimizer = optimizer
        self._num_epochs = num_epochs

      def train_and_evaluate(self):  # a made-up accuracy instead of training
        return 0.9 + self._num_epochs / 100

    # Components for datasets.
    class Dataset(metaclass=abc.ABCMeta):
      @abc.abstractproperty
      def num_classes(self):
        pass

      @abc.abstractmethod
      def load_data(self):
        pass

    class Cifar100(Dataset):
      @property
      def num_classes(self):
        return 100

      def load_data(self):
        return None

    class Mnist(Dataset):
      @property
      def num_classes(self):
        return 10

      def load_data(self):
        return None

    Sequential = tf.keras.Sequential
    Conv2D = tf.keras.layers.Conv2D
    Dense = tf.keras.layers.Dense
    Flatten = tf.keras.layers.Flatten
    ReLU = tf.keras.layers.ReLU
    SparseCategoricalCrossentropy = tf.keras.losses.SparseCategoricalCrossentropy
    Adam = tf.keras.optimizers.Adam

    def experiment():
      # The return value represents an ML experiment that is composed
      # by its sub-components.
      return MLExperiment(
        model=Sequential([
            Conv2D(16, (3, 3), padding='same', activation=ReLU()),
            Conv2D(32, (1, 1), padding='same', activation=ReLU()),
            Flatten(),
            Dense(150),
            Dense(10, activation='softmax')
        ]),
        dataset=Mnist(),
        loss=SparseCategoricalCrossentropy(),
        optimizer=Adam(learning_rate=0.01),
        num_epochs=2)

    exp = experiment()
    exp.train_and_evaluate()
    plain = exp

    # `mldsl.symbolize` is the decorator that can upgrade
    # a regular class with symbolic programmability.
    MLExperiment = mldsl.symbolize(MLExperiment)
    Mnist = mldsl.symbolize(Mnist)
    Cifar100 = mldsl.symbolize(Cifar100)
    Sequential = mldsl.symbolize(Sequential)
    Conv2D = mldsl.symbolize(Conv2D)
    Dense = mldsl.symbolize(Dense)
    Flatten = mldsl.symbolize(Flatten)
    ReLU = mldsl.symbolize(ReLU)
    SparseCategoricalCrossentropy = mldsl.symbolize(SparseCategoricalCrossentropy)
    Adam = mldsl.symbolize(Adam)

    # Now `exp` is created as a symbolic object,
    # which has a human-readable string representation.
    exp = experiment()
    print(exp)
    return types.SimpleNamespace(**locals())


def test_paper_symbolized_experiment(paper):
    assert not isinstance(paper.plain, mldsl.Object) and isinstance(paper.exp, mldsl.Object)
    assert str(paper.exp).startswith("MLExperiment(\n") and "padding='same'" in str(paper.exp)
    assert paper.exp.dataset.num_classes == 10 and paper.exp.train_and_evaluate() == 0.92


def test_paper_patching_by_locations_and_rules(paper):
    exp, Conv2D = paper.exp, paper.Conv2D
    # The experiment object is now ready for direct manipulation.
    # We show the diff before and after.
    exp2 = exp.clone()
    mldsl.patch(exp2, {
        'optimizer.learning_rate': 0.02,
        'num_epochs': 1
    })
    print(mldsl.diff(exp, exp2))
    assert leaves(mldsl.diff(exp, exp2)) == {'optimizer.learning_rate': (0.01, 0.02), 'num_epochs': (2, 1)}

    SeparableConv2D = mldsl.symbolize(tf.keras.layers.SeparableConv2D)

    # Replace all Conv2D with SeparableConv2D in the model.
    # The rule does not know the existence of `MyExperiment`.
    exp3 = exp.clone()
    mldsl.patch(exp3, lambda k, v: SeparableConv2D(v.filters, v.kernel_size, padding=v.padding) if isinstance(v, Conv2D) else v)
    print(mldsl.diff(exp, exp3))
    assert leaves(mldsl.diff(exp, exp3)) == {
        'model.layers[0]': (exp.model.layers[0], SeparableConv2D(16, (3, 3), padding='same')),
        'model.layers[1]': (exp.model.layers[1], SeparableConv2D(32, (1, 1), padding='same'))}

    # Make a copy of `exp` before we manipulate it.
    exp4 = exp.clone()
    mldsl.patch(exp4, {
        'optimizer.learning_rate': 0.02,
    })
    assert leaves(mldsl.diff(exp, exp4)) == {'optimizer.learning_rate': (0.01, 0.02)}


@pytest.fixture
def paper_patchers(paper):
    """Cells 18, 20, 23, 25 and 27: the paper's patchers (named like the std plugin's)."""
    Conv2D, Dense, ReLU, Cifar100, Mnist = paper.Conv2D, paper.Dense, paper.ReLU, paper.Cifar100, paper.Mnist

    @mldsl.patcher([
      ('learning_rate', mldsl.typing.Float(min_value=0.))
    ])
    def change_lr(target, learning_rate):
      def rule(k, v, p):
        # k: a key path object representing the location of current node (the node
        #    that is being transformed.
        # v: the value of current node.
        # p: the parent node of current node.

        # The change learning rate rule is not depend on
        # the containing classes, but only depend on the
        # key name of the learning rate. This rule is more
        # robust than previous rule which depends on the
        # absolute location.
        if (k and k.key in ['learning_rate', 'lr'] and isinstance(v, float)):
          return learning_rate
        else:
          return v
      return rule

    LeakyReLU = mldsl.symbolize(tf.keras.layers.LeakyReLU)

    @mldsl.patcher()
    def relu_to_leaky_relu(unused):
      def rule(k, v, p):
        return LeakyReLU() if isinstance(v, ReLU) else v
      return rule

    def dataset_by_name(name):
      if name == 'cifar100':
        return Cifar100()
      elif name == 'mnist':
        return Mnist()
      else:
        raise NotImplemented()

    # The number of logits is dependent on the dataset.
    @mldsl.patcher()
    def change_dataset(exp, name):
      dataset = dataset_by_name(name)
      r = mldsl.query(exp, where=lambda v: isinstance(v, Dense))
      return {
          f'{list(r.keys())[-1]}.units': dataset.num_classes,
          'dataset': dataset
      }

    @mldsl.patcher([
      ('factor', mldsl.typing.Float(min_value=1e-8))
    ])
    def scale_width(exp, factor):
      def rule(k, v, p):
        if isinstance(p, Conv2D) and k.key == 'filters':
          return max(8, int(v * factor))
        return v
      return rule

    @mldsl.patcher()
    def filter_search_space(exp):
      def rule(k, v, p):
        if isinstance(p, Conv2D) and k.key == 'filters':
          return mldsl.oneof([v // 2, v, v * 2])
        return v
      return rule

    return types.SimpleNamespace(**locals())


def test_paper_patchers_by_key_type_and_rule(paper, paper_patchers):
    exp, ReLU = paper.exp, paper.ReLU
    p = paper_patchers

    exp5 = exp.clone()
    mldsl.patch(exp5, p.change_lr(learning_rate=0.03))
    print(mldsl.diff(exp, exp5))
    assert leaves(mldsl.diff(exp, exp5)) == {'optimizer.learning_rate': (0.01, 0.03)}

    exp6 = exp.clone()
    mldsl.patch(exp6, p.relu_to_leaky_relu())
    print(mldsl.diff(exp, exp6))
    assert leaves(mldsl.diff(exp, exp6)) == {'model.layers[0].activation': (ReLU(), p.LeakyReLU()),
                                             'model.layers[1].activation': (ReLU(), p.LeakyReLU())}

    exp7 = exp.clone()
    mldsl.patch(exp7, p.change_dataset(name='cifar100'))
    print(mldsl.diff(exp, exp7))
    assert leaves(mldsl.diff(exp, exp7)) == {'model.layers[4].units': (10, 100),
                                             'dataset': (paper.Mnist(), paper.Cifar100())}

    exp8 = exp.clone()
    mldsl.patch(exp8, p.scale_width(factor=2.0))
    print(mldsl.diff(exp, exp8))
    assert leaves(mldsl.diff(exp, exp8)) == {'model.layers[0].filters': (16, 32),
                                             'model.layers[1].filters': (32, 64)}

    exp9 = exp.clone()
    mldsl.patch(exp9, p.filter_search_space())
    # Print search space.
    print(mldsl.dna_spec(exp9))
    assert str(mldsl.dna_spec(exp9)) == EXP9_SPACE


EXP9_SPACE = """\
Space({
  0 = 'model.layers[0].filters': Choices(num_choices=1, [
    (0): 8
    (1): 16
    (2): 32
  ])
  1 = 'model.layers[1].filters': Choices(num_choices=1, [
    (0): 16
    (1): 32
    (2): 64
  ])
})"""


def test_paper_patch_strings_compose(paper, paper_patchers):
    exp = paper.exp
    exp10 = exp.clone()

    # Applying 3 rules to `exp10` in chains,
    # which will end up with an experiment with
    # all desired changes.
    mldsl.patch(exp10, [
        'change_lr?0.003',
        'scale_width?factor=2.0',
        'change_dataset?name=cifar100'
    ])
    print(mldsl.diff(exp, exp10))
    assert leaves(mldsl.diff(exp, exp10)) == {
        'model.layers[0].filters': (16, 32), 'model.layers[1].filters': (32, 64),
        'model.layers[4].units': (10, 100), 'dataset': (paper.Mnist(), paper.Cifar100()),
        'optimizer.learning_rate': (0.01, 0.003)}


def test_paper_save_load_validation_query_and_tuning(paper, paper_patchers):
    exp = paper.exp

    # Save experiment to a file.
    # `mldsl.save` can also be hooked up with a distributed storage.

    exp_id = 'my_experiment.json'
    mldsl.save(exp, exp_id)

    exp11 = mldsl.load(exp_id)

    assert mldsl.eq(exp, exp11)
    exp11.train_and_evaluate()

    class Optimizer:
      pass

    # Symbolic validation can be done at creation and mutation time
    # automatically, with the optional validation rules provided for
    # component arguments.
    @mldsl.symbolize([
        ('learning_rate', mldsl.typing.Float(min_value=0)),
    ])
    class MyNewOptimizer(Optimizer):
      def __init__(self, learning_rate):
        pass

    printed = []
    try:
      # Mistakenly provided learning_rate will be caught at construction.
      MyNewOptimizer(learning_rate=-1.0)
    except Exception as e:
      printed.append(str(e))

    my_opt = MyNewOptimizer(learning_rate=1.0)

    try:
      # Mistakenly provided learning_rate will be caught at construction.
      mldsl.patch(my_opt, {'learning_rate': -0.5})
    except Exception as e:
      printed.append(str(e))
    assert printed == ["Value -1.0 is out of range (min=0, max=None). (path=learning_rate)",
                       "Value -0.5 is out of range (min=0, max=None). (path=learning_rate)"]

    # Query the location of all relu layers.
    assert mldsl.query(exp, where=lambda v: isinstance(v, tf.keras.layers.ReLU)) == {
        'model.layers[0].activation': paper.ReLU(), 'model.layers[1].activation': paper.ReLU()}
    # Query values by path.
    assert mldsl.query(exp, '.*learning_rate') == {'optimizer.learning_rate': 0.01}

    # Tune the Conv2D filters.
    exp_tuning = mldsl.patch(exp.clone(), [
      paper_patchers.filter_search_space(),
      {'num_epochs': 1}
    ])

    # Print the search space information.
    print(mldsl.dna_spec(exp_tuning))
    assert str(mldsl.dna_spec(exp_tuning)) == EXP9_SPACE and mldsl.dna_spec(exp_tuning).space_size == 9

    # Do hyperparameter sweeping on the search space.
    best_acc, best_exp = 0., None
    seen = []
    for exp, feedback in mldsl.sample(exp_tuning, mldsl.Grid()):
      test_acc = exp.train_and_evaluate()
      if best_acc < test_acc:
        best_acc, best_exp = test_acc, exp
      print(feedback.id, feedback.dna, test_acc)
      feedback(test_acc)
      seen.append((feedback.id, str(feedback.dna), exp.model.layers[0].filters, exp.model.layers[1].filters))

    print(f'Best experiment (accuracy={best_acc}): f{best_exp}')
    assert seen == [(1, 'DNA([0, 0])', 8, 16), (2, 'DNA([0, 1])', 8, 32), (3, 'DNA([0, 2])', 8, 64),
                    (4, 'DNA([1, 0])', 16, 16), (5, 'DNA([1, 1])', 16, 32), (6, 'DNA([1, 2])', 16, 64),
                    (7, 'DNA([2, 0])', 32, 16), (8, 'DNA([2, 1])', 32, 32), (9, 'DNA([2, 2])', 32, 64)]
