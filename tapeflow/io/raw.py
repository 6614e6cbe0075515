"""Bytes to numbers and back: `tf.io.decode_raw` (DecodeRaw / DecodePaddedRaw),
`encode_base64` / `decode_base64` (web-safe alphabet, as TF), `decode_compressed` and
`decode_csv` (TF's quoting rules and error texts).

String tensors hold NumPy object arrays of bytes; these kernels run on the host and give CPU
tensors, as TF keeps string kernels on the CPU. None of them has a gradient.
"""
import base64
import binascii
import gzip
import types
import zlib

import numpy as np
import torch

from tapeflow._core import dtypes, errors
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import convert_to_tensor, wrap_strings
from tapeflow.ops._op import check_dtype, define, execute
from tapeflow.ops.strings import host_strings

DECODE_RAW = define("DecodeRaw", differentiable=False)
DECODE_PADDED_RAW = define("DecodePaddedRaw", differentiable=False)
ENCODE_BASE64 = define("EncodeBase64", differentiable=False)
DECODE_BASE64 = define("DecodeBase64", differentiable=False)
DECODE_COMPRESSED = define("DecodeCompressed", differentiable=False)
DECODE_CSV = define("DecodeCSV", differentiable=False)

_CPU_NAME = "/job:localhost/replica:0/task:0/device:CPU:0"
_RAW_TYPES = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int32, dtypes.uint16,
              dtypes.uint8, dtypes.int16, dtypes.int8, dtypes.int64, dtypes.complex64,
              dtypes.complex128, dtypes.bool, dtypes.bfloat16)
_PADDED_TYPES = _RAW_TYPES[:9] + (dtypes.bfloat16,)


def op_error(cls, message, op, name_suffix=True, node=None):
    """An error of class `cls` worded as TF's CPU kernels word it (`node`: the wrapped
    function's name when TF's differs from the op's, as for ops with list outputs)."""
    return cls(None, None, f"{{{{function_node __wrapped__{node or op.name}_device_{_CPU_NAME}}}}}"
                           f" {message} [Op:{op.name}]" + (" name: " if name_suffix else ""))


def _from_bytes(blob, dtype, little_endian):
    np_type = np.dtype(dtype.as_numpy_dtype)
    a = np.frombuffer(blob, dtype=np_type.newbyteorder("<" if little_endian else ">"))
    return a.astype(np_type)


