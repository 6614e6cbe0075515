"""`Tensor`: an immutable value that wraps a torch tensor (or, for `tf.string`, a NumPy object
array), plus conversion from Python and NumPy values with TensorFlow's dtype rules.

Operators (`+`, `@`, `[]`, ...) are attached by `tapeflow.ops` when it is imported, as
TensorFlow's math_ops does, so this module stays below the ops layer.
"""
import numbers

import numpy as np
import torch

from tapeflow._core import dtypes, printing
from tapeflow._core.context import current_device, state
from tapeflow._core.errors import OperatorNotAllowedInGraphError
from tapeflow._core.shape import TensorShape, static_sizes

_FROM_TORCH = dtypes.FROM_TORCH
_INT32_MIN, _INT32_MAX = -2**31, 2**31 - 1


def device_name(device):
    """TensorFlow's full name for a torch device, e.g. `/job:localhost/.../device:GPU:0`."""
    kind = "GPU" if device.type == "cuda" else device.type.upper()
    return f"/job:localhost/replica:0/task:0/device:{kind}:{device.index or 0}"


class Tensor:
    """A multidimensional array of elements of one `tf.DType`, like TF's `EagerTensor`.

    Args (of `tf.constant`, the usual way to make one): a value, an optional `dtype` and
    `shape`.

    Example:
    >>> x = tf.constant([[1.0], [1.0]])
    >>> print(x)
    tf.Tensor(
    [[1.]
     [1.]], shape=(2, 1), dtype=float32)
    """

    __slots__ = ("_t", "_dtype", "__weakref__")
    __array_priority__ = 100  # NumPy defers `ndarray + Tensor` to us

    def __init__(self, value, dtype):
        self._t = value
        self._dtype = dtype

    # -- properties ------------------------------------------------------------------------
    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self):
        t = self._t
        if self._dtype is not dtypes.string and t.is_meta:
            # a traced tensor: its symbolic sizes (a `None` dimension of the signature, and
            # what was computed from one) show as None, as in TF
            return TensorShape._from_sizes(static_sizes(t.shape))
        return TensorShape._from_sizes(t.shape)

    def get_shape(self):
        return self.shape

    @property
    def ndim(self):
        return self._t.ndim

    @property
    def device(self):
        if self._dtype is dtypes.string:
            return device_name(torch.device("cpu"))
        return device_name(self._t.device)

    @property
    def name(self):
        if self._is_symbolic() and not state.interpreter.eager:
            return printing.symbolic_name(self)
        raise AttributeError("Tensor.name is undefined when eager execution is enabled.")

    def _is_symbolic(self):
        return self._dtype is not dtypes.string and self._t.is_meta

    # -- NumPy interop -----------------------------------------------------------------------
    def numpy(self):
        """The value as a NumPy array (a scalar tensor gives a NumPy scalar)."""
        if self._dtype is dtypes.string:
            a = self._t
        else:
            if self._t.is_meta:
                raise NotImplementedError(
                    "Cannot convert a symbolic tf.Tensor to a numpy array: the value is only "
                    "known when the tf.function runs. Return the tensor from the function "
                    "instead.")
            t = self._t.detach()
            if t.device.type != "cpu":
                t = t.cpu()
            if self._dtype is dtypes.bfloat16:
                a = t.float().numpy().astype(dtypes.bfloat16.as_numpy_dtype)
            else:
                a = t.numpy()
        return a[()] if a.ndim == 0 else a

    def _numpy_array(self):
        return printing.value_array(self)

    def __array__(self, dtype=None, copy=None):
        a = self._numpy_array()
        return a if dtype is None else a.astype(dtype)

    # How a tensor shows itself (str, repr, format, names in a trace): _core/printing.py.
    def __str__(self):
        return printing.tensor_str(self)

    def __repr__(self):
        return printing.tensor_repr(self)

    def __format__(self, spec):
        return printing.tensor_format(self, spec)

    # -- Python protocols ---------------------------------------------------------------------
    def __bool__(self):
        a = self._python_value("bool")
        return bool(a) if np.ndim(a) == 0 or a.size > 1 else bool(a.size and a.reshape(-1)[0])

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("Scalar tensor has no `len()`")
        if self._is_symbolic() and self.shape[0] is None:
            raise TypeError(f"len is not well defined for a symbolic Tensor "
                            f"({printing.symbolic_name(self)}). Please call `x.shape` rather "
                            "than `len(x)` for shape information.")
        return self._t.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        if self._is_symbolic() and self.shape[0] is None:
            raise OperatorNotAllowedInGraphError(
                "Iterating over a symbolic `tf.Tensor` is not allowed: its first dimension is "
                "only known when the tf.function runs. Use tf.map_fn or tf.while_loop, or "
                "tf.config.run_functions_eagerly(True) to debug.")
        return (self[i] for i in range(self._t.shape[0]))

    # Python scalar conversions follow NumPy's rules on the value, as TF's do.
    def __float__(self):
        return float(self._python_value("float")[()])

    def __int__(self):
        return int(self._python_value("int")[()])

    def __index__(self):
        return self._python_value("int")[()].__index__()

    def __complex__(self):
        return complex(self.numpy())

    def _python_value(self, what):
        """The value as a NumPy array, for a Python `what`: the interpreter decides whether
        a symbolic tensor has one (see dispatch.py)."""
        return state.interpreter.python_value(self, what)

    def __hash__(self):
        raise TypeError("Tensor is unhashable. Instead, use tensor.ref() as the key.")

    def __setitem__(self, key, value):
        raise TypeError(f"'{type(self).__name__}' object does not support item assignment")

    def ref(self):
        """A hashable reference to this tensor, for use as a dict key or set member."""
        return Reference(self)

    def experimental_ref(self):
        return self.ref()

    def __reduce__(self):
        return constant, (self.numpy(), self._dtype)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


