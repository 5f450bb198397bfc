"""Runtime layers of the native trainer: each owns preallocated buffers (capacity = the largest batch)
and calls one kernel per pass. Views of the buffers for a batch size are built once and cached, so a
training step allocates no arrays.

Gradient flow: every layer has ``grad`` (dLoss/d(its output)); its ``backward`` reads it and writes
dLoss/d(its input) into the previous layer's ``grad`` (``prev_grad``), or nothing when no earlier
layer has weights.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from mldsl.errors import BackendError
from mldsl.kernels.catalogue import ACTIVATIONS


class RuntimeLayer:
    """Base: ``out``/``grad`` buffers of shape (capacity, units) and per-batch-size views."""

    n_params = 0

    def __init__(self, units: int, capacity: int, dtype: np.dtype, has_grad: bool):
        self.units = units
        self.out = np.empty((capacity, units), dtype)
        self.grad = np.empty((capacity, units), dtype) if has_grad else None
        self._views: dict = {}

    def views(self, n: int) -> tuple:
        v = self._views.get(n)
        if v is None:
            v = self._views[n] = self._make_views(n)
        return v

    def _make_views(self, n: int) -> tuple:
        return (self.out[:n], None if self.grad is None else self.grad[:n])

    def forward(self, x: np.ndarray, n: int, training: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, x: np.ndarray, n: int, prev_grad: Optional[np.ndarray]) -> None:
        raise NotImplementedError


class DenseLayer(RuntimeLayer):
    """``activation(x @ W + b)``; ``W``/``b``/``dW``/``db`` are views into the trainer's flat buffers."""

    def __init__(self, K: Any, spec: Any, fan_in: int, capacity: int, dtype: np.dtype, has_grad: bool):
        super().__init__(spec.units, capacity, dtype, has_grad)
        self.K = K
        self.spec = spec
        self.fan_in = fan_in
        self.activation = spec.activation
        self.alpha = spec.alpha
        self.l1, self.l2 = float(spec.l1), float(spec.l2)
        self.z = np.empty((capacity, spec.units), dtype) if ACTIVATIONS[spec.activation].needs_x else None
        self.W = self.b = self.dW = self.db = None
        self.n_params = fan_in * spec.units + (spec.units if spec.use_bias else 0)

    def param_slices(self) -> dict:
        """``{"kernel": (lo, hi), "bias": (lo, hi)}``: where each weight lies in the flat buffer (once bound)."""
        lo, hi = self.param_range
        cut = lo + self.fan_in * self.units
        return {"kernel": (lo, cut), **({"bias": (cut, hi)} if self.spec.use_bias else {})}

    def bind(self, params: np.ndarray, grads: np.ndarray, offset: int) -> int:
        """Takes its weights from ``params[offset:]`` (and grads alike); returns the next offset."""
        i, o = self.fan_in, self.units
        self.param_range = (offset, offset + self.n_params)
        self.W = params[offset:offset + i * o].reshape(i, o)
        self.dW = grads[offset:offset + i * o].reshape(i, o)
        offset += i * o
        if self.spec.use_bias:
            self.b, self.db = params[offset:offset + o], grads[offset:offset + o]
            offset += o
        return offset

    def _make_views(self, n):
        return (self.out[:n], None if self.grad is None else self.grad[:n], None if self.z is None else self.z[:n])

    def forward(self, x, n, training):
        out, _, z = self.views(n)
        self.K.dense_forward(x, self.W, self.b, out, self.activation, z, self.alpha)
        return out

    def backward(self, x, n, prev_grad):
        out, g, z = self.views(n)
        self.K.dense_backward(x, self.W, g, self.dW, self.db, prev_grad, self.activation, out, z, self.alpha)
        if self.l2:
            self.K.l2_grad(self.W, self.dW, self.l2)
        if self.l1:
            self.K.l1_grad(self.W, self.dW, self.l1)

    def penalty(self) -> float:
        """The kernel's penalty (``mldsl.kernels.catalogue.PENALTY``)."""
        return ((self.K.l1_penalty(self.W, self.l1) if self.l1 else 0.0)
                + (self.K.l2_penalty(self.W, self.l2) if self.l2 else 0.0))


