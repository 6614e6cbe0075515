"""`tf.Variable`: mutable state that ops read as tensors and optimizers update.

A variable owns a torch tensor. Reading it (`value()`, or using it in an op) gives an immutable
`Tensor` snapshot; `assign*` validate first and only then swap in the new value, so a failed
assign leaves the variable unchanged. Active recorders see every read and write (a tape watches
trainable variables it sees read; a tf.function trace binds them into its graph): each read,
write and creation is a call to the current interpreter (dispatch.py).
"""
import enum
import itertools

import numpy as np
import torch

# (dispatch defines the interpreters every read and write goes to)
from tapeflow._core import dispatch, distribute_context, dtypes, printing  # noqa: F401
from tapeflow._core.context import current_device, state
from tapeflow._core.errors import invalid_argument
from tapeflow._core.shape import TensorShape, as_shape
from tapeflow._core.tensor import (Reference, Tensor, constant, convert_to_tensor, device_name,
                                   register_tensor_conversion_function, wrap)

_uid = itertools.count()


class VariableAggregation(enum.Enum):
    NONE, SUM, MEAN, ONLY_FIRST_REPLICA = 0, 1, 2, 3


class VariableSynchronization(enum.Enum):
    AUTO, NONE, ON_WRITE, ON_READ = 0, 1, 2, 3


