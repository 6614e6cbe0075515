"""`tf.print`: prints tensors when it runs — every call of a tf.function, not only at trace
time — formatted as TensorFlow's C++ runtime formats them (`[0 1 2 ... 7 8 9]`, floats with
the shortest digits that round-trip, strings quoted inside tensors).
"""
import sys

import numpy as np

from tapeflow._core import dtypes, nest
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.ops._op import define, execute

PRINT = define("PrintV2", differentiable=False, stateful=True)
PRINT.meta_fn = lambda *args: ()  # printing happens when the graph runs, not while tracing


def _scalar_text(v, dtype):
    if dtype is dtypes.string:
        return '"' + (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)) + '"'
    if dtype is dtypes.bool:
        return "1" if v else "0"
    if dtype.is_floating:
        f = float(v)
        if dtype is dtypes.float64:
            text = f"{f:.15g}"
            return text if float(text) == f else f"{f:.17g}"
        text = f"{f:.6g}"
        return text if np.float32(text) == np.float32(f) else f"{f:.9g}"
    if dtype.is_complex:
        return f"({_scalar_text(v.real, dtypes.float64)},{_scalar_text(v.imag, dtypes.float64)})"
    return str(int(v))


def _array_text(a, dtype, summarize, indent=1):
    if a.ndim == 0:
        return _scalar_text(a[()], dtype)
    n = a.shape[0]
    if summarize >= 0 and n > 2 * summarize:
        idx = list(range(summarize)) + [None] + list(range(n - summarize, n))
    else:
        idx = list(range(n))
    if a.ndim == 1:
        return "[" + " ".join("..." if i is None else _scalar_text(a[i], dtype) for i in idx) + "]"
    sep = "\n" * (a.ndim - 1) + " " * indent
    parts = ["..." if i is None else _array_text(a[i], dtype, summarize, indent + 1) for i in idx]
    if n == 0:
        return "[\n" + " " * indent + "...]"
    return "[" + sep.join(parts) + "]"


def format_value(value, dtype, summarize=3):
    return _array_text(np.asarray(value), dtype, summarize)


def _print_kernel(*args):
    *tensors, template, dts, sep, end, stream, summarize = args
    values = iter(zip(tensors, dts))

    def render(item):
        if item is _TENSOR:
            t, d = next(values)
            return format_value(t if isinstance(t, np.ndarray) else
                                Tensor(t, d).numpy(), d, summarize)
        return item

    pieces = []
    for top in template:
        if isinstance(top, _Nested):
            pieces.append(top.render(render))
        else:
            pieces.append(render(top))
    stream = _STREAMS.get(stream, stream)
    print(sep.join(pieces), end=end, file=stream() if callable(stream) else stream)
    return ()


class _Marker:
    def __repr__(self):
        return "<tensor>"


_TENSOR = _Marker()
_STREAMS = {"stderr": lambda: sys.stderr, "stdout": lambda: sys.stdout}


class _Nested:
    """A Python structure holding tensors, printed as Python prints it."""

    def __init__(self, structure):
        self.structure = structure

    def render(self, render_leaf):
        class _Text(str):
            def __repr__(self):
                return str(self)
        flat = [_Text(render_leaf(x)) if x is _TENSOR else x
                for x in nest.flatten(self.structure)]
        return str(nest.pack_sequence_as(self.structure, flat))


def print_v2(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None):
    """`tf.print`: print tensors and Python values, at run time (to stderr by default)."""
    tensors, template, dts = [], [], []

    def leaf(x):
        if isinstance(x, Tensor) or hasattr(x, "_as_tensor_for_ops"):
            t = convert_to_tensor(x)
            tensors.append(t)
            dts.append(t.dtype)
            return _TENSOR
        return x

    for x in inputs:
        if nest.is_nested(x):
            template.append(_Nested(nest.map_structure(leaf, x)))
        elif isinstance(x, str):
            template.append(x)
        else:
            marked = leaf(x)
            template.append(marked if marked is _TENSOR else str(x))
    if output_stream is None or output_stream is sys.stderr:
        stream = "stderr"
    elif output_stream is sys.stdout:
        stream = "stdout"
    else:
        stream = output_stream
    strings = [t for t in tensors if t.dtype is dtypes.string]
    if strings:  # string data lives on the host: print now (tracing cannot record it)
        _print_kernel(*[t._t for t in tensors], tuple(template), tuple(dts), sep, end, stream,
                      summarize)
        return None
    execute(PRINT, _print_kernel, tuple(tensors),
            (tuple(template), tuple(dts), sep, end, stream, summarize))
    return None


# -- Assert ------------------------------------------------------------------------------------

ASSERT = define("Assert", differentiable=False, stateful=True)
ASSERT.meta_fn = lambda *args: ()  # the condition is checked when the graph runs


def _assert_kernel(condition, *args):
    *data, template, dts, summarize = args
    if bool(condition):
        return ()
    values = iter(zip(data, dts))
    shown = []
    for item in template:
        if item is _TENSOR:
            t, d = next(values)
            shown.append(format_value(Tensor(t, d).numpy(), d, summarize))
        else:
            shown.append(item)
    raise InvalidArgumentError(None, None, f"assertion failed: [{'] ['.join(shown)}]")


def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TF's name
    """`tf.debugging.Assert`: raises InvalidArgumentError when `condition` is false, showing
    `data` (strings and tensors); inside a tf.function, each time the function runs."""
    cond = convert_to_tensor(condition)
    if cond.dtype is not dtypes.bool:
        raise TypeError(f"condition must be a bool tensor, got {cond.dtype.name}.")
    tensors, template, dts = [], [], []
    for x in data:
        if isinstance(x, str):
            template.append(x)
        else:
            t = convert_to_tensor(x)
            tensors.append(t)
            dts.append(t.dtype)
            template.append(_TENSOR)
    summarize = 3 if summarize is None else summarize
    if not cond._is_symbolic():
        if not bool(cond):
            shown = [str(x) if not isinstance(x, str) else repr(x.encode()) for x in data]
            raise InvalidArgumentError(
                None, None, f"Expected '{cond}' to be true. Summarized data: "
                            f"{', '.join(shown)}")
        return None
    execute(ASSERT, _assert_kernel, (cond, *tensors), (tuple(template), tuple(dts), summarize))
    return None
