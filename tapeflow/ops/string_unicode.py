"""The string ops that give `tf.RaggedTensor`s, above ragged_tensor.py: `tf.strings.split`,
`unicode_decode`, `unicode_split`, `unicode_encode`, `bytes_split`. A scalar string gives a 1-D tensor; a vector of strings a `tf.RaggedTensor` with
a row per string (higher ranks raise NotImplementedError).
Invalid input bytes follow `errors` ('replace' with `replacement_char`, 'ignore', 'strict').
"""
import codecs

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops._op import define, execute
from tapeflow.ops.strings import _bytes, _err, _strings
from tapeflow.ops.ragged_tensor import RaggedTensor

UNICODE_DECODE = define("UnicodeDecode", differentiable=False)
UNICODE_ENCODE = define("UnicodeEncode", differentiable=False)
BYTES_SPLIT = define("StringSplitBytes", differentiable=False)
SPLIT = define("StringSplitV2", differentiable=False)


def _codec(encoding, op):
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise _err(f"Could not create converter for input encoding: {encoding}", op) from None


def _decode_text(b, codec, errors, replacement_char):
    if errors == "strict":
        try:
            return [ord(c) for c in b.decode(codec)]
        except UnicodeDecodeError:
            raise _err("Invalid formatting on input string", UNICODE_DECODE) from None
    text = b.decode(codec, "surrogateescape")
    out = []
    for c in text:
        if 0xDC80 <= ord(c) <= 0xDCFF:  # an undecodable byte
            if errors == "replace":
                out.append(replacement_char)
        else:
            out.append(ord(c))
    return out


def _rows(x, what, one, dtype):
    """TF's result for a vector of strings: a RaggedTensor of `one(string)` per string."""
    if x.ndim > 1:
        raise NotImplementedError(
            f"tf.strings.{what} of a tensor of rank {x.ndim} (a RaggedTensor of ragged rank "
            "> 1) is not supported yet; call it on a vector at a time.")
    rows = [one(x[i]).numpy() for i in range(x.shape[0])]
    values = np.concatenate(rows) if rows else np.zeros(0, dtype.as_numpy_dtype)
    return RaggedTensor.from_row_lengths(convert_to_tensor(values.astype(
        dtype.as_numpy_dtype)), [len(r) for r in rows], validate=False)


def _decode_kernel(a, codec, errors, replacement_char):
    return torch.tensor(_decode_text(a[()], codec, errors, replacement_char), dtype=torch.int32)


def unicode_decode(input, input_encoding, errors="replace", replacement_char=65533,  # noqa: A002
                   replace_control_characters=False, name=None):
    """The code points of a string, as a 1-D int32 tensor (a RaggedTensor for a vector)."""
    x = _strings(input, UNICODE_DECODE)
    if x.ndim:
        return _rows(x, "unicode_decode", lambda s: unicode_decode(
            s, input_encoding, errors, replacement_char), dtypes.int32)
    codec = _codec(input_encoding, UNICODE_DECODE)
    return execute(UNICODE_DECODE, _decode_kernel, (x,), (codec, errors, int(replacement_char)))


def _unicode_split_kernel(a, codec, errors, replacement_char):
    points = _decode_text(a[()], codec, errors, replacement_char)
    out = np.empty(len(points), dtype=object)
    out[:] = [chr(p).encode(codec, "surrogatepass") for p in points]
    return out


def unicode_split(input, input_encoding, errors="replace", replacement_char=65533,  # noqa: A002
                  name=None):
    """The characters of a string, as a 1-D string tensor (a RaggedTensor for a vector)."""
    x = _strings(input, UNICODE_DECODE)
    if x.ndim:
        return _rows(x, "unicode_split", lambda s: unicode_split(
            s, input_encoding, errors, replacement_char), dtypes.string)
    codec = _codec(input_encoding, UNICODE_DECODE)
    return execute(UNICODE_DECODE, _unicode_split_kernel, (x,),
                   (codec, errors, int(replacement_char)))


def _bytes_split_kernel(a):
    b = a[()]
    out = np.empty(len(b), dtype=object)
    out[:] = [b[i:i + 1] for i in range(len(b))]
    return out


def bytes_split(input, name=None):  # noqa: A002
    """The bytes of a string, as a 1-D string tensor (a RaggedTensor for a vector)."""
    x = _strings(input, BYTES_SPLIT)
    if x.ndim:
        return _rows(x, "bytes_split", bytes_split, dtypes.string)
    return execute(BYTES_SPLIT, _bytes_split_kernel, (x,))


def _encode_kernel(t, codec, errors, replacement_char):
    out = np.empty(tuple(t.shape[:-1]), dtype=object)
    rows = t.reshape(out.size, t.shape[-1]).tolist()
    flat = out.reshape(-1)
    for i, row in enumerate(rows):
        chars = []
        for p in row:
            if 0 <= p <= 0x10FFFF and not 0xD800 <= p <= 0xDFFF:
                chars.append(chr(p))
            elif errors == "replace":
                chars.append(chr(replacement_char))
            elif errors == "strict":
                raise _err(f"Invalid code point {p}", UNICODE_ENCODE)
        flat[i] = "".join(chars).encode(codec)
    return out


def unicode_encode(input, output_encoding, errors="replace", replacement_char=65533,  # noqa: A002
                   name=None):
    """Encodes code points (int32, the last axis making one string) into strings."""
    x = convert_to_tensor(input, dtype_hint=dtypes.int32)
    if x.ndim == 0:
        raise ValueError("input_tensor's rank must be at least 1.")
    codec = _codec(output_encoding, UNICODE_ENCODE)
    return execute(UNICODE_ENCODE, _encode_kernel, (x,), (codec, errors, int(replacement_char)))


def _split_kernel(a, sep, maxsplit):
    parts = a[()].split(sep, maxsplit) if sep else a[()].split(None, maxsplit)
    out = np.empty(len(parts), dtype=object)
    out[:] = parts
    return out


def split(input, sep=None, maxsplit=-1, name=None):  # noqa: A002
    """Splits strings on `sep` (on runs of whitespace when `sep` is None or empty): a scalar
    into a 1-D string tensor, a vector into a `tf.RaggedTensor` with a row per string."""
    x = _strings(input, SPLIT)
    attrs = (_bytes(sep) if sep else b"", int(maxsplit))
    if x.ndim == 0:
        return execute(SPLIT, _split_kernel, (x,), attrs)
    if x.ndim > 1:
        raise NotImplementedError(f"tf.strings.split of a tensor of rank {x.ndim} (a "
                                  "RaggedTensor of ragged rank > 1) is not supported yet; "
                                  "split a vector at a time.")
    rows = [_split_kernel(np.asarray(v, dtype=object), *attrs) for v in x.numpy()]
    values = np.concatenate(rows) if rows else np.zeros(0, dtype=object)
    return RaggedTensor.from_row_lengths(convert_to_tensor(values.astype(object)),
                                         [len(r) for r in rows], validate=False)