class Variable:
    """A tensor-valued, mutable state.

    Args:
        initial_value: a tensor-like value, or a callable returning one.
        trainable: whether `GradientTape` watches it automatically.
        name: the name (TF shows it as `name:0`).
        dtype: convert the initial value to this dtype.
        shape: the variable's static shape (`None` dims allow assigning other shapes).

    Example:
    >>> v = tf.Variable([[1.0], [2.0]])
    >>> v.assign_add([[1.0], [1.0]])
    """

    _as_tensor_for_ops = True  # marks variables as tensor-like for the ops layer
    _name_scoped = True  # names take the tf.name_scope prefix (Keras variables do not)

    def __init__(self, initial_value=None, trainable=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None,
                 import_scope=None, constraint=None, synchronization=None, aggregation=None,
                 shape=None, experimental_enable_variable_lifting=True):
        if initial_value is None:
            raise ValueError("The `initial_value` arg (tf.Variable(initial_value=...)) must be "
                             "specified.")
        if callable(initial_value):
            initial_value = initial_value()
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
        initial_value = state.interpreter.init_variable(self, initial_value)
        if isinstance(initial_value, Tensor) or isinstance(initial_value, Variable):
            value = convert_to_tensor(initial_value)
            if dtype is not None and value._dtype is not dtype:
                value = constant(value.numpy(), dtype=dtype)
        else:
            value = convert_to_tensor(initial_value, dtype=dtype)
        self._dtype = value._dtype
        t = value._t
        if not self._dtype is dtypes.string:
            device = current_device()
            t = t.to(device) if t.device != device else t
        self._t = t
        self._shape = TensorShape._from_sizes(t.shape) if shape is None else as_shape(shape)
        if not self._shape.is_compatible_with(t.shape):
            raise ValueError(f"The initial value's shape ({TensorShape(t.shape)}) is not "
                             f"compatible with the explicitly supplied `shape` argument "
                             f"({self._shape}).")
        self._trainable = True if trainable is None else bool(trainable)
        if synchronization == VariableSynchronization.ON_READ and trainable is None:
            self._trainable = False
        self._name = (name or "Variable") if not (name or "").endswith(":0") else name[:-2]
        if state.name_scope and self._name_scoped:
            self._name = state.name_scope + self._name
        self._constraint = constraint
        self._aggregation = aggregation
        self._synchronization = synchronization
        self._uid = next(_uid)
        distribute_context.variable_created(self)  # under a strategy scope: mirrored

    # -- reading -------------------------------------------------------------------------------
    def value(self):
        """The current value as a `Tensor` (what ops see when given the variable)."""
        return state.interpreter.read_variable(self)

    def read_value(self):
        return self.value()

    def numpy(self):
        return Tensor(self._t.clone() if self._dtype is not dtypes.string else self._t.copy(),
                      self._dtype).numpy()

    def __array__(self, dtype=None, copy=None):  # (a string variable gives bytes, as TF's)
        a = np.asarray(Tensor(self._t, self._dtype).numpy())
        return a if dtype is None else a.astype(dtype)

    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    @property
    def ndim(self):
        return self._t.ndim

    @property
    def name(self):
        return self._name + ":0"

    @property
    def trainable(self):
        return self._trainable

    @property
    def device(self):
        return device_name(self._t.device if self._dtype is not dtypes.string
                           else torch.device("cpu"))

    @property
    def constraint(self):
        return self._constraint

    @property
    def aggregation(self):
        return VariableAggregation.NONE if self._aggregation is None else self._aggregation

    @property
    def synchronization(self):
        return (VariableSynchronization.AUTO if self._synchronization is None
                else self._synchronization)

    def is_initialized(self, name=None):
        """Always true: an eager variable holds its value from construction."""
        return convert_to_tensor(True)

    @property
    def initial_value(self):
        return self.value()

    def ref(self):
        return Reference(self)

    experimental_ref = ref

    def __hash__(self):
        raise TypeError(f"Variable is unhashable. Instead, use variable.ref() as the key. "
                        f"(Variable: {self!r})")

    _format_class_name = "ResourceVariable"  # as TF's format error names the class

    def __repr__(self):
        return printing.variable_repr(self, Tensor(self._t, self._dtype))

    __str__ = __repr__

    def __bool__(self):
        return bool(self.value())

    def __float__(self):
        return float(self.value())

    def __int__(self):
        return int(self.value())

    def __index__(self):
        return self.value().__index__()

    def __len__(self):
        return len(self.value())

    def __iter__(self):
        return iter(self.value())

    def __format__(self, spec):
        return printing.variable_format(self, spec)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        v = Variable(Tensor(self._t.clone(), self._dtype), trainable=self._trainable,
                     name=self._name, shape=self._shape)
        memo[id(self)] = v
        return v

    # -- writing -------------------------------------------------------------------------------
    def _checked(self, value, op_name):
        """`value` as a tensor this variable can hold; raises (leaving the variable untouched)
        when its dtype or shape does not fit."""
        t = convert_to_tensor(value, dtype=self._dtype)
        if not self._shape.is_compatible_with(t._t.shape):
            if op_name == "AssignVariableOp":
                raise ValueError(
                    f"Cannot assign value to variable ' {self.name}': Shape mismatch.The "
                    f"variable shape {self._shape}, and the assigned value shape "
                    f"{TensorShape(t._t.shape)} are incompatible.")
            raise invalid_argument(
                f"Cannot update variable with shape {list(self._t.shape)} using a Tensor with "
                f"shape {list(t._t.shape)}, shapes must be equal.", op_name)
        return t

    def _write(self, new, kind):
        state.interpreter.write_variable(self, new, kind)

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Sets the variable to `value` (same dtype and a compatible shape)."""
        self._write(self._checked(value, "AssignVariableOp"), "assign")
        return self._after_write() if read_value else None

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        delta = self._checked(delta, "AssignAddVariableOp")
        self._write(_apply(torch.add, self, delta), "assign_add")
        return self._after_write() if read_value else None

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        delta = self._checked(delta, "AssignSubVariableOp")
        self._write(_apply(torch.sub, self, delta), "assign_sub")
        return self._after_write() if read_value else None

    def _after_write(self):
        """What an assign returns: TF's `_UnreadVariable`, the same variable shown under the
        name 'UnreadVariable'."""
        return UnreadVariable(self)

    # `v[key]` and `v[key].assign(...)` are attached by tapeflow/ops/indexing.py: a slice is the
    # StridedSlice op, and a sliced assignment the TensorStridedSliceUpdate op plus `assign`.

    def _as_tensor(self, dtype=None):
        v = self.value()
        if dtype is not None and dtype is not self._dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Variable "
                             f"with dtype {self._dtype.name}: {self!r}")
        return v


class UnreadVariable(Variable):
    """What `assign`, `assign_add`, `assign_sub` and the scatter methods return, as TF's
    eager `_UnreadVariable`: a view of the assigned variable (reads show its current value,
    writes go to it, tapes and traces see the variable itself) that shows itself as
    `<tf.Variable 'UnreadVariable' ...>`."""

    _format_class_name = "_UnreadVariable"

    def __init__(self, variable):  # noqa: D107 - a view: Variable.__init__ makes new state
        self.__dict__["_variable"] = variable

    def __getattr__(self, attr):  # the viewed variable's state: _dtype, _shape, _trainable...
        return getattr(self.__dict__["_variable"], attr)

    @property
    def _t(self):
        return self._variable._t

    @property
    def name(self):
        return "UnreadVariable"

    def value(self):
        return self._variable.value()

    def _write(self, new, kind):
        self._variable._write(new, kind)


def _apply(fn, var, delta):
    if not state.interpreter.eager:  # traced: go through the ops so the graph records it
        return var.value() + delta if fn is torch.add else var.value() - delta
    return wrap(fn(var._t, delta._t), var._dtype)


register_tensor_conversion_function(Variable, lambda v, dtype=None: v._as_tensor(dtype))