def _to_torch(a, dtype):
    if dtype is dtypes.bfloat16:
        return torch.from_numpy(a.view(np.uint16).astype(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(np.ascontiguousarray(a))


def _decode_raw_kernel(strings, dtype, little_endian):
    size = dtype.size
    flat = strings.reshape(-1)
    if flat.size == 0:
        return _to_torch(np.zeros(strings.shape + (0,), dtype.as_numpy_dtype), dtype)
    length = len(flat[0])
    for i, s in enumerate(flat):
        if len(s) != length:
            # (TF's text names the first string's size first)
            raise op_error(InvalidArgumentError, "DecodeRaw requires input strings to all be the "
                           f"same size, but element {i} has size {length} != {len(s)}",
                           DECODE_RAW)
    if length % size:
        raise op_error(InvalidArgumentError, f"Input to DecodeRaw has length {length} that is "
                       f"not a multiple of {size}, the size of {_c_name(dtype)}", DECODE_RAW)
    a = _from_bytes(b"".join(flat), dtype, little_endian)
    return _to_torch(a.reshape(strings.shape + (length // size,)), dtype)


def _decode_padded_kernel(strings, dtype, little_endian, fixed_length):
    blob = b"".join(s[:fixed_length].ljust(fixed_length, b"\0") for s in strings.reshape(-1))
    a = _from_bytes(blob, dtype, little_endian)
    return _to_torch(a.reshape(strings.shape + (fixed_length // dtype.size,)), dtype)


def _c_name(dtype):
    return {"float32": "float", "float64": "double", "float16": "half"}.get(dtype.name,
                                                                            dtype.name)


def decode_raw(input_bytes, out_type, little_endian=True, fixed_length=None, name=None):
    """The bytes of each string of `input_bytes` as a vector of `out_type` numbers: the result
    has shape `input_bytes.shape + [len // out_type.size]`. With `fixed_length`, each string is
    cut or zero-padded to that many bytes first (so the strings may differ in length)."""
    x = host_strings(input_bytes, DECODE_RAW)
    dtype = dtypes.as_dtype(out_type)
    op = DECODE_RAW if fixed_length is None else DECODE_PADDED_RAW
    probe = types.SimpleNamespace(_dtype=dtype)  # check_dtype reads only `_dtype`
    if op is DECODE_RAW:
        check_dtype(probe, _RAW_TYPES, op, "out_type", "bytes:string -> output:out_type",
                    ("attr=little_endian:bool,default=true",))
        return execute(op, _decode_raw_kernel, (x,), (dtype, bool(little_endian)))
    check_dtype(probe, _PADDED_TYPES, op, "out_type",
                "input_bytes:string, fixed_length:int32 -> output:out_type",
                ("attr=little_endian:bool,default=true",))
    n = int(fixed_length.numpy() if hasattr(fixed_length, "numpy") else fixed_length)
    if n <= 0:
        raise op_error(InvalidArgumentError, f"fixed_length ({n}) must be greater than zero.",
                       op, name_suffix=False)
    if n % dtype.size:
        raise op_error(InvalidArgumentError, f"fixed_length ({n}) must be a multiple of the "
                       f"size of out_type ({dtype.size})", op, name_suffix=False)
    return execute(op, _decode_padded_kernel, (x,), (dtype, bool(little_endian), n))


# -- base64 -----------------------------------------------------------------------------------

def _map_strings(fn, a):
    out = np.empty(a.shape, dtype=object)
    flat_in, flat_out = a.reshape(-1), out.reshape(-1)
    for i, s in enumerate(flat_in):
        flat_out[i] = fn(s)
    return out


def _encode_base64_kernel(strings, pad):
    def encode(s):
        text = base64.urlsafe_b64encode(s)
        return text if pad else text.rstrip(b"=")
    return _map_strings(encode, strings)


def encode_base64(input, pad=False, name=None):  # noqa: A002 - TF's argument name
    """Web-safe base64 (`-` and `_` for `+` and `/`) of each string; `pad=True` keeps '='."""
    x = host_strings(input, ENCODE_BASE64)
    return execute(ENCODE_BASE64, _encode_base64_kernel, (x,), (bool(pad),))


def _decode_one(s):
    body = s.rstrip(b"=")
    padding = len(s) - len(body)
    # TF accepts a string with its padding or without it, never a wrong amount of it
    if (padding and (len(s) % 4 or padding > 2)) or len(body) % 4 == 1 or \
            not all(c in _WEB_SAFE for c in body):
        raise op_error(InvalidArgumentError, "Invalid character found in base64.",
                       DECODE_BASE64, name_suffix=False)
    try:
        return base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise op_error(InvalidArgumentError, "Invalid character found in base64.",
                       DECODE_BASE64, name_suffix=False) from None


_WEB_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _decode_base64_kernel(strings):
    return _map_strings(_decode_one, strings)


def decode_base64(input, name=None):  # noqa: A002 - TF's argument name
    """Decodes web-safe base64 strings (with or without their '=' padding)."""
    x = host_strings(input, DECODE_BASE64)
    return execute(DECODE_BASE64, _decode_base64_kernel, (x,))


# -- decode_compressed ------------------------------------------------------------------------

def _decompress(s, kind):
    if kind == "":
        return s
    try:
        if kind == "GZIP":
            return gzip.decompress(s)
        return zlib.decompress(s)
    except (zlib.error, OSError, EOFError) as e:
        raise op_error(errors.DataLossError, f"inflate() failed with error -3: {_zlib_reason(e)}",
                       DECODE_COMPRESSED, name_suffix=False) from None


def _zlib_reason(e):
    return str(e).split(": ", 1)[-1]  # zlib's own words, after Python's "Error -3 ...: "


def _decode_compressed_kernel(strings, kind):
    return _map_strings(lambda s: _decompress(s, kind), strings)


def decode_compressed(bytes, compression_type="", name=None):  # noqa: A002 - TF's name
    """Decompresses each string: `compression_type` is "", "ZLIB" or "GZIP"."""
    x = host_strings(bytes, DECODE_COMPRESSED)
    kind = (compression_type or "").upper()
    if kind not in ("", "ZLIB", "GZIP"):
        raise op_error(InvalidArgumentError, "Only ZLIB, ZSTD, GZIP or NONE are supported "
                       "compressions", DECODE_COMPRESSED, name_suffix=False)
    return execute(DECODE_COMPRESSED, _decode_compressed_kernel, (x,), (kind,))


# -- decode_csv -------------------------------------------------------------------------------

_CSV_TYPES = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64, dtypes.string)


def _csv_fields(record, delim, quoted, index, node):
    """The fields of one CSV record: `"..."` fields may hold the delimiter, `""` a quote."""
    if not quoted:
        return record.split(delim)
    fields, i, n = [], 0, len(record)
    while True:
        if i < n and record[i:i + 1] == b'"':
            value, i = bytearray(), i + 1
            while True:
                j = record.find(b'"', i)
                if j < 0:
                    raise op_error(InvalidArgumentError, f"Unquoted fields cannot have quotes/"
                                   f"CRLFs inside (record {index})", DECODE_CSV,
                                   name_suffix=False, node=node)
                value += record[i:j]
                if record[j + 1:j + 2] == b'"':
                    value += b'"'
                    i = j + 2
                    continue
                i = j + 1
                break
            fields.append(bytes(value))
        else:
            j = record.find(delim, i)
            j = n if j < 0 else j
            fields.append(record[i:j])
            i = j
        if i >= n:
            return fields
        i += len(delim)
        if i == n:
            fields.append(b"")
            return fields


def _csv_value(text, dtype, column, index, node):
    try:
        if dtype is dtypes.string:
            return text
        if dtype.is_integer:
            v = int(text)
            if not dtype.min <= v <= dtype.max:
                raise ValueError
            return v
        return float(text)
    except ValueError:
        kind = {"float32": "float", "float64": "double"}.get(dtype.name, dtype.name)
        raise op_error(InvalidArgumentError, f"Field {column} in record {index} is not a valid "
                       f"{kind}: {text.decode('utf-8', 'replace')}", DECODE_CSV,
                       name_suffix=False, node=node) from None


def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, name=None,
               na_value="", select_cols=None):
    """Parses CSV `records` (a string tensor of any shape) into one tensor per column, of the
    dtype of its `record_defaults` entry (a scalar default, or an empty tensor when the
    column is required)."""
    x = host_strings(records, DECODE_CSV)
    defaults = [convert_to_tensor(d) for d in record_defaults]
    for d in defaults:
        if d.dtype not in _CSV_TYPES:
            check_dtype(d, _CSV_TYPES, DECODE_CSV, "OUT_TYPE")
    node = f"DecodeCSV_OUT_TYPE_{len(defaults)}"
    delim = field_delim.encode() if isinstance(field_delim, str) else field_delim
    na = na_value.encode() if isinstance(na_value, str) else na_value
    columns = list(select_cols) if select_cols is not None else None
    flat = x._t.reshape(-1)
    out = [[] for _ in defaults]
    for index, record in enumerate(flat):
        fields = _csv_fields(record, delim, bool(use_quote_delim), index, node)
        if columns is not None:
            fields = [fields[c] if c < len(fields) else b"" for c in columns]
        if len(fields) != len(defaults):
            raise op_error(InvalidArgumentError, f"Expect {len(defaults)} fields but have "
                           f"{len(fields)} in record {index}", DECODE_CSV, name_suffix=False,
                           node=node)
        for column, (text, default) in enumerate(zip(fields, defaults)):
            if text == b"" or (na and text == na):
                if default.shape.num_elements() == 0:
                    raise op_error(InvalidArgumentError, f"Field {column} is required but "
                                   f"missing in record {index}!", DECODE_CSV,
                                   name_suffix=False, node=node)
                out[column].append(default.numpy().reshape(-1)[0])
            else:
                out[column].append(_csv_value(text, default.dtype, column, index, node))
    result = []
    for values, default in zip(out, defaults):
        if default.dtype is dtypes.string:
            a = np.empty(len(values), dtype=object)
            a[:] = values
            result.append(wrap_strings(a.reshape(x._t.shape)))
        else:
            a = np.array(values, dtype=default.dtype.as_numpy_dtype).reshape(x._t.shape)
            result.append(convert_to_tensor(a))
    return result
