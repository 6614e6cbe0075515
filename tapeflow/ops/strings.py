"""String ops (`tf.strings.*`, and `+` / `==` on string tensors).

A string tensor holds a NumPy object array of `bytes` (see `wrap_strings`); kernels here take
and return such arrays (numeric results are CPU torch tensors, as TF keeps string kernels on
the host). Text is UTF-8; `unit='UTF8_CHAR'` and `encoding='utf-8'` switch from bytes to
characters as in TF. Regular expressions follow RE2 where Python's `re` differs in common use
(`\\w` and friends are ASCII, `.` is one character, `\\0` in a rewrite is the whole match).
`tf.strings.format` and TF's print format of tensor values live in `string_format.py`; `split`
and the Unicode ops, which give `tf.RaggedTensor`s, in `string_unicode.py`. None of these ops
has a gradient.
"""
import re

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError, OutOfRangeError
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops._op import Op, define, error, execute, is_tensor_like, kernel_error, \
    tf_type_name

_CPU = torch.device("cpu")
_STRING = dtypes.string

# `+` and `==` on strings share TF's op names with the numeric ops (owned by ops/math.py and
# the comparison ops), so they are not registered a second time.
ADD = Op("Add", differentiable=False)
EQUAL = Op("Equal", differentiable=False)
NOT_EQUAL = Op("NotEqual", differentiable=False)
JOIN = define("StringJoin", differentiable=False)
LENGTH = define("StringLength", differentiable=False)
UPPER = define("StringUpper", differentiable=False)
LOWER = define("StringLower", differentiable=False)
STRIP = define("StringStrip", differentiable=False)
SUBSTR = define("Substr", differentiable=False)
REGEX_REPLACE = define("StaticRegexReplace", differentiable=False)
REGEX_FULL_MATCH = define("StaticRegexFullMatch", differentiable=False)
TO_NUMBER = define("StringToNumber", differentiable=False)
AS_STRING = define("AsString", differentiable=False)
REDUCE_JOIN = define("ReduceJoin", differentiable=False)


# Ops whose kernel errors TF reports without the trailing " name: ".
_UNNAMED = {"Substr", "StringToNumber", "StaticRegexFullMatch", "StaticRegexReplace",
            "StringJoin", "Equal", "NotEqual", "StringToHashBucketStrong"}


def _err(message, op, node=None):
    """TF's kernel error text (`node`: the wrapped function's name when it is not the op's)."""
    text = kernel_error(message, op, _CPU, name_suffix=op.name not in _UNNAMED).message
    if node is not None:
        text = text.replace(f"__wrapped__{op.name}_", f"__wrapped__{node}_", 1)
    return InvalidArgumentError(None, None, text)


def _attr_error(attr, value, allowed, op, signature):
    """TF's text for an attr outside its allowed values, with the op's signature."""
    return InvalidArgumentError(
        None, None, f"Value for attr '{attr}' of {value} is not in the list of allowed values: "
        f"{allowed}\n\t; NodeDef: {{{{node {op.name}}}}}; Op<name={op.name}; "
        f"signature={signature}> [Op:{op.name}]")


def _strings(x, op, index=0):
    """`x` as a string tensor: Python values convert with dtype string (TypeError when they
    cannot), tensors of another dtype raise TF's 'expected to be a string tensor'."""
    if not is_tensor_like(x):
        return convert_to_tensor(x, dtype=_STRING)
    x = convert_to_tensor(x)
    if x._dtype is not _STRING:
        raise error(f"cannot compute {op.name} as input #{index}(zero-based) was expected to be "
                    f"a string tensor but is a {tf_type_name(x._dtype)} tensor", op)
    return x


def host_strings(x, op, index=0):
    """`x` as a string tensor whose bytes are here, for kernels that run on the host and
    outside `execute` (parsing, decoding): a string tensor inside a tf.function trace is a
    placeholder without bytes, and NotImplementedError makes the trace run eagerly instead."""
    x = _strings(x, op, index)
    if not isinstance(x._t, np.ndarray):
        raise NotImplementedError(f"{op.name} reads string values: it runs eagerly")
    return x