class Reference:
    """What `Tensor.ref()` and `Variable.ref()` return: hashes and compares by identity."""

    __slots__ = ("_wrapped",)

    def __init__(self, wrapped):
        self._wrapped = wrapped

    def deref(self):
        return self._wrapped

    def __hash__(self):
        return id(self._wrapped)

    def __eq__(self, other):
        return isinstance(other, Reference) and self._wrapped is other._wrapped

    def __repr__(self):
        return f"<Reference wrapping {self._wrapped!r}>"


def wrap(t, dtype=None):
    """A Tensor around a torch tensor produced by a kernel (dtype read from torch if not given)."""
    out = Tensor.__new__(Tensor)
    out._t = t
    out._dtype = _FROM_TORCH[t.dtype] if dtype is None else dtype
    return out


def wrap_strings(array):
    out = Tensor.__new__(Tensor)
    out._t = np.asarray(array, dtype=object)
    out._dtype = dtypes.string
    return out


# -- conversion -------------------------------------------------------------------------------

_conversion_functions = []  # (type, fn): e.g. Variable registers itself


def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    """Lets objects of `base_type` be used wherever a tensor is expected."""
    _conversion_functions.append((base_type, conversion_func))


def _python_to_numpy(value, dtype):
    """NumPy array for a Python value, with TF's defaults: float -> float32, int -> int32."""
    if isinstance(value, np.ndarray):
        a = value
    elif isinstance(value, np.generic):
        a = np.asarray(value)
    else:
        try:
            a = np.array(value)
        except ValueError:
            raise ValueError("Can't convert non-rectangular Python sequence to Tensor.") from None
        if a.dtype == object:
            if _all_strings(value):
                a = np.array(value, dtype=object)
            elif not _symbolic_sizes(a):  # (those: the interpreter makes the tensor)
                raise ValueError("Can't convert non-rectangular Python sequence to Tensor.")
        elif a.dtype.kind in "SU":
            if not _all_strings(value):  # NumPy made strings of the numbers too; TF refuses
                raise ValueError("Can't convert Python sequence with mixed types to Tensor.")
            # from the Python strings themselves: NumPy's fixed-width bytes drop trailing NULs
            a = np.vectorize(_to_bytes, otypes=[object])(np.array(value, dtype=object)) \
                if a.size else a.astype(object)
        elif dtype is None:
            if a.dtype == np.float64 and not _has_numpy_float64(value):
                a = a.astype(np.float32)
            elif a.dtype == np.int64 and (a.size == 0 or (
                    a.min() >= _INT32_MIN and a.max() <= _INT32_MAX)):
                a = a.astype(np.int32)
    if a.dtype.kind in "SU":
        a = np.vectorize(_to_bytes, otypes=[object])(a)
    return a


def _symbolic_sizes(a):
    """Whether an object array holds sizes of a trace (torch SymInts and SymFloats)."""
    return any(type(v).__name__ in ("SymInt", "SymFloat", "SymBool") for v in a.flat)


def _has_numpy_float64(value):
    return isinstance(value, np.float64) or (
        isinstance(value, (list, tuple)) and value and _has_numpy_float64(value[0]))


def _all_strings(value):
    if isinstance(value, (str, bytes)):
        return True
    if isinstance(value, (list, tuple, np.ndarray)):
        return all(_all_strings(v) for v in value)
    return False


def _to_bytes(v):
    return v.encode("utf-8") if isinstance(v, str) else bytes(v)


def _check_python_value_fits(value, dtype, whole=None):
    """TF refuses to convert a Python float to an integer dtype (and a str to a number); the
    message quotes the whole value given, as TF's does."""
    if isinstance(value, (list, tuple)):
        for v in value:
            _check_python_value_fits(v, dtype, value if whole is None else whole)
        return
    bad = False
    if isinstance(value, (str, bytes)):
        bad = dtype is not dtypes.string
    elif isinstance(value, (bool, np.bool_)):
        bad = not (dtype.is_bool or dtype.is_integer or dtype.is_floating)
    elif isinstance(value, float) and not isinstance(value, np.generic):
        bad = dtype.is_integer or dtype.is_bool
    elif isinstance(value, complex):
        bad = not dtype.is_complex
    elif isinstance(value, numbers.Number):
        bad = dtype is dtypes.string or (dtype.is_bool and not isinstance(value, np.generic))
    if bad:
        shown = value if whole is None else whole
        raise TypeError(f"Cannot convert {shown!r} to EagerTensor of dtype {dtype.name}")