class DropoutLayer(RuntimeLayer):
    """Inverted dropout with the counter-based kernel RNG; identity (no copy) when not training."""

    def __init__(self, K: Any, rate: float, seed: int, units: int, capacity: int, dtype: np.dtype, has_grad: bool):
        super().__init__(units, capacity, dtype, has_grad)
        self.K = K
        self.rate = float(rate)
        self.seed = int(seed)
        self.offset = 0
        self.mask = np.empty((capacity, units), dtype)

    def _make_views(self, n):
        return (self.out[:n], None if self.grad is None else self.grad[:n], self.mask[:n])

    def forward(self, x, n, training):
        if not training:
            return x
        out, _, mask = self.views(n)
        self.K.dropout_forward(x, out, mask, self.rate, self.seed, self.offset)
        self.offset += n * self.units
        return out

    def backward(self, x, n, prev_grad):
        if prev_grad is not None:
            _, g, mask = self.views(n)
            self.K.dropout_backward(g, mask, prev_grad)


class ActivationLayer(RuntimeLayer):
    """A standalone activation."""

    def __init__(self, K: Any, activation: str, alpha: Optional[float], units: int, capacity: int,
                 dtype: np.dtype, has_grad: bool):
        super().__init__(units, capacity, dtype, has_grad)
        self.K = K
        self.activation = activation
        self.alpha = alpha

    def forward(self, x, n, training):
        out, _ = self.views(n)
        self.K.activation_forward(self.activation, x, out, self.alpha)
        return out

    def backward(self, x, n, prev_grad):
        if prev_grad is not None:
            out, g = self.views(n)
            self.K.activation_backward(self.activation, x, out, g, prev_grad, self.alpha)


def _numpy_layer_error(spec: Any, message: str) -> BackendError:
    return BackendError(f"{spec.name}{spec.where}: {message}")


def initial_value(spec: Any, fan_in: int, name: str, rng: np.random.Generator,
                  shape: Optional[tuple] = None) -> np.ndarray:
    """The initial value of parameter ``name`` of the plugin layer ``spec`` (a ``NumpyLayerSpec``) on
    inputs of ``fan_in`` features: its array, or its ``init(fan_in, rng)``, as float64; a BackendError
    naming the layer when it is no finite array of numbers, or not of ``shape`` (when given)."""
    init = spec.params[name]
    try:
        value = init(fan_in, rng) if callable(init) else init
        value = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise _numpy_layer_error(spec, f"the initial value of parameter {name!r} is not an array of numbers "
                                       f"({exc})") from None
    if shape is not None and shape != value.shape:
        raise _numpy_layer_error(spec, f"the initializer of parameter {name!r} gave shape {value.shape}, then "
                                       f"{shape}: it must depend only on the input width")
    if not np.all(np.isfinite(value)):
        raise _numpy_layer_error(spec, f"the initial value of parameter {name!r} holds NaN or inf")
    return value


def parameter_shapes(spec: Any, fan_in: int) -> dict:
    """``{name: shape}`` of the plugin layer ``spec``'s parameters on inputs of ``fan_in`` features, each
    initial value checked (an initializer function is called with a generator seeded 0)."""
    return {name: initial_value(spec, fan_in, name, np.random.default_rng(0)).shape for name in spec.params}