def _map(fn, a, otype=object):
    """`fn` over every element of an object array, keeping its shape."""
    out = np.empty(a.shape, dtype=otype)
    flat_in, flat_out = a.reshape(-1), out.reshape(-1)
    for i, v in enumerate(flat_in):
        flat_out[i] = fn(v)
    return out


def _broadcast(op, *arrays):
    try:
        return np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = " vs. ".join(str(list(a.shape)).replace(" ", "") for a in arrays)
        raise _err(f"Incompatible shapes: {shapes}", op) from None


_UNIT_ATTR = 'unit:string,default="BYTE",allowed=["BYTE", "UTF8_CHAR"]'
_SIGNATURES = {
    "StringLength": f"input:string -> output:int32; attr={_UNIT_ATTR}",
    "Substr": "input:string, pos:T, len:T -> output:string; attr=T:type,allowed=[DT_INT32, "
              f"DT_INT64]; attr={_UNIT_ATTR}",
}


def _unit(unit, op):
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise _attr_error("unit", f'"{unit}"', '"BYTE", "UTF8_CHAR"', op, _SIGNATURES[op.name])
    return unit


# -- + and == ------------------------------------------------------------------------------------

def _add_kernel(a, b):
    a, b = _broadcast(ADD, a, b)
    return np.asarray(np.add(a, b), dtype=object)  # elementwise bytes concatenation


def string_add(x, y, name=None):
    """`x + y` for string tensors: elementwise concatenation, broadcasting like NumPy."""
    x, y = _strings(x, ADD), _strings(y, ADD, 1)
    return execute(ADD, _add_kernel, (x, y))


def _equal_kernel(a, b, negate, strict):
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        if strict:
            raise _err(f"Incompatible shapes: {list(a.shape)} vs. {list(b.shape)}".replace(
                ", ", ","), NOT_EQUAL if negate else EQUAL) from None
        return torch.tensor(negate)
    eq = np.array(np.equal(a, b), dtype=bool)
    if negate:
        np.logical_not(eq, out=eq)
    return torch.from_numpy(eq)


def string_equal(x, y, incompatible_shape_error=True, name=None):
    """`x == y` elementwise for string tensors (bool). With `incompatible_shape_error=False`
    (what the `==` operator does) shapes that do not broadcast give a scalar False."""
    x, y = _strings(x, EQUAL), _strings(y, EQUAL, 1)
    return execute(EQUAL, _equal_kernel, (x, y), (False, bool(incompatible_shape_error)))


def string_not_equal(x, y, incompatible_shape_error=True, name=None):
    x, y = _strings(x, NOT_EQUAL), _strings(y, NOT_EQUAL, 1)
    return execute(NOT_EQUAL, _equal_kernel, (x, y), (True, bool(incompatible_shape_error)))


# -- joining -------------------------------------------------------------------------------------

def _join_kernel(*arrays_and_separator):
    *arrays, separator = arrays_and_separator
    shape = next((a.shape for a in arrays if a.ndim), ())
    for a in arrays:
        if a.ndim and a.shape != shape:
            raise _err(f"Input shapes do not match: {_dims(shape)} vs. {_dims(a.shape)}", JOIN,
                       node=f"StringJoin_N_{len(arrays)}")
    out = np.empty(shape, dtype=object)
    flats = [np.broadcast_to(a, shape).reshape(-1) for a in arrays]
    flat = out.reshape(-1)
    for i in range(flat.size):
        flat[i] = separator.join(f[i] for f in flats)
    return out


