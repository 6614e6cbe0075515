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


_ESCAPES = {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord('"'): '\\"',
            ord("'"): "\\'", ord("\\"): "\\\\"}


def _c_escape(b):
    """absl's Utf8SafeCEscape, as TF quotes string elements: C escapes for quotes, backslash
    and control bytes (octal), bytes of 0x80 and above (UTF-8) left as they are."""
    out = bytearray()
    for c in b:
        e = _ESCAPES.get(c)
        if e is not None:
            out += e.encode()
        elif c < 0x20 or c == 0x7f:
            out += b"\\%03o" % c
        else:
            out.append(c)
    return out.decode("utf-8", "surrogateescape")


def _element_text(v, dtype):
    if dtype is _STRING:
        return '"' + _c_escape(v if isinstance(v, bytes) else str(v).encode()) + '"'
    if dtype.is_bool:
        return "1" if v else "0"
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
    return text if exact else "%.*g" % (more, v)  # half and bfloat16 print as float


def summarize(tensor, summarize=3):
    """A tensor's values as TF prints them (tf.print, tf.strings.format): at most `summarize`
    entries at each end of every dimension (-1: all), nested brackets, strings quoted."""
    return _summarize_array(tensor._numpy_array(), tensor._dtype, summarize)


def _summarize_array(a, dtype, summarize):
    limit = a.size if summarize is None or summarize < 0 else min(int(summarize), a.size)
    if dtype.is_complex:  # TF's "irregular" path: a flat run of `?`, not nested brackets
        text = " ".join(["?"] * limit) + ("..." if limit < a.size else "")
        return f"[{text}]" if a.ndim else text
    if dtype.is_bool and not limit:  # (bool tensors print nothing at all for summarize=0)
        return ""
    if a.ndim == 0:
        return _element_text(a[()], dtype) if limit else "..."
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


def format_text(template, placeholder, arrays, dtype_names, limit):
    """`template` with each `placeholder` replaced by the next array's summary, as UTF-8
    bytes (arrays: torch tensors, or NumPy object arrays for strings)."""
    pieces = template.split(placeholder)
    out = [pieces[0]]
    for a, dname, piece in zip(arrays, dtype_names, pieces[1:]):
        if dname == "raw":  # text rendered already (a RaggedTensor in tf.print)
            out.extend([a[()].decode("utf-8", "surrogateescape"), piece])
            continue
        dtype = dtypes.as_dtype(dname)
        if not isinstance(a, np.ndarray):
            a = a.float().cpu().numpy() if dtype is dtypes.bfloat16 else a.cpu().numpy()
        out.append(_summarize_array(a, dtype, limit))
        out.append(piece)
    return "".join(out).encode("utf-8", "surrogateescape")


def _format_kernel(*arrays_and_attrs):
    *arrays, template, placeholder, limit, dtype_names = arrays_and_attrs
    result = np.empty((), dtype=object)
    result[()] = format_text(template, placeholder, arrays, dtype_names, limit)
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