def _numpy_to_tensor(a, dtype, device, owned):
    """Tensor from a NumPy array; `owned` says the array is ours, so it need not be copied."""
    if dtype is dtypes.string or (dtype is None and a.dtype == object):
        return wrap_strings(a)
    if dtype is None:
        dtype = dtypes.as_dtype(a.dtype)
    elif a.dtype != dtype.as_numpy_dtype:
        a, owned = a.astype(dtype.as_numpy_dtype), True
    if dtype is dtypes.bfloat16:
        t = torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)
    elif owned and a.flags.writeable and a.flags.c_contiguous:
        t = torch.from_numpy(a)
    else:
        t = torch.tensor(a)  # a copy: later changes to the caller's array must not show here
    if device.type != "cpu":
        t = t.to(device)
    return wrap(t, dtype)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """Converts `value` (Tensor, Variable, NumPy array, Python scalar or list) to a `Tensor`."""
    if type(value) is Tensor:
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
            if value._dtype is not dtype:
                raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Tensor "
                                 f"with dtype {value._dtype.name}: {value!r}")
        return value
    for base, fn in _conversion_functions:
        if isinstance(value, base):
            return fn(value, dtype=None if dtype is None else dtypes.as_dtype(dtype))
    if isinstance(value, Tensor):
        return value
    if dtype is None and dtype_hint is not None:
        try:
            return _convert_value(value, dtypes.as_dtype(dtype_hint))
        except (TypeError, ValueError):
            pass
    return _convert_value(value, None if dtype is None else dtypes.as_dtype(dtype))


# Set by ops/joining.py: a (nested) list holding tensors converts through TF's Pack op, so
# tapes and traces see it (`tf.reduce_sum([loss_a, loss_b])`); NumPy would drop them.
pack_list = None


def _holds_tensor(value):
    for v in value:
        if isinstance(v, (list, tuple)):
            if _holds_tensor(v):
                return True
        elif isinstance(v, Tensor) or any(isinstance(v, b) for b, _ in _conversion_functions):
            return True
    return False


def _convert_value(value, dtype):
    if isinstance(value, (list, tuple)) and pack_list is not None and _holds_tensor(value):
        return pack_list(value, dtype)
    if dtype is not None:
        _check_python_value_fits(value, dtype)
    if isinstance(value, (TensorShape,)):
        value = value.as_list()
    if hasattr(value, "__tf_tensor__"):
        return value.__tf_tensor__(dtype, None)
    a = _python_to_numpy(value, dtype)
    if a.dtype == object and a.size and _symbolic_sizes(a):
        kind = type(a.flat[0]).__name__
        default = dtypes.float32 if kind == "SymFloat" else dtypes.bool if kind == "SymBool" \
            else dtypes.int32
        return state.interpreter.sized_tensor(a, dtype or default)
    return _numpy_to_tensor(a, dtype, current_device(), owned=a is not value)


def adopt_numpy(a):
    """A Tensor over a NumPy array made for it and referenced nowhere else (a fresh gather
    of a batch): no copy on the CPU. Anything else must go through `convert_to_tensor`, which
    copies, so later writes to the caller's array do not show in the tensor."""
    return _numpy_to_tensor(a, None, current_device(), owned=True)


def constant(value, dtype=None, shape=None, name="Const"):
    """Creates a constant tensor from a tensor-like value (`tf.constant`)."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, Tensor) or any(isinstance(value, b) for b, _ in _conversion_functions):
        t = convert_to_tensor(value)
        if dtype is not None and t._dtype is not dtype:
            raise TypeError(f"Expected tensor {t.numpy()} with dtype {dtype!r}, but got dtype "
                            f"{t._dtype!r}.")
    else:
        t = _convert_value(value, dtype)
    if shape is not None:
        t = _reshape_constant(t, value, shape)
    return t


def _reshape_constant(t, value, shape):
    shape = tuple(TensorShape(shape).as_list())
    n = 1
    for d in shape:
        n *= d
    size = t._t.size if t._dtype is dtypes.string else t._t.numel()
    if size == 1 and n != 1:
        data = np.broadcast_to(t._t.reshape(()), shape).copy() if t._dtype is dtypes.string \
            else t._t.reshape(()).expand(shape).clone()
    elif size == n:
        data = t._t.reshape(shape)
    else:
        raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tensor "
                        f"{t.numpy()} (converted from {value}) has {size} elements, but got "
                        f"`shape` {shape} with {n} elements).")
    return wrap_strings(data) if t._dtype is dtypes.string else wrap(data, t._dtype)


def is_tensor(x):
    """`tf.is_tensor`: a Tensor, something converted like one (a Variable), or a composite
    tensor (SparseTensor, RaggedTensor: they carry `_tf_composite`)."""
    return isinstance(x, Tensor) or any(isinstance(x, b) for b, _ in _conversion_functions) \
        or getattr(type(x), "_tf_composite", False)