def _dims(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def join(inputs, separator="", name=None):
    """Joins a list of string tensors elementwise (`tf.strings.join`); scalars broadcast.

    Example:
    >>> tf.strings.join([["a", "b"], "c"], separator="-").numpy()
    array([b'a-c', b'b-c'], dtype=object)
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"Expected list for 'inputs' argument to 'string_join' Op, not "
                        f"{inputs!r}.")
    tensors = tuple(_strings(x, JOIN, i) for i, x in enumerate(inputs))
    return execute(JOIN, _join_kernel, tensors, (_bytes(separator),))


def _reduce_join_kernel(a, axes, keepdims, separator):
    if not axes:
        return a.copy()
    # TF joins with the first listed axis varying fastest: it goes last in a row-major walk.
    moved = np.moveaxis(a, axes[::-1], range(a.ndim - len(axes), a.ndim))
    kept = moved.shape[:a.ndim - len(axes)]
    rows = moved.reshape(kept + (-1,))
    out = np.empty(kept, dtype=object)
    flat_rows, flat = rows.reshape(-1, rows.shape[-1]), out.reshape(-1)
    for i in range(flat.size):
        flat[i] = separator.join(flat_rows[i])
    if keepdims:
        out = out.reshape(tuple(1 if d in axes else n for d, n in enumerate(a.shape)))
    return out


def reduce_join(inputs, axis=None, keepdims=False, separator="", name=None):
    """Joins the strings of a tensor along `axis` (all axes when None)."""
    x = convert_to_tensor(inputs)
    if x._dtype is not _STRING:
        raise error(f"cannot compute ReduceJoin as input #0(zero-based) was expected to be a "
                    f"string tensor but is a {tf_type_name(x._dtype)} tensor", REDUCE_JOIN)
    rank = x.ndim
    if axis is None:
        axes = tuple(reversed(range(rank)))
    else:
        axes = []
        for a in np.atleast_1d(np.asarray(axis.numpy() if is_tensor_like(axis) else axis)):
            a = int(a)
            if not -rank <= a < rank:
                raise OutOfRangeError(None, None, (
                    f"{{{{function_node __wrapped__ReduceJoin_device_/job:localhost/replica:0/"
                    f"task:0/device:CPU:0}}}} Invalid reduction dimension {a} for input with "
                    f"{rank} dimension(s) [Op:ReduceJoin] name: "))
            if a % rank not in axes:
                axes.append(a % rank)
        axes = tuple(axes)
    return execute(REDUCE_JOIN, _reduce_join_kernel, (x,),
                   (axes, bool(keepdims), _bytes(separator)))


def _bytes(s):
    if hasattr(s, "numpy"):
        s = s.numpy()
    return s.encode("utf-8") if isinstance(s, str) else bytes(s)


# -- per-string transforms -----------------------------------------------------------------------

def _utf8_len(b):
    return sum(1 for c in b if c & 0xC0 != 0x80)


def _length_kernel(a, unit):
    fn = len if unit == "BYTE" else _utf8_len
    return torch.from_numpy(_map(fn, a, np.int32))


def length(input, unit="BYTE", name=None):  # noqa: A002 - TF's argument name
    """The length of each string, in bytes or (`unit='UTF8_CHAR'`) in characters."""
    x = _strings(input, LENGTH)
    return execute(LENGTH, _length_kernel, (x,), (_unit(unit, LENGTH),))


def _case_kernel(a, upper, encoding):
    if encoding:  # UTF-8 text: Unicode case mapping
        fn = (lambda b: b.decode("utf-8", "surrogateescape").upper().encode(
            "utf-8", "surrogateescape")) if upper else (
            lambda b: b.decode("utf-8", "surrogateescape").lower().encode(
                "utf-8", "surrogateescape"))
    else:  # no encoding: ASCII letters only, as TF
        fn = bytes.upper if upper else bytes.lower
    return _map(fn, a)


def _encoding(encoding, op):
    if encoding not in ("", "utf-8", "UTF-8"):
        raise error(f"Invalid encoding: {encoding}", op)
    return bool(encoding)


def upper(input, encoding="", name=None):  # noqa: A002
    """Uppercases each string (ASCII letters, or all of Unicode with `encoding='utf-8'`)."""
    x = _strings(input, UPPER)
    return execute(UPPER, _case_kernel, (x,), (True, _encoding(encoding, UPPER)))


def lower(input, encoding="", name=None):  # noqa: A002
    """Lowercases each string (ASCII letters, or all of Unicode with `encoding='utf-8'`)."""
    x = _strings(input, LOWER)
    return execute(LOWER, _case_kernel, (x,), (False, _encoding(encoding, LOWER)))


def _strip_kernel(a):
    return _map(bytes.strip, a)


def strip(input, name=None):  # noqa: A002
    """Strips leading and trailing whitespace."""
    return execute(STRIP, _strip_kernel, (_strings(input, STRIP),))


def _utf8_offsets(b):
    """Byte offset of each character start, plus len(b)."""
    return [i for i, c in enumerate(b) if c & 0xC0 != 0x80] + [len(b)]


def _substr_kernel(a, pos, ln, unit):
    if pos.shape != a.shape or ln.shape != a.shape:
        if pos.shape != ln.shape:
            raise _err(f"pos and len should have the same shape, got: {_dims(pos.shape)} vs. "
                       f"{_dims(ln.shape)}", SUBSTR)
        try:
            a, pos, ln = np.broadcast_arrays(a, pos.numpy(), ln.numpy())
        except ValueError:
            raise _err(f"Incompatible shapes: {_dims(a.shape)} vs. {_dims(pos.shape)}",
                       SUBSTR) from None
    else:
        pos, ln = pos.numpy(), ln.numpy()
    out = np.empty(a.shape, dtype=object)
    fa, fp, fl, fo = a.reshape(-1), pos.reshape(-1), ln.reshape(-1), out.reshape(-1)
    for i in range(fa.size):
        s, p, n = fa[i], int(fp[i]), int(fl[i])
        offsets = _utf8_offsets(s) if unit == "UTF8_CHAR" else None
        size = len(s) if offsets is None else len(offsets) - 1
        if p > size or p < -size:
            raise _err(f"pos {p} out of range for string b'{s.decode('latin-1')}' at index {i}",
                       SUBSTR)
        p = p + size if p < 0 else p
        end = size if n < 0 else min(size, p + n)
        fo[i] = s[p:end] if offsets is None else s[offsets[p]:offsets[end]]
    return out


def substr(input, pos, len, unit="BYTE", name=None):  # noqa: A002
    """The substring of each string starting at `pos` (negative: from the end) of length
    `len`, in bytes or UTF-8 characters; `pos` and `len` broadcast against `input`."""
    x = _strings(input, SUBSTR)
    unit = _unit(unit, SUBSTR)
    pos, n = convert_to_tensor(pos), convert_to_tensor(len)
    return execute(SUBSTR, _substr_kernel, (x, pos, n), (unit,))


# -- regular expressions -------------------------------------------------------------------------

def _compile(pattern, op):
    pattern = _bytes(pattern).decode("utf-8", "surrogateescape")
    try:
        return re.compile(pattern, re.ASCII)
    except re.error as e:
        raise _err(f"Invalid pattern: {pattern}, error: {e.msg}", op) from None


def _rewrite(rewrite):
    """RE2's rewrite string (`\\0`-`\\9` groups, `\\\\` a backslash) as a function of a match."""
    pieces, literal, i = [], [], 0
    while i < len(rewrite):
        c = rewrite[i]
        if c == "\\" and i + 1 < len(rewrite):
            nxt = rewrite[i + 1]
            if nxt.isdigit():
                pieces.append("".join(literal))
                pieces.append(int(nxt))
                literal = []
                i += 2
                continue
            if nxt == "\\":
                literal.append("\\")
                i += 2
                continue
        literal.append(c)
        i += 1
    pieces.append("".join(literal))
    return lambda m: "".join(p if isinstance(p, str) else (m.group(p) or "") for p in pieces)


def _text(b):
    return b.decode("utf-8", "surrogateescape")


def _regex_replace_kernel(a, pattern, rewrite, count):
    regex = re.compile(pattern, re.ASCII)
    fn = _rewrite(rewrite)
    return _map(lambda b: regex.sub(fn, _text(b), count=count).encode(
        "utf-8", "surrogateescape"), a)


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):  # noqa: A002
    """Replaces matches of `pattern` (RE2 syntax) with `rewrite` (`\\1` refers to a group)."""
    x = _strings(input, REGEX_REPLACE)
    regex = _compile(pattern, REGEX_REPLACE)
    return execute(REGEX_REPLACE, _regex_replace_kernel, (x,),
                   (regex.pattern, _text(_bytes(rewrite)), 0 if replace_global else 1))


