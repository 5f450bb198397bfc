"""Hypothesis strategies for symbolic values built from the fake components of ``dsl_helpers``."""
from hypothesis import strategies as st

from mldsl.hyper.primitives import floatv, intv, oneof

from dsl_helpers import ACTIVATIONS, Adam, Dense, Digits, Dropout, Experiment, Flatten, SGD, Sequential

floats = st.floats(allow_nan=False, width=64)
scalars = st.one_of(st.integers(-10**18, 10**18), floats, st.text(max_size=12), st.booleans(),
                    st.none())
plain = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12)

rates = st.floats(0.0, 1.0)
dense = st.builds(Dense, units=st.integers(1, 4096), activation=st.sampled_from(ACTIVATIONS),
                  use_bias=st.booleans())
dense_space = st.builds(Dense, units=st.one_of(st.integers(1, 64), st.lists(
    st.integers(1, 64), min_size=1, max_size=3, unique=True).map(oneof), st.just(intv(1, 9))),
    activation=st.one_of(st.sampled_from(ACTIVATIONS),
                         st.lists(st.sampled_from(ACTIVATIONS), min_size=1, max_size=3,
                                  unique=True).map(oneof)))
layer = st.one_of(dense, dense_space, st.builds(Dropout, rate=rates), st.just(Flatten()))
layers = st.one_of(layer, st.lists(layer, min_size=1, max_size=3).map(oneof))
optimizer = st.one_of(
    st.builds(Adam, learning_rate=st.one_of(st.floats(0.0, 10.0), st.just(floatv(1e-4, 1e-1, scale="log")))),
    st.builds(SGD, learning_rate=st.floats(0.0, 1.0), momentum=st.floats(0.0, 0.99)))
training = st.fixed_dictionaries({}, optional={
    "batch_size": st.integers(1, 1024), "num_epochs": st.integers(1, 50),
    "optimizer": st.one_of(optimizer, st.lists(optimizer, min_size=1, max_size=3).map(oneof))})
experiments = st.builds(
    Experiment, model=st.builds(Sequential, st.lists(layers, max_size=5)),
    data=st.one_of(st.none(), st.builds(Digits, test_split=rates)), training=training,
    seed=st.integers(-5, 10**9))
