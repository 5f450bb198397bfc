"""The native MLP trainer: runs a :class:`~.plan.Plan` on NumPy arrays with the compiled kernels
(or their NumPy twins), Keras-style.

Everything is allocated once in the constructor: the flat parameter/gradient buffers (each layer's
W and b are views), optimizer state, and per-layer activation/gradient buffers sized for the largest
batch. A training step then only gathers the shuffled batch into its buffer and calls kernels.
"""
from __future__ import annotations

import contextlib
import importlib
import math
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from mldsl.backends.base import lower_learning_rate
from mldsl.backends.native.initializers import initialize
from mldsl.backends.native.layers import ActivationLayer, DenseLayer, DropoutLayer, NumpyLayer, parameter_shapes
from mldsl.backends.native.optim import FlatOptimizer
from mldsl.backends.native.plan import DenseSpec, DropoutSpec, FlattenSpec, NumpyLayerSpec, Plan
from mldsl.backends.native.threads import choose_threads, step_work, usable_cores
from mldsl.data.order import epoch_orders
from mldsl.data.splits import as_labels
from mldsl.errors import BackendError
from mldsl.kernels import catalogue

#: ``on_epoch(epoch, logs)`` with 1-based epoch; returning False stops training.
EpochCallback = Callable[[int, dict], Optional[bool]]

KERNEL_MODULES = {"cython": "mldsl.kernels", "numpy": "mldsl.kernels.reference"}


def output_width(spec: Any, shape: tuple) -> int:
    """The features per example a (non-Flatten) layer spec outputs, given its input ``shape``."""
    if isinstance(spec, DenseSpec):
        return spec.units
    if isinstance(spec, NumpyLayerSpec):
        return spec.units or shape[0]
    return shape[0]


def layer_parameters(spec: Any, shape: tuple) -> int:
    """How many numbers the parameters of a layer on inputs of ``shape`` hold: a Dense layer's kernel and
    bias, a plugin layer's (``NumpyLayerSpec``) parameters; 0 for a layer without weights."""
    if isinstance(spec, DenseSpec):
        return spec.units * (shape[0] + (1 if spec.use_bias else 0))
    if isinstance(spec, NumpyLayerSpec):
        return sum(int(np.prod(s)) for s in parameter_shapes(spec, shape[0]).values())
    return 0


def memory_needed(plan: Plan, n_features: int, specs: Sequence[tuple], capacity: int, itemsize: int,
                  counts: Optional[Sequence[int]] = None) -> int:
    """Bytes the trainer allocates for ``plan``: the flat parameters (Dense and plugin layers'), gradients,
    optimizer states (and the best weights kept for early stopping), each layer's batch buffers, the input
    and target buffers, and the float64 scratch of the largest layer's initialisation. ``specs``: ``(index,
    spec, input shape)`` of the layers it runs; ``counts``: their :func:`layer_parameters`, when known."""
    if counts is None:
        counts = [layer_parameters(s, shape) for _, s, shape in specs]
    restore = bool(plan.early_stopping and plan.early_stopping.restore_best_weights)
    flat = sum(counts) * (2 + len(plan.optimizer.states) + restore)
    rows = 0
    for _, s, shape in specs:
        units = output_width(s, shape)
        per_row = 2 + (isinstance(s, DropoutSpec) or (isinstance(s, DenseSpec) and
                                                      catalogue.ACTIVATIONS[s.activation].needs_x))
        rows += per_row * units
    io = n_features + (1 if plan.loss == "sparse_categorical_crossentropy" else specs[-1][2][0] if specs else 0)
    scratch = max((s.units * shape[0] if isinstance(s, DenseSpec) else n for (_, s, shape), n in zip(specs, counts)),
                  default=0) * 16
    return (flat + capacity * (rows + io)) * itemsize + scratch