def _full_match_kernel(a, pattern):
    regex = re.compile(pattern, re.ASCII)
    return torch.from_numpy(_map(lambda b: regex.fullmatch(_text(b)) is not None, a, bool))


def regex_full_match(input, pattern, name=None):  # noqa: A002
    """Whether each whole string matches `pattern` (RE2 syntax)."""
    x = _strings(input, REGEX_FULL_MATCH)
    regex = _compile(pattern, REGEX_FULL_MATCH)
    return execute(REGEX_FULL_MATCH, _full_match_kernel, (x,), (regex.pattern,))


# -- numbers <-> strings -------------------------------------------------------------------------

_NUMBER_TYPES = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64, dtypes.uint32,
                 dtypes.uint64)


def _parse(b, dtype):
    s = b.decode("utf-8", "replace")
    if "_" in s:
        raise ValueError(s)
    if dtype.is_integer:
        v = int(s)
        if not dtype.min <= v <= dtype.max:
            raise ValueError(s)
        return v
    return float(s)


def _to_number_kernel(a, name):
    dtype = dtypes.as_dtype(name)
    out = np.empty(a.shape, dtype=dtype.as_numpy_dtype)
    flat_in, flat = a.reshape(-1), out.reshape(-1)
    with np.errstate(over="ignore"):
        for i, b in enumerate(flat_in):
            try:
                flat[i] = _parse(b, dtype)
            except ValueError:
                raise _err(f"StringToNumberOp could not correctly convert string: "
                           f"{b.decode('utf-8', 'replace')}", TO_NUMBER) from None
    return torch.from_numpy(out)


