"""`keras.layers.Layer`: the unit of state (weights) and computation (`call`).

A layer builds its weights on first use from the shape of its input (`build(input_shape)`),
finds its sub-layers and variables by walking its attributes (lists, tuples and dicts
included), propagates the `training` flag from the outermost call to every inner layer whose
`call` takes one, and collects the losses added during the latest outermost call. Called on
symbolic `KerasTensor`s (from `keras.Input`), it records a node of a functional graph instead of
computing (see functional.py).
"""
import contextlib
import functools
import inspect
import warnings

import numpy as np

from tapeflow._core import nest
from tapeflow._core.dtypes import as_dtype
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops import array as array_ops, elementwise as elementwise_ops
from tapeflow._core.tensor import Tensor
from tapeflow._core.variable import Variable
from tapeflow.function.autograph import converted_method
from tapeflow.keras.engine import config, masking, naming
from tapeflow.keras.engine.keras_tensor import KerasTensor


class KerasVariable(Variable):
    """A `tf.Variable` created by `Layer.add_weight`: its `name` is the short name (`kernel`)
    and `path` the full one (`dense/kernel`), as in Keras 3."""

    _name_scoped = False  # tf.name_scope does not prefix Keras 3 variable names
    _format_class_name = "Variable"

    def _after_write(self):  # Keras 3's assign* return the new value, not a variable
        return self.value()

    def __init__(self, initial_value, trainable=True, name=None, dtype=None, path=None,
                 regularizer=None, constraint=None):
        super().__init__(initial_value, trainable=trainable, name=name, dtype=dtype,
                         constraint=constraint)
        self.path = path or self._name
        self.regularizer = regularizer

    @property
    def name(self):
        return self._name

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)

    def __repr__(self):
        value = np.array2string(self.numpy()) if self.ndim else str(self.numpy())
        return (f"<Variable path={self.path}, shape={tuple(self._shape.as_list())}, "
                f"dtype={self._dtype.name}, value={value}>")

    __str__ = __repr__


class _CallContext:
    """What the outermost `Layer.__call__` decides for the calls nested inside it."""

    def __init__(self):
        self.depth = 0
        self.training = None
        self.loss_layers = []  # layers that added losses during the current outermost call
        self.build_scope = []  # names of the layers being built (for variable paths)


_ctx = _CallContext()


@contextlib.contextmanager
def variable_scope(layer):
    """Variables made inside (by `layer` or the sub-layers it builds) get paths under the
    layer's name, as inside Keras's name scope of the layer (`model/dense/kernel`)."""
    scope = _ctx.build_scope
    pushed = not (scope and scope[-1] == layer.name)
    if pushed:
        scope.append(layer.name)
    try:
        yield
    finally:
        if pushed:
            scope.pop()


def _scoped_build(build):
    """`build` run in the layer's variable scope, however it is called (Keras wraps every
    layer's build so: a layer building a sub-layer in its build names its variables)."""
    @functools.wraps(build)
    def scoped(self, *args, **kwargs):
        with variable_scope(self):
            return build(self, *args, **kwargs)
    scoped._scoped = True
    return scoped


class _CallSpec:
    """What a layer class's `call` accepts (inspected once per class)."""

    def __init__(self, call):
        params = inspect.signature(call).parameters
        self.training = "training" in params
        self.mask = "mask" in params
        self.var_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
        t = params.get("training")
        self.training_default = None if t is None or t.default is inspect.Parameter.empty \
            else t.default


# Attributes of the framework itself: not searched for sub-layers and variables.
_UNTRACKED = frozenset({
    "_own_weights", "_inbound_nodes", "_outbound_nodes", "_losses", "_regularized",
    "_functional", "_nodes", "_operations", "_inputs", "_outputs", "_input_keras_tensors",
    "_output_keras_tensors", "_build_shapes_dict", "optimizer", "_compiled", "history",
    "stop_training", "_train_step_fn", "_test_step_fn", "_predict_step_fn", "_metrics_cache",
    "_loss_tracker", "_compile_loss", "_compile_metrics", "_layers_list", "loss",
    "_input_shape_arg", "compiled_loss", "compiled_metrics", "_callbacks", "_keras_history",
    "_trainable_cache", "_flat_layers_cache", "_inputs_struct", "_outputs_struct", "_called",
})


