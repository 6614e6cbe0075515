"""`tf.strings.format`, and TensorFlow's summary of a tensor's values as `tf.print` and
`tf.strings.format` write them: at most `summarize` entries at each end of every dimension,
nested brackets, strings quoted, floats with 6 (float) or 15 (double) significant digits unless
more are needed to read the number back. `summarize(tensor)` is shared with `tf.print`.
"""
import numpy as np

from tapeflow._core import dtypes
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops._op import define, execute

_STRING = dtypes.string
FORMAT = define("StringFormat", differentiable=False)


def _element_text(v, dtype):
    if dtype is _STRING:
        return '"' + v.decode("latin-1").encode("unicode_escape").decode("ascii").replace(
            '"', '\\"') + '"'
    if dtype.is_bool:
        return "1" if v else "0"
    if dtype.is_complex:
        return f"({_float_text(v.real, dtype.real_dtype)},{_float_text(v.imag, dtype.real_dtype)})"
    if dtype.is_floating:
        return _float_text(v, dtype)
    return str(int(v))


def _float_text(v, dtype):
    """TF's LegacyPrecision: 6 (float) or 15 (double) significant digits, more (9 or 17) when
    that does not read back as the same number."""
    v = float(v)
    digits, more = (15, 17) if dtype is dtypes.float64 else (6, 9)
    if v != v:
        return "nan" if not np.signbit(v) else "-nan"
    text = "%.*g" % (digits, v)
    exact = float(text) == v if dtype is dtypes.float64 else np.float32(text) == np.float32(v)
    return text if exact or dtype not in (dtypes.float32, dtypes.float64) else \
        "%.*g" % (more, v)


def summarize(tensor, summarize=3):
    """A tensor's values as TF prints them (tf.print, tf.strings.format): at most `summarize`
    entries at each end of every dimension (-1: all), nested brackets, strings quoted."""
    return _summarize_array(tensor._numpy_array(), tensor._dtype, summarize)


def _summarize_array(a, dtype, summarize):
    limit = a.size if summarize is None or summarize < 0 else min(int(summarize), a.size)
    if a.ndim == 0:
        return _element_text(a[()], dtype) if limit else ""
    parts = []
    _print_dim(0, a.shape, limit, a.reshape(-1), 0, dtype, parts)
    return "".join(parts)


def _print_dim(dim, shape, ends, flat, index, dtype, out):
    ndims = len(shape)
    if dim == ndims:
        out.append(_element_text(flat[index], dtype))
        return
    out.append("[")
    count = shape[dim]
    start_of_end = max(ends, count - ends)
    per = int(np.prod(shape[dim + 1:], dtype=np.int64))
    for i in range(min(ends, count)):
        if i > 0:
            _spacing(dim, ndims, out)
        _print_dim(dim + 1, shape, ends, flat, index + per * i, dtype, out)
    if count > 2 * ends:
        _spacing(dim, ndims, out)
        out.append("...")
    for i in range(start_of_end, count):
        _spacing(dim, ndims, out)
        _print_dim(dim + 1, shape, ends, flat, index + per * i, dtype, out)
    out.append("]")


def _spacing(dim, ndims, out):
    if dim == ndims - 1:
        out.append(" ")
    else:
        out.append("\n" * (ndims - dim - 1) + " " * (dim + 1))


def _format_kernel(*arrays_and_attrs):
    *arrays, template, placeholder, limit, dtype_names = arrays_and_attrs
    pieces = template.split(placeholder)
    out = [pieces[0]]
    for a, dname, piece in zip(arrays, dtype_names, pieces[1:]):
        dtype = dtypes.as_dtype(dname)
        if not isinstance(a, np.ndarray):
            a = a.float().numpy() if dtype is dtypes.bfloat16 else a.cpu().numpy()
        out.append(_summarize_array(a, dtype, limit))
        out.append(piece)
    result = np.empty((), dtype=object)
    result[()] = "".join(out).encode("utf-8", "surrogateescape")
    return result


def format(template, inputs, placeholder="{}", summarize=3, name=None):  # noqa: A001
    """Formats tensors into a scalar string: each `placeholder` in `template` is replaced by
    the next input's values in TF's print format.

    Example:
    >>> tf.strings.format("x={}", tf.constant([1, 2])).numpy()
    b'x=[1 2]'
    """
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    tensors = tuple(convert_to_tensor(x) for x in inputs)
    needed = template.count(placeholder)
    if needed != len(tensors):
        raise ValueError(f"The template expects {needed} tensors, but the inputs only has "
                         f"{len(tensors)}. Please ensure the number of placeholders in template "
                         "matches inputs length.")
    return execute(FORMAT, _format_kernel, tensors,
                   (template, placeholder, summarize, tuple(t._dtype.name for t in tensors)))

