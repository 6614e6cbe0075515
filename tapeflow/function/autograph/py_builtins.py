"""Python builtins as converted code calls them: on tensors, TF's overloads (`len` of a tensor is
its first dimension, `int(t)` a cast to int32, `range(t)` a `tf.range`, `abs` the
TF op, `enumerate` of a dataset `Dataset.enumerate`); on anything else, the builtin itself."""
import builtins

from tapeflow._core import dtypes
from tapeflow._core.tensor import Tensor
from tapeflow.function.autograph.ranges import tf_range
from tapeflow.ops.array import shape
from tapeflow.ops.elementwise import abs as tf_abs
from tapeflow.ops.elementwise import cast
from tapeflow.ops.math import maximum
from tapeflow.ops.strings import to_number
from tapeflow.ops.tensor_array import TensorArray

_UNSPECIFIED = object()


def _is_tensor(x):
    return isinstance(x, Tensor)


def abs_(x):
    if _is_tensor(x):
        return tf_abs(x)
    return builtins.abs(x)


def float_(x=0):
    if _is_tensor(x):
        if x.dtype is dtypes.string:
            return to_number(x, out_type=dtypes.float32)
        return cast(x, dtypes.float32)
    return builtins.float(x)


def int_(x=0, base=_UNSPECIFIED):
    if _is_tensor(x):
        if base not in (10, _UNSPECIFIED):
            raise NotImplementedError(f"base {base} not supported for int")
        if x.dtype is dtypes.string:
            return to_number(x, out_type=dtypes.int32)
        return cast(x, dtypes.int32)
    return builtins.int(x) if base is _UNSPECIFIED else builtins.int(x, base)


def len_(s):
    if isinstance(s, TensorArray):
        return s.size()
    if _is_tensor(s):
        if s.ndim == 0:
            raise ValueError(f"len requires a non-scalar tensor, got one of shape {s.shape}")
        n = s.shape[0]
        if n is None:
            return shape(s)[0]
        return n
    return builtins.len(s)


def print_(*objects, **kwargs):
    unknown = tuple(set(kwargs) - {"sep", "end", "file", "flush"})
    if unknown:
        raise ValueError(f"invalid keyword arguments: {unknown}")
    return builtins.print(*objects, **kwargs)


def range_(start_or_stop, stop=_UNSPECIFIED, step=_UNSPECIFIED):
    if any(_is_tensor(a) for a in (start_or_stop, stop, step)):
        if step is not _UNSPECIFIED:
            return tf_range(start_or_stop, stop, step)
        if stop is not _UNSPECIFIED:
            return tf_range(start_or_stop, maximum(start_or_stop, stop))
        return tf_range(maximum(start_or_stop, 0))
    if step is not _UNSPECIFIED:
        return builtins.range(start_or_stop, stop, step)
    if stop is not _UNSPECIFIED:
        return builtins.range(start_or_stop, stop)
    return builtins.range(start_or_stop)


def _is_dataset(x):
    return type(x).__module__.startswith("tapeflow.data") and hasattr(x, "element_spec")


def enumerate_(s, start=0):
    if _is_dataset(s) and hasattr(s, "enumerate"):
        return s.enumerate(start)
    return builtins.enumerate(s, start)


OVERLOADS = {
    builtins.abs: abs_, builtins.float: float_, builtins.int: int_, builtins.len: len_,
    builtins.print: print_,
    builtins.range: range_, builtins.enumerate: enumerate_,
}