def _is_symbolic_structure(x):
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(_is_symbolic_structure(v) for v in x)
    if isinstance(x, dict):
        return any(_is_symbolic_structure(v) for v in x.values())
    return False


def _shape_of(x):
    if isinstance(x, (list, tuple)):
        return [_shape_of(v) for v in x]
    if isinstance(x, dict):
        return {k: _shape_of(v) for k, v in x.items()}
    if hasattr(x, "shape"):
        return tuple(x.shape)
    return None


class Layer:
    """The base class of all layers.

    Args:
        trainable: whether the layer's weights are updated by training.
        name: the layer's name (unique default: the snake-cased class name).
        dtype: the dtype of the layer's weights and computations (default float32).

    Example:
    >>> class Linear(keras.layers.Layer):
    ...     def __init__(self, units):
    ...         super().__init__()
    ...         self.units = units
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1], self.units))
    ...     def call(self, x):
    ...         return tf.matmul(x, self.w)
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_scoped", False):
            cls.build = _scoped_build(build)

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        d = self.__dict__
        d["_own_weights"] = []
        d["_losses"] = []
        d["_regularized"] = []
        d["_inbound_nodes"] = []
        d["_outbound_nodes"] = []
        d["built"] = False
        d["_trainable"] = True
        d["_build_shapes_dict"] = None
        spec = cls.__dict__.get("_call_spec_cache")
        if spec is None:
            spec = _CallSpec(cls.call)
            type.__setattr__(cls, "_call_spec_cache", spec)
        return self

    def __init__(self, trainable=True, name=None, dtype=None, autocast=True,
                 input_shape=None, input_dim=None, batch_input_shape=None, batch_size=None,
                 activity_regularizer=None, **kwargs):
        if kwargs:
            bad = next(iter(kwargs))
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                             f"{{{bad!r}: {kwargs[bad]!r}}}")
        self.name = name if name is not None else naming.auto_name(self)
        self._trainable = bool(trainable)
        if isinstance(dtype, dict):
            dtype = dtype.get("config", {}).get("name", "float32")
        self._dtype = as_dtype(dtype or config.floatx())
        self.autocast = autocast
        if activity_regularizer is not None:
            from tapeflow.keras import regularizers
            activity_regularizer = regularizers.get(activity_regularizer)
        self.activity_regularizer = activity_regularizer
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if input_shape is not None:
            warnings.warn("Do not pass an `input_shape`/`input_dim` argument to a layer. When "
                          "using Sequential models, prefer using an `Input(shape)` object as "
                          "the first layer in the model instead.", stacklevel=3)
        if batch_input_shape is not None:
            self._input_shape_arg = tuple(batch_input_shape)
        elif input_shape is not None:
            self._input_shape_arg = (batch_size,) + tuple(input_shape)
        else:
            self._input_shape_arg = None
        self.supports_masking = False

    # -- dtype ---------------------------------------------------------------------------------
    @property
    def dtype(self):
        return self._dtype.name

    @property
    def compute_dtype(self):
        return self._dtype.name

    @property
    def variable_dtype(self):
        return self._dtype.name

    # -- calling ---------------------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not have a `call()` method "
                                  "implemented.")

    def __call__(self, *args, **kwargs):
        if args:
            inputs, rest = args[0], args[1:]
        else:
            inputs, rest = kwargs.pop("inputs", None), ()
        mask = masking.previous_mask(inputs) if masking._MASKS else None
        if type(inputs) is not Tensor or (rest and _is_symbolic_structure(rest)) or (
                kwargs and _is_symbolic_structure(kwargs)):
            if _is_symbolic_structure(inputs) or _is_symbolic_structure(rest) or \
                    _is_symbolic_structure(kwargs):
                from tapeflow.keras.engine.functional import symbolic_call
                return symbolic_call(self, inputs, rest, kwargs)
            inputs = self._convert_inputs(inputs)
        elif inputs._dtype is not self._dtype and self.autocast and \
                inputs._dtype.is_floating and self._dtype.is_floating:
            inputs = elementwise_ops.cast(inputs, self._dtype)
        if not self.built:
            self._build_on_call(inputs)
        spec = type(self)._call_spec_cache
        ctx = _ctx
        if spec.training:
            training = kwargs.get("training")
            if training is None:
                training = ctx.training if ctx.training is not None else spec.training_default
                kwargs["training"] = training
        else:
            training = kwargs.pop("training", None) if "training" in kwargs else None
        if ctx.depth == 0:
            for layer in ctx.loss_layers:
                layer._losses.clear()
            ctx.loss_layers.clear()
            ctx.training = training
        if mask is not None and spec.mask and kwargs.get("mask") is None:
            kwargs["mask"] = mask
        # The first call builds the sub-layers it calls: their variables' paths start with
        # this layer's name, as Keras's name scopes make them (`model/dense/kernel`)
        first = "_called" not in self.__dict__
        scope = ctx.build_scope
        pushed = first and not (scope and scope[-1] == self.name)
        if pushed:
            scope.append(self.name)
        ctx.depth += 1
        try:
            # a user `call` is converted by AutoGraph when the caller is (in a tf.function)
            outputs = converted_method(self.call)(inputs, *rest, **kwargs)
        finally:
            ctx.depth -= 1
            if ctx.depth == 0:
                ctx.training = None
            if pushed:
                scope.pop()
            if first:
                self.__dict__["_called"] = True
        if self.activity_regularizer is not None:
            for o in nest.flatten(outputs):
                batch = elementwise_ops.cast(array_ops.shape(o)[0], o.dtype)
                self.add_loss(self.activity_regularizer(o) / batch)
        if self.supports_masking and (mask is not None or
                                      type(self).compute_mask is not Layer.compute_mask):
            masking.set_output_masks(self, inputs, outputs, mask)
        return outputs

    def compute_mask(self, inputs, previous_mask):
        return previous_mask

    def _convert_inputs(self, inputs):
        if isinstance(inputs, (list, tuple)) and not (inputs and isinstance(
                inputs[0], (int, float))):
            return type(inputs)(self._convert_inputs(v) for v in inputs)
        if isinstance(inputs, dict):
            return {k: self._convert_inputs(v) for k, v in inputs.items()}
        if isinstance(inputs, (np.ndarray, np.generic, list, float, int)):
            a = np.asarray(inputs)
            if a.dtype.kind == "f" and self.autocast and self._dtype.is_floating:
                return convert_to_tensor(a, dtype=self._dtype)
            return convert_to_tensor(a)
        if isinstance(inputs, Tensor) and self.autocast and inputs.dtype.is_floating and \
                self._dtype.is_floating and inputs.dtype is not self._dtype:
            return elementwise_ops.cast(inputs, self._dtype)
        return inputs

    def _build_on_call(self, inputs):
        shape = _shape_of(inputs)
        with variable_scope(self):
            self._build_shapes_dict = {"input_shape": shape}
            if type(self).build is not Layer.build or not self.built:
                self.build(shape)
        self.built = True

    # -- weights ---------------------------------------------------------------------------------
    def add_weight(self, *args, **kwargs):
        """Creates a variable of this layer (initialised by `initializer`, default
        glorot_uniform for floats, zeros otherwise) and tracks it.

        Args (Keras 3's order): shape, initializer, dtype, trainable, autocast, regularizer,
        constraint, aggregation, overwrite_with_gradient, name. Keras 2's
        `add_weight("kernel", shape=...)` (the name first) works too.
        """
        if args and isinstance(args[0], str):
            kwargs["name"] = args[0]
            args = args[1:]
        return self._add_weight(*args, **kwargs)

    def _add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                    autocast=True, regularizer=None, constraint=None, aggregation="none",
                    overwrite_with_gradient=False, name=None, **kwargs):
        from tapeflow.keras import initializers
        shape = () if shape is None else tuple(shape)
        dtype = as_dtype(dtype or self._dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating else "zeros"
        init = initializers.get(initializer)
        value = init(shape, dtype=dtype) if callable(init) else init
        if name is None:
            n = len(self._own_weights)
            name = "variable" if n == 0 else f"variable_{n}"
        path = "/".join(_ctx.build_scope + [name]) if _ctx.build_scope and \
            _ctx.build_scope[-1] == self.name else f"{self.name}/{name}"
        if regularizer is not None:
            from tapeflow.keras import regularizers
            regularizer = regularizers.get(regularizer)
        if constraint is not None:
            from tapeflow.keras import constraints
            constraint = constraints.get(constraint)
        v = KerasVariable(value, trainable=trainable, name=name, dtype=dtype, path=path,
                          regularizer=regularizer, constraint=constraint)
        v._created_trainable = bool(trainable)
        self._own_weights.append(v)
        if regularizer is not None:
            self._regularized.append(v)
        return v

    def _tracked(self):
        """(sub-layers, extra variables) found in this layer's attributes, in order."""
        layers, variables, seen = [], [], set()

        def visit(value, depth):
            if isinstance(value, Layer):
                if id(value) not in seen:
                    seen.add(id(value))
                    layers.append(value)
            elif isinstance(value, Variable):
                if id(value) not in seen:
                    seen.add(id(value))
                    variables.append(value)
            elif depth < 4 and isinstance(value, (list, tuple)):
                for v in value:
                    visit(v, depth + 1)
            elif depth < 4 and isinstance(value, dict):
                for v in value.values():
                    visit(v, depth + 1)

        for key, value in self.__dict__.items():
            if key not in _UNTRACKED:
                visit(value, 0)
        own = {id(v) for v in self._own_weights}
        return layers, [v for v in variables if id(v) not in own]

    @property
    def _layers(self):
        return self._tracked()[0]

    def _flatten_layers(self, include_self=True, recursive=True):
        out, seen = [], set()

        def visit(layer):
            for sub in layer._layers:
                if id(sub) not in seen:
                    seen.add(id(sub))
                    out.append(sub)
                    if recursive:
                        visit(sub)

        if include_self:
            out.append(self)
            seen.add(id(self))
        visit(self)
        return out

    @property
    def weights(self):
        own = [v for v in self._own_weights if v.trainable] + \
            [v for v in self._own_weights if not v.trainable]
        layers, extra = self._tracked()
        out, seen = [], set()
        for v in own + extra:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        for layer in layers:
            for v in layer.weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    variables = weights

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        return [v for v in self.weights if v.trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        if not self._trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    non_trainable_variables = non_trainable_weights

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._trainable = value
        for v in self._own_weights:
            if isinstance(v, KerasVariable) and getattr(v, "_created_trainable", True):
                v.trainable = value
        for layer in self._layers:
            layer.trainable = value

    def get_weights(self):
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(f"You called `set_weights(weights)` on layer '{self.name}' with a "
                             f"weight list of length {len(weights)}, but the layer was "
                             f"expecting {len(params)} weights.")
        for v, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(v.shape) != w.shape:
                raise ValueError(f"Layer {self.name} weight shape {tuple(v.shape)} is not "
                                 f"compatible with provided weight shape {w.shape}.")
            v.assign(w.astype(v.dtype.as_numpy_dtype))

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but "
                             "the layer isn't built. You can build it manually via: "
                             f"`{self.name}.build(input_shape)`.")
        return int(sum(int(np.prod(v.shape)) for v in self.weights))

    # -- losses ----------------------------------------------------------------------------------
    def add_loss(self, loss):
        """Adds a (scalar) loss that training adds to the compiled loss."""
        if not self._losses:
            _ctx.loss_layers.append(self)
        self._losses.append(loss)

    @property
    def losses(self):
        out = []
        # During fit the model caches its flattened layers (the structure is fixed by then).
        layers = self.__dict__.get("_flat_layers_cache") or self._flatten_layers()
        for layer in layers:
            out.extend(layer._losses)
            for v in layer._regularized:
                out.append(v.regularizer(v))
        return out

    # -- config ----------------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy",
                            "config": {"name": self.dtype}, "registered_name": None}}
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # -- functional graph ------------------------------------------------------------------------
    def _single_node(self, attr):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} has never been called and thus has no "
                                 f"defined {attr}.")
        if len(self._inbound_nodes) > 1:
            raise AttributeError(f"Layer {self.name} has multiple inbound nodes, hence the "
                                 f"notion of \"layer {attr}\" is ill-defined. Use "
                                 f"`get_{attr}_at(node_index)` instead.")
        return self._inbound_nodes[0]

    @property
    def input(self):
        return self._single_node("input").input_value

    @property
    def output(self):
        return self._single_node("output").output_value

    def compute_output_shape(self, input_shape):
        from tapeflow.keras.engine.keras_tensor import KerasTensor
        out = self(KerasTensor(input_shape, self.dtype))
        return nest.map_structure(lambda t: t.shape, out)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