def to_number(string_tensor, out_type=dtypes.float32, name=None):
    """Parses each string as a number of `out_type` (float32 by default)."""
    x = _strings(string_tensor, TO_NUMBER)
    out_type = dtypes.as_dtype(out_type)
    if out_type not in _NUMBER_TYPES:
        names = ", ".join(tf_type_name(d) for d in _NUMBER_TYPES)
        enums = ", ".join("DT_" + tf_type_name(d).upper() for d in _NUMBER_TYPES)
        raise _attr_error("out_type", tf_type_name(out_type), names, TO_NUMBER,
                          f"string_tensor:string -> output:out_type; attr=out_type:type,"
                          f"default=DT_FLOAT,allowed=[{enums}]")
    return execute(TO_NUMBER, _to_number_kernel, (x,), (out_type.name,))


def _as_string_kernel(a, fmt, kind):
    if isinstance(a, np.ndarray):  # strings
        return _map(lambda b: (fmt % _text(b)).encode("utf-8", "surrogateescape"), a)
    values = a.numpy() if a.dtype != torch.bfloat16 else a.float().numpy()
    if kind == "bool":
        fn = (lambda v: (fmt % ("true" if v else "false")).encode())
    elif kind == "complex":
        fn = (lambda v: f"({fmt % v.real},{fmt % v.imag})".encode())
    elif kind == "float":
        fn = (lambda v: (fmt % float(v)).encode())
    else:
        fn = (lambda v: (fmt % int(v)).encode())
    out = np.empty(values.shape, dtype=object)
    flat_in, flat = values.reshape(-1), out.reshape(-1)
    for i, v in enumerate(flat_in):
        flat[i] = fn(v)
    return out


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1, fill="",  # noqa: A002
              name=None):
    """Each element formatted as a string, printf-style (`%f` for floats by default)."""
    x = convert_to_tensor(input)
    if len(fill) > 1:
        raise _err("Fill string must be one or fewer characters", AS_STRING)
    if scientific and shortest:
        raise _err("Cannot select both scientific and shortest notation", AS_STRING)
    if fill and fill not in " +-0#":
        raise _err(f"Fill argument not supported: \"{fill}\"", AS_STRING)
    d = x._dtype
    fmt = "%" + fill + (str(width) if width > -1 else "")
    if d.is_floating or d.is_complex:
        kind = "complex" if d.is_complex else "float"
        fmt += (f".{precision}" if precision > -1 else "") + (
            "g" if shortest else "e" if scientific else "f")
    else:
        for flag, what in ((scientific, "scientific"), (shortest, "shortest"),
                           (precision > -1, "precision")):
            if flag:
                raise _err(f"{what} not supported for datatype {tf_type_name(d)}", AS_STRING)
        kind = "bool" if d.is_bool else "str" if d is _STRING else "int"
        fmt += "s" if kind in ("bool", "str") else "d"
    return execute(AS_STRING, _as_string_kernel, (x,), (fmt, kind))
