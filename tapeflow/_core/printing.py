"""How tensors and variables show themselves, exactly as TensorFlow 2 shows them.

`str`/`repr` embed NumPy's text of the value (so `np.set_printoptions` and NumPy's `...`
summary beyond 1000 elements apply, as in TF); `format()` is the NumPy value's own format, so
`f"{t:.3f}"` works on a 0-d tensor and raises NumPy's TypeError on an n-d one. A symbolic
tensor of a tf.function trace prints as TF's graph tensors do, under the name TF gives it: the
argument's name (`x:0`) or the op's (`add:0`, `MatMul_1:0`: function/naming.py), unique in the
trace. Variables show their value only outside a trace, and refuse a format spec (TF's
`object.__format__`). tensor.py and variable.py call these.
"""
import numpy as np

from tapeflow._core import dtypes
from tapeflow._core.context import state


# -- values -----------------------------------------------------------------------------------

def numpy_text(tensor, is_repr=False):
    """The value part of str/repr: NumPy's str (or repr) of the value, on a line of its own
    when it spans several (TF's `_numpy_text`)."""
    a = tensor.numpy()
    if not is_repr:
        text = str(a)
    elif np.isscalar(a) and not isinstance(a, bytes):
        text = repr(a.item())  # TF shows `numpy=3.0`, not `np.float32(3.0)`
    else:
        text = repr(a)
    if "\n" in text:
        text = "\n" + text
    return text


def value_array(tensor):
    """The value as a NumPy array (0-d for a scalar, dtype object for strings), what TF's
    `__array__` and `__format__` work on."""
    a = tensor.numpy()
    if isinstance(a, np.ndarray):
        return a
    if tensor._dtype is dtypes.string:
        out = np.empty((), dtype=object)
        out[()] = a
        return out
    return np.asarray(a)


# -- tensors ----------------------------------------------------------------------------------

def tensor_str(t):
    if t._is_symbolic():
        return f'Tensor("{symbolic_name(t)}", shape={t.shape}, dtype={t._dtype.name})'
    return f"tf.Tensor({numpy_text(t)}, shape={t.shape}, dtype={t._dtype.name})"


def tensor_repr(t):
    if t._is_symbolic():
        return f"<tf.Tensor '{symbolic_name(t)}' shape={t.shape} dtype={t._dtype.name}>"
    return (f"<tf.Tensor: shape={t.shape}, dtype={t._dtype.name}, "
            f"numpy={numpy_text(t, is_repr=True)}>")


def tensor_format(t, spec):
    """`format(t, spec)`: the NumPy value's format (TF's EagerTensor.__format__); a symbolic
    tensor has only object's (no spec)."""
    if t._is_symbolic():
        return _object_format(t, spec, "SymbolicTensor")
    return format(value_array(t), spec)


def _object_format(x, spec, class_name):
    if spec:
        raise TypeError(f"unsupported format string passed to {class_name}.__format__")
    return str(x)


# -- variables --------------------------------------------------------------------------------

def variable_repr(v, value):
    """`value` is the variable's current value as a Tensor (None inside a trace, where TF
    shows no value)."""
    head = f"<tf.Variable '{v.name}' shape={v.shape} dtype={v.dtype.name}"
    if value is None or not state.interpreter.eager:
        return head + ">"
    return f"{head}, numpy={numpy_text(value, is_repr=True)}>"


def variable_format(v, spec):
    return _object_format(v, spec, v._format_class_name)


# -- names of symbolic tensors ------------------------------------------------------------------

def symbolic_name(t):
    """TF's name for a symbolic tensor of the trace being built: the interpreter knows it
    (function/naming.py: an argument's name `x:0`, or the op's, `add:0`, `MatMul_1:0`)."""
    return state.interpreter.tensor_name(t) or "Tensor:0"