class NumpyLayer(RuntimeLayer):
    """A plugin's layer (:class:`~.plan.NumpyLayerSpec`): its NumPy ``forward``/``backward`` called once per
    pass, their results checked (shape, finiteness) and copied into the layer's buffers. Its parameters
    are views into the trainer's flat buffers, like a Dense layer's, so the optimizer updates them."""

    def __init__(self, spec: Any, fan_in: int, capacity: int, dtype: np.dtype, has_grad: bool):
        super().__init__(spec.units or fan_in, capacity, dtype, has_grad)
        self.spec = spec
        self.fan_in = fan_in
        self.shapes = parameter_shapes(spec, fan_in)
        self.n_params = sum(int(np.prod(shape)) for shape in self.shapes.values())
        self.P: dict = {}          # name -> read-only view of the parameter (what the plugin's code gets)
        self.G: dict = {}          # name -> its gradient's view
        self.flat: dict = {}       # name -> writable flat view of the parameter
        self.param_range = (0, 0)
        self.cache: Any = None

    def fail(self, message: str) -> BackendError:
        return _numpy_layer_error(self.spec, message)

    def initial_value(self, name: str, rng: np.random.Generator) -> np.ndarray:
        """The initial value of parameter ``name``: the spec's array, or its ``init(in_units, rng)``."""
        return initial_value(self.spec, self.fan_in, name, rng, self.shapes[name])

    def param_slices(self) -> dict:
        """``{name: (lo, hi)}``: where each parameter lies in the flat buffer (once bound)."""
        out, lo = {}, self.param_range[0]
        for name, shape in self.shapes.items():
            size = int(np.prod(shape))
            out[name] = (lo, lo + size)
            lo += size
        return out

    def bind(self, params: np.ndarray, grads: np.ndarray, offset: int) -> int:
        """Takes its parameters from ``params[offset:]`` (and grads alike); returns the next offset."""
        self.param_range = (offset, offset + self.n_params)
        for name, (lo, hi) in self.param_slices().items():
            self.flat[name] = params[lo:hi]
            view = params[lo:hi].reshape(self.shapes[name]).view()
            view.flags.writeable = False          # the plugin reads them; the optimizer writes them
            self.P[name] = view
            self.G[name] = grads[lo:hi].reshape(self.shapes[name])
        return offset + self.n_params

    def reset(self, rng: np.random.Generator) -> None:
        """Sets every parameter to its initial value."""
        for name in self.shapes:
            self.flat[name][...] = self.initial_value(name, rng).reshape(-1)

    def _checked(self, value: Any, shape: tuple, what: str) -> np.ndarray:
        arr = np.asarray(value)
        if arr.shape != shape:
            raise self.fail(f"{what} has shape {arr.shape}, expected {shape}")
        if arr.dtype.kind not in "fiub":
            raise self.fail(f"{what} holds {arr.dtype} values, not numbers")
        if not np.all(np.isfinite(arr)):
            raise self.fail(f"{what} holds NaN or inf values")
        return arr

    def _call(self, fn: Any, what: str, *args: Any) -> Any:
        try:
            result = fn(*args)
        except BackendError:
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported with the layer it happened in
            raise self.fail(f"its {what} raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(result, tuple) or len(result) != 2:
            raise self.fail(f"its {what} must return a pair {'(y, cache)' if what == 'forward' else '(dx, grads)'}, "
                            f"got {type(result).__name__}")
        return result

    def forward(self, x, n, training):
        out, _ = self.views(n)
        y, self.cache = self._call(self.spec.forward, "forward", self.P, x, training)
        out[...] = self._checked(y, (n, self.units), "the output of its forward")
        return out

    def backward(self, x, n, prev_grad):
        _, g = self.views(n)
        dx, grads = self._call(self.spec.backward, "backward", self.P, self.cache, g)
        if not isinstance(grads, dict) or set(grads) != set(self.shapes):
            got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
            raise self.fail(f"its backward must return the gradients of {sorted(self.shapes)} as a dict, got {got}")
        for name, shape in self.shapes.items():
            self.G[name][...] = self._checked(grads[name], shape, f"the gradient of {name!r} from its backward")
        if prev_grad is not None:
            prev_grad[...] = self._checked(dx, (n, self.fan_in), "dx from its backward")