def available_memory() -> Optional[int]:
    """Bytes this process may still allocate: the smaller of the kernel's MemAvailable and what the
    cgroup (v2) limit leaves; None where neither can be read."""
    found = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current") as f:
            used = int(f.read().strip())
        if limit != "max":
            found.append(max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def load_kernels(kernels: Any = "cython") -> Any:
    """The kernel namespace for ``kernels``: "cython" (compiled), "numpy" (twins) or a module."""
    if not isinstance(kernels, str):
        return kernels
    name = KERNEL_MODULES.get(kernels)
    if name is None:
        raise BackendError(f"unknown kernels {kernels!r}; choose 'cython' or 'numpy'")
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover - broken install
        raise BackendError(f"the compiled kernels cannot be imported ({exc}); reinstall with "
                           "`pip install -e .` to rebuild them, or use kernels='numpy'") from exc


class MLPTrainer:
    """Trains and evaluates the MLP described by ``plan`` on inputs of shape ``input_shape``.

    ``kernels``: "cython" (default) or "numpy" (the NumPy twins; same results up to rounding).
    ``compiled_step``: train a Dense-only model through the kernels' ``DenseTrainStep`` (default), or
    False for the per-layer path (one kernel call per layer and pass; same results up to rounding).
    Methods: :meth:`fit` (returns the history), :meth:`evaluate`, :meth:`predict`, :meth:`train_step`,
    :meth:`get_weights` / :meth:`set_weights` (the Dense weights in the shared exchange format).
    """

    def __init__(self, plan: Plan, input_shape: Sequence[int], kernels: Any = "cython",
                 compiled_step: bool = True):
        if isinstance(plan, dict):
            plan = Plan.from_dict(plan)
        self.plan = plan
        self.K = load_kernels(kernels)
        self.kernels = kernels if isinstance(kernels, str) else getattr(kernels, "__name__", "custom")
        self.dtype = np.dtype(plan.dtype)
        self.input_shape = tuple(int(d) for d in input_shape)
        self.capacity = max(plan.batch_size, plan.eval_batch_size)
        try:
            self._build(compiled_step)
        except MemoryError:
            need = getattr(self, "memory_needed", None)
            about = f" (it needs about {_bytes(need)})" if need else ""
            raise BackendError(f"out of memory while allocating the model{about}; make the layers or the batch "
                               "sizes smaller") from None

    # ------------------------------------------------------------------ construction
    def _build(self, compiled_step: bool = True) -> None:
        plan, cap, dt = self.plan, self.capacity, self.dtype
        # the layers to run: a final softmax under cross-entropy is fused into the loss kernel, so the layers
        # before it produce the logits, whatever their activation (Plan.output_head; it keeps the indices)
        head = plan.output_head()
        self.probs_softmax = head.softmax   # whether predict() applies a softmax to the last output
        shape = self.input_shape
        specs = []
        for idx, spec in enumerate(head.layers):          # shape inference; Flatten is a reshape
            if isinstance(spec, FlattenSpec):
                shape = (int(np.prod(shape)),)
                continue
            if isinstance(spec, (DenseSpec, NumpyLayerSpec)) and len(shape) != 1:
                kind = "Dense" if isinstance(spec, DenseSpec) else spec.name
                where = f"the {kind} layer at {spec.path}" if spec.path else f"layer {idx} ({kind})"
                raise BackendError(f"{where} gets inputs of shape {shape}; the native backend runs {kind} on flat "
                                   "features only: put a Flatten layer before it")
            if isinstance(spec, DropoutSpec) and spec.rate == 0:
                continue
            specs.append((idx, spec, shape))
            shape = (output_width(spec, shape),)
        self.n_features = int(np.prod(self.input_shape))
        if len(shape) != 1:
            raise BackendError(f"the model's output has shape {shape}; end it with a Dense layer")
        self.output_units = shape[0]
        self._check_memory(specs)

        first_weighted = next(i for i, (_, s, _) in enumerate(specs)      # the first layer with weights
                           if isinstance(s, DenseSpec) or (isinstance(s, NumpyLayerSpec) and s.params))
        self.layers: List[Any] = []
        seed = int(plan.seed)
        for pos, (idx, spec, in_shape) in enumerate(specs):
            has_grad = pos >= first_weighted      # gradients are needed from the first weighted layer on
            units = in_shape[0]
            if isinstance(spec, DenseSpec):
                layer = DenseLayer(self.K, spec, units, cap, dt, has_grad)
            elif isinstance(spec, DropoutSpec):
                dseed = spec.seed if spec.seed is not None else (seed * 1_000_003 + idx) & (2 ** 63 - 1)
                layer = DropoutLayer(self.K, spec.rate, dseed, units, cap, dt, has_grad)
            elif isinstance(spec, NumpyLayerSpec):
                layer = NumpyLayer(spec, units, cap, dt, has_grad)
            else:
                layer = ActivationLayer(self.K, spec.activation, spec.alpha, units, cap, dt, has_grad)
            layer.index = idx
            self.layers.append(layer)
        self.dense_layers = [l for l in self.layers if isinstance(l, DenseLayer)]
        self.weighted_layers = [l for l in self.layers if l.n_params]     # in order: Dense and plugin layers
        self._has_penalty = any(l.l1 or l.l2 for l in self.dense_layers)
        # which layers need dx: every layer after the first weighted one
        self._prev_grad_needed = [pos > first_weighted for pos in range(len(self.layers))]

        n_params = sum(l.n_params for l in self.weighted_layers)
        self.params = np.empty(n_params, dt)
        self.grads = np.zeros(n_params, dt)
        off = 0
        for l in self.weighted_layers:
            off = l.bind(self.params, self.grads, off)
        self.reset_weights()
        self.optimizer = FlatOptimizer(self.K, plan.optimizer, self.params, self.grads)
        self._best = np.empty_like(self.params) if plan.early_stopping and plan.early_stopping.restore_best_weights \
            else None

        self.xbuf = np.empty((cap, self.n_features), dt)
        if plan.loss == "sparse_categorical_crossentropy":
            self.ybuf = np.empty(cap, np.int64)
        else:
            self.ybuf = np.empty((cap, self.output_units), dt)
        self._io_views: dict = {}
        self._compiled = self._compile_step() if compiled_step else None

    def _compile_step(self) -> Any:
        """The kernels' whole-step object (``DenseTrainStep``) when every layer is Dense, else None:
        dropout and standalone activation layers take the per-layer path."""
        if not all(isinstance(l, DenseLayer) for l in self.layers):
            return None
        layers = [{"W": l.W, "b": l.b, "dW": l.dW, "db": l.db, "activation": l.activation, "alpha": l.alpha,
                   "l1": l.l1, "l2": l.l2, "out": l.out, "grad": l.grad, "z": l.z} for l in self.dense_layers]
        return self.K.DenseTrainStep(layers, self.plan.loss, self.plan.optimizer, self.params, self.grads,
                                     self.xbuf, self.ybuf, count_hits=self.plan.metric is not None,
                                     states=self.optimizer.states)

    def _check_memory(self, specs: list) -> None:
        """A BackendError saying how much memory the model needs when that is more than this machine has
        (before anything is allocated: an absurd Dense(10**12) is an error a person can act on)."""
        counts = [layer_parameters(s, shape) for _, s, shape in specs]
        need = self.memory_needed = memory_needed(self.plan, self.n_features, specs, self.capacity,
                                                  self.dtype.itemsize, counts)
        free = available_memory()
        if free is not None and need > free:
            where = ""
            if any(counts):
                largest = max(range(len(specs)), key=counts.__getitem__)
                spec = specs[largest][1]
                what = f"Dense({spec.units})" if isinstance(spec, DenseSpec) else \
                    f"{spec.name}, {counts[largest]:,} parameters"
                where = f" (the largest layer: {what}{' at ' + spec.path if spec.path else ''})"
            raise BackendError(f"the model needs about {_bytes(need)} of memory to train on the native backend "
                               f"but this machine has {_bytes(free)} available{where}; make the layers smaller "
                               f"or the batch size ({self.plan.batch_size}) and evaluation batch size "
                               f"({self.plan.eval_batch_size}) smaller")

    def reset_weights(self, seed: Optional[int] = None) -> None:
        """(Re)initialises every layer with weights, in order from one generator: Dense kernels with their
        initializer, biases with zeros; a plugin's layer with its parameters' initial values."""
        rng = np.random.default_rng(self.plan.seed if seed is None else seed)
        for l in self.weighted_layers:
            if isinstance(l, NumpyLayer):
                l.reset(rng)
                continue
            w = np.empty((l.fan_in, l.units), np.float64)
            l.W[...] = initialize(l.spec.kernel_initializer, w, rng)
            if l.b is not None:
                l.b[...] = 0

    @property
    def num_params(self) -> int:
        return int(self.params.size)

    # ------------------------------------------------------------------ data
    def _prepare_x(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if tuple(x.shape[1:]) != self.input_shape and int(np.prod(x.shape[1:])) != self.n_features:
            raise BackendError(f"inputs have shape {tuple(x.shape[1:])} per example; the model was built for "
                               f"{self.input_shape}")
        return np.ascontiguousarray(x.reshape(len(x), self.n_features), dtype=self.dtype)

    def _prepare_y(self, y: Any, n: int) -> np.ndarray:
        y = np.asarray(y)
        if len(y) != n:
            raise BackendError(f"{len(y)} targets for {n} inputs")
        loss, c = self.plan.loss, self.output_units
        if loss == "sparse_categorical_crossentropy":
            if y.ndim == 2 and y.shape[1] == 1:
                y = y[:, 0]
            if y.ndim != 1 or y.dtype.kind not in "iub" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
                raise BackendError(f"sparse_categorical_crossentropy needs integer class labels of shape (n,), got "
                                   f"{y.dtype} {y.shape}; use categorical_crossentropy for one-hot targets")
            y = np.ascontiguousarray(y, dtype=np.int64)
            if n and (y.min() < 0 or y.max() >= c):
                raise BackendError(f"labels span [{y.min()}, {y.max()}] but the last Dense layer has {c} units: "
                                   f"give it as many units as there are classes")
            return y
        if y.ndim == 1 and y.dtype.kind in "iu" and (loss == "categorical_crossentropy" or c > 1):
            # class indices for one-hot targets (as the Keras backend encodes them): one-hot them
            if n and (y.min() < 0 or y.max() >= c):
                raise BackendError(f"labels span [{y.min()}, {y.max()}] but the last Dense layer has {c} units: "
                                   f"give it as many units as there are classes")
            onehot = np.zeros((n, c), self.dtype)
            onehot[np.arange(n), y] = 1
            return onehot
        if y.ndim == 1 and c == 1:
            y = y.reshape(n, 1)
        if y.shape != (n, c):
            raise BackendError(f"{loss} targets have shape {y.shape[1:]} per example but the model outputs {c}")
        return np.ascontiguousarray(y, dtype=self.dtype)

    def _io(self, n: int) -> tuple:
        v = self._io_views.get(n)
        if v is None:
            v = self._io_views[n] = (self.xbuf[:n], self.ybuf[:n])
        return v

    # ------------------------------------------------------------------ passes
    def _forward(self, x: np.ndarray, n: int, training: bool) -> np.ndarray:
        h = x
        for layer in self.layers:
            layer.inp = h
            h = layer.forward(h, n, training)
        return h

    def _loss(self, out: np.ndarray, y: np.ndarray, grad: Optional[np.ndarray]) -> float:
        if self.plan.loss == "mse":
            return self.K.mse(out, y, grad)
        return self.K.softmax_cross_entropy(out, y, grad)

    def _hits(self, out: np.ndarray, y: np.ndarray) -> float:
        if self.plan.metric is None:
            return 0.0
        if self.plan.loss == "mse" and self.output_units == 1:
            return float(np.equal(out, y).mean(axis=1).sum())    # Keras' Accuracy on a number: exact matches
        return float(self.K.count_correct(out, y))             # the argmax, of the target row too

    def _penalty(self) -> float:
        return sum(l.penalty() for l in self.dense_layers)

    def _forward_backward(self, xb: np.ndarray, yb: np.ndarray, n: int, update: bool) -> tuple:
        """Training-mode forward and backward on a batch already in place; fills ``self.grads`` and,
        with ``update``, applies the optimizer to each Dense layer right after its backward pass."""
        out = self._forward(xb, n, True)
        loss = self._loss(out, yb, self.layers[-1].views(n)[1])
        hits = self._hits(out, yb)
        if self._has_penalty:
            loss += self._penalty()
        layers, need, opt = self.layers, self._prev_grad_needed, self.optimizer
        if update:
            opt.begin_step()
        for pos in range(len(layers) - 1, -1, -1):
            layer = layers[pos]
            if layer.grad is None:
                break
            layer.backward(layer.inp, n, layers[pos - 1].views(n)[1] if need[pos] else None)
            if update and layer.n_params:
                opt.update(*layer.param_range)
        return loss, hits

    def training_loss(self, x: Any, y: Any) -> float:
        """The training loss (regularisers included) of ``x``/``y`` as one batch (at most ``capacity`` rows):
        a training-mode forward pass only, no gradients; what :meth:`gradients` differentiates."""
        xs = self._prepare_x(x)
        ys = self._prepare_y(y, len(xs))
        n = len(xs)
        if not 0 < n <= self.capacity:
            raise BackendError(f"training_loss() takes 1..{self.capacity} rows, got {n}")
        loss = self._loss(self._forward(xs, n, True), ys, None)
        return loss + self._penalty() if self._has_penalty else loss

    def train_step(self, indices: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple:
        """One optimizer step on the rows ``indices`` of the prepared arrays ``x``/``y``; returns
        ``(loss, hits)`` for the batch (loss includes the L2 penalty, computed before the update)."""
        if self._compiled is not None:
            self.optimizer.begin_step()
            return self._compiled.run(x, y, indices, self.optimizer.iterations)
        n = len(indices)
        xb, yb = self._io(n)
        self.K.gather_rows(x, indices, xb)
        self.K.gather_rows(y, indices, yb)
        return self._forward_backward(xb, yb, n, True)

    def gradients(self, x: Any, y: Any) -> tuple:
        """``(loss, flat gradient copy)`` of the training loss on ``x``/``y`` as one batch (at most
        ``capacity`` rows), without updating the weights; for checks and debugging. The flat layout is
        ``[W0, b0, W1, b1, ...]`` like :attr:`params`."""
        xs = self._prepare_x(x)
        ys = self._prepare_y(y, len(xs))
        n = len(xs)
        if not 0 < n <= self.capacity:
            raise BackendError(f"gradients() takes 1..{self.capacity} rows, got {n}")
        if self._compiled is not None:
            loss, _ = self._compiled.run(xs, ys, np.arange(n), 1, False)
            return loss, self.grads.copy()
        xb, yb = self._io(n)
        xb[...] = xs
        yb[...] = ys
        loss, _ = self._forward_backward(xb, yb, n, False)
        return loss, self.grads.copy()

    # ------------------------------------------------------------------ public API
    @property
    def default_threads(self) -> int:
        """The compiled kernels' team size when neither ``plan.threads`` nor the caller says: what a training
        step's work is worth on the usable cores (:func:`~.threads.choose_threads`)."""
        work = step_work(self.plan.batch_size, ((l.fan_in, l.units) for l in self.dense_layers))
        return choose_threads(work, usable_cores())

    @contextlib.contextmanager
    def threads(self, n: Optional[int] = None):
        """Context in which training runs: with the compiled kernels, one OpenMP team of ``n`` threads
        does all the work (``mldsl.kernels.set_num_threads(n)``) and BLAS is limited to one thread (BLAS
        worker threads spin-waiting between calls would steal the team's cores); with the NumPy twins,
        BLAS is limited to ``n`` threads. ``n`` defaults to ``plan.threads``, else (for the compiled
        kernels) to the share of the usable cores the model's work is worth (:attr:`default_threads`: one
        thread for a small model), or leaves BLAS alone (for the twins). Use ``threads=1`` per worker
        when several trainers share the machine."""
        n = self.plan.threads if n is None else n
        if self.kernels != "cython":
            if n is None:
                yield
                return
            from threadpoolctl import threadpool_limits  # noqa: PLC0415
            with threadpool_limits(limits=n, user_api="blas"):
                yield
            return
        from threadpoolctl import threadpool_limits  # noqa: PLC0415
        if n is None:
            n = self.default_threads
        old = self.K.set_num_threads(n)
        try:
            with threadpool_limits(limits=1, user_api="blas"):
                yield
        finally:
            self.K.set_num_threads(old)

    def fit(self, x: Any, y: Any, *, epochs: Optional[int] = None, on_epoch: Optional[EpochCallback] = None,
            verbose: bool = False, test: Optional[tuple] = None) -> List[Dict[str, float]]:
        """Trains on ``x``/``y`` (``validation_split`` of the *last* samples held out, like Keras, whatever
        ``plan.order``; the rest visited in that order, :mod:`mldsl.data.order`, ``by_class`` reading the
        classes from ``y``) and returns the history: one dict per epoch with ``epoch``, ``loss``, the
        metric, ``val_*``, ``test_*`` and ``seconds``. ``test``: ``(x_test, y_test)``, evaluated into the
        history every ``plan.eval_every`` epochs (``test_loss`` and ``test_<metric>``; ``seconds`` leaves
        that evaluation out).

        Raises :class:`BackendError` when the loss becomes NaN/inf. ``on_epoch(epoch, logs)`` returning
        False stops training; so does early stopping (``plan.early_stopping``).
        """
        with self.threads():
            return self._fit(x, y, epochs, on_epoch, verbose, test)

    def _fit(self, x, y, epochs, on_epoch, verbose, test=None):
        plan = self.plan
        xs = self._prepare_x(x)
        ys = self._prepare_y(y, len(xs))
        every = plan.eval_every if test is not None and len(test[0]) else 0
        if every:
            x_test = self._prepare_x(test[0])
            y_test = self._prepare_y(test[1], len(x_test))
        n_all = len(xs)
        split = int(math.floor(n_all * (1.0 - plan.validation_split))) if plan.validation_split else n_all
        x_tr, y_tr, x_val, y_val = xs[:split], ys[:split], xs[split:], ys[split:]
        if split == 0:
            raise BackendError(f"no training samples left (n={n_all}, validation_split={plan.validation_split})")
        if plan.validation_split and len(x_val) == 0:
            raise BackendError(f"validation_split={plan.validation_split} leaves no validation samples of {n_all}")
        orders = epoch_orders(split, plan.order, plan.seed,
                              as_labels(np.asarray(y)[:split]) if plan.order == "by_class" else None)
        order = np.empty(split, dtype=np.int64)
        bs = plan.batch_size
        starts = range(0, split, bs)
        # batch index views into `order`, built once (each epoch's order is copied into it)
        batches = [order[s:s + bs] for s in starts]
        metric = plan.metric
        es = plan.early_stopping
        es_state = _EarlyStoppingState(es) if es else None
        history: List[Dict[str, float]] = []
        for epoch in range(1, (plan.epochs if epochs is None else epochs) + 1):
            t0 = time.perf_counter()
            order[...] = next(orders)
            tot_loss = tot_hits = 0.0
            for step, idx in enumerate(batches):
                loss, hits = self.train_step(idx, x_tr, y_tr)
                if not math.isfinite(loss):
                    raise self._diverged(epoch, step + 1, loss)
                tot_loss += loss * len(idx)
                tot_hits += hits
            logs: Dict[str, float] = {"epoch": epoch, "loss": tot_loss / split}
            if metric:
                logs[metric] = tot_hits / split
            if len(x_val):
                val = self._evaluate_prepared(x_val, y_val)
                logs.update({"val_" + k: v for k, v in val.items()})
            seconds = time.perf_counter() - t0
            if every and epoch % every == 0:
                logs.update({"test_" + k: v for k, v in self._evaluate_prepared(x_test, y_test).items()})
            logs["seconds"] = seconds
            history.append(logs)
            if verbose:
                print(f"epoch {epoch}/{plan.epochs if epochs is None else epochs} - " + " - ".join(
                    f"{k}: {v:.4f}" for k, v in logs.items() if k != "epoch"), file=sys.stderr, flush=True)
            stop = on_epoch(epoch, dict(logs)) is False if on_epoch else False
            if es_state is not None and es_state.update(epoch - 1, logs, self):
                stop = True
            if stop:
                break
        if es_state is not None:
            es_state.finish(self)
            self.stopped_epoch = es_state.stopped_epoch
        return history

    def _diverged(self, epoch: int, step: int, loss: float) -> BackendError:
        return BackendError(
            f"training diverged: the loss became {loss} at epoch {epoch}, step {step}. "
            f"{lower_learning_rate(self.optimizer.learning_rate)}, check the inputs for NaN/inf or unscaled values "
            f"(scale features to [0, 1] or standardise them), or add L2 regularisation.")

    def _evaluate_prepared(self, xs: np.ndarray, ys: np.ndarray) -> Dict[str, float]:
        n_all = len(xs)
        bs = self.plan.eval_batch_size
        tot_loss = tot_hits = 0.0
        for s in range(0, n_all, bs):
            n = min(bs, n_all - s)
            out = self._forward(xs[s:s + n], n, False)
            tot_loss += self._loss(out, ys[s:s + n], None) * n
            tot_hits += self._hits(out, ys[s:s + n])
        res = {"loss": tot_loss / n_all + self._penalty()}
        if self.plan.metric:
            res[self.plan.metric] = tot_hits / n_all
        if not math.isfinite(res["loss"]):
            raise BackendError(f"the evaluation loss is {res['loss']}: the weights or inputs hold NaN/inf values")
        return res

    def evaluate(self, x: Any, y: Any) -> Dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` over ``x``/``y`` (batches of ``plan.eval_batch_size``; dropout off;
        the loss includes the L2 penalty, like Keras)."""
        xs = self._prepare_x(x)
        if len(xs) == 0:
            raise BackendError("cannot evaluate on 0 samples")
        return self._evaluate_prepared(xs, self._prepare_y(y, len(xs)))

    def predict(self, x: Any) -> np.ndarray:
        """The model's outputs for ``x`` (class probabilities when the model ends in softmax)."""
        xs = self._prepare_x(x)
        res = np.empty((len(xs), self.output_units), self.dtype)
        bs = self.plan.eval_batch_size
        for s in range(0, len(xs), bs):
            n = min(bs, len(xs) - s)
            out = self._forward(xs[s:s + n], n, False)
            if self.probs_softmax:
                self.K.softmax_forward(out, res[s:s + n])
            else:
                res[s:s + n] = out
        return res

    def _numpy_layer_params(self) -> Dict[str, tuple]:
        """``{"layers[I].NAME": (layer, NAME)}`` for every parameter of the plugins' NumPy layers."""
        return {f"layers[{l.index}].{name}": (l, name) for l in self.weighted_layers if isinstance(l, NumpyLayer)
                for name in l.P}

    def get_layer_params(self) -> Dict[str, np.ndarray]:
        """Copies of the parameters of the plugins' NumPy layers: ``{"layers[I].NAME": array}``, ``I`` the
        layer's index in the plan (the Dense weights are :meth:`get_weights`')."""
        return {key: np.array(layer.P[name]) for key, (layer, name) in self._numpy_layer_params().items()}

    def set_layer_params(self, params: Dict[str, Any]) -> None:
        """Sets the plugins' layers' parameters from :meth:`get_layer_params`' format (every one, shapes equal)."""
        mine = self._numpy_layer_params()
        if set(params) != set(mine):
            raise BackendError(f"the plugin layers' parameters are {sorted(mine)}, got {sorted(params)}")
        for key, (layer, name) in mine.items():
            value = np.asarray(params[key])
            if value.shape != layer.shapes[name]:
                raise BackendError(f"parameter {key}: shape {value.shape}, expected {layer.shapes[name]}")
            layer.flat[name][...] = value.reshape(-1)

    def get_weights(self) -> List[Dict[str, Optional[np.ndarray]]]:
        """Copies of the Dense weights: ``[{"kernel": (in, out), "bias": (out,) | None}, ...]``."""
        return [{"kernel": l.W.copy(), "bias": None if l.b is None else l.b.copy()} for l in self.dense_layers]

    def set_weights(self, weights: Sequence[dict]) -> None:
        """Sets the Dense weights from :meth:`get_weights`' format (shapes must match)."""
        if len(weights) != len(self.dense_layers):
            raise BackendError(f"{len(weights)} weight entries for {len(self.dense_layers)} Dense layers")
        for i, (l, w) in enumerate(zip(self.dense_layers, weights)):
            k = np.asarray(w["kernel"])
            if k.shape != l.W.shape:
                raise BackendError(f"Dense layer {i}: kernel shape {k.shape}, expected {l.W.shape}")
            l.W[...] = k
            b = w.get("bias")
            if (b is None) != (l.b is None):
                raise BackendError(f"Dense layer {i}: bias {'missing' if b is None else 'unexpected'}")
            if b is not None:
                if np.shape(b) != l.b.shape:
                    raise BackendError(f"Dense layer {i}: bias shape {np.shape(b)}, expected {l.b.shape}")
                l.b[...] = b


class _EarlyStoppingState:
    """Keras 3's EarlyStopping.on_epoch_end/on_train_end logic (no baseline, no start_from_epoch)."""

    def __init__(self, spec):
        self.spec = spec
        self.sign = -1.0 if spec.direction == "min" else 1.0
        self.best = -math.inf           # in "bigger is better" units (sign * value)
        self.wait = 0
        self.stopped_epoch = 0
        self.have_best = False
        self.best_epoch = 0

    def update(self, epoch0: int, logs: dict, trainer: MLPTrainer) -> bool:
        current = logs.get(self.spec.monitor)
        if current is None:
            return False
        restore = trainer._best is not None
        if restore and not self.have_best:
            trainer._best[...] = trainer.params
            self.have_best = True
            self.best_epoch = epoch0
        self.wait += 1
        if self.sign * current - abs(self.spec.min_delta) > self.best:
            self.best = self.sign * current
            self.best_epoch = epoch0
            if restore:
                trainer._best[...] = trainer.params
            self.wait = 0
            return False
        if self.wait >= self.spec.patience and epoch0 > 0:
            self.stopped_epoch = epoch0 + 1
            return True
        return False

    def finish(self, trainer: MLPTrainer) -> None:
        if trainer._best is not None and self.have_best:
            trainer.params[...] = trainer._best


def train(plan: Plan, x_train: Any, y_train: Any, x_test: Any = None, y_test: Any = None, *,
          kernels: Any = "cython", on_epoch: Optional[EpochCallback] = None, verbose: bool = False) -> dict:
    """Builds an :class:`MLPTrainer`, fits it and evaluates on the test split when given.

    Returns ``{"history": [...], "metrics": {...} (empty without test data), "trainer": MLPTrainer}``."""
    x_train = np.asarray(x_train)
    trainer = MLPTrainer(plan, x_train.shape[1:], kernels=kernels)
    history = trainer.fit(x_train, y_train, on_epoch=on_epoch, verbose=verbose)
    metrics = trainer.evaluate(x_test, y_test) if x_test is not None and len(x_test) else {}
    return {"history": history, "metrics": metrics, "trainer": trainer}
