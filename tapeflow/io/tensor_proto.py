"""`tf.io.serialize_tensor` and `tf.io.parse_tensor`: a tensor as the bytes of TF's
`TensorProto`, bit for bit what TensorFlow writes (numbers go to `tensor_content` in
little-endian order, strings to `string_val`), and back from any valid TensorProto, including
the `*_val` forms TF's Python writes for scalars and broadcast fills (the last value repeats).
"""
import numpy as np
import torch
from google.protobuf.message import DecodeError

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.io.protos import TensorProto
from tapeflow.io.raw import op_error
from tapeflow.ops._op import define, execute, tf_type_name
from tapeflow.ops.strings import host_strings

SERIALIZE_TENSOR = define("SerializeTensor", differentiable=False)
PARSE_TENSOR = define("ParseTensor", differentiable=False)

_BY_ENUM = {d.as_datatype_enum: d for d in dtypes.ALL}
# where a TensorProto keeps the values of each dtype when not in tensor_content
_VALUE_FIELDS = {dtypes.float32: "float_val", dtypes.float64: "double_val",
                 dtypes.int32: "int_val", dtypes.int16: "int_val", dtypes.int8: "int_val",
                 dtypes.uint8: "int_val", dtypes.uint16: "int_val", dtypes.int64: "int64_val",
                 dtypes.uint32: "uint32_val", dtypes.uint64: "uint64_val",
                 dtypes.bool: "bool_val", dtypes.string: "string_val",
                 dtypes.complex64: "scomplex_val", dtypes.complex128: "dcomplex_val",
                 dtypes.float16: "half_val", dtypes.bfloat16: "half_val"}


def host_array(t, dtype):
    """A (CPU, NumPy) copy of a tensor's values; bfloat16 as its uint16 bit patterns."""
    if dtype is dtypes.string:
        return t
    t = t.detach().cpu()
    if dtype is dtypes.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16)
    return t.numpy()


def tensor_to_proto(t, dtype):
    """A TensorProto of a tensor's torch (or string object) array, as TF writes it."""
    proto = TensorProto(dtype=dtype.as_datatype_enum)
    proto.tensor_shape.SetInParent()  # TF writes the (empty) shape of a scalar too
    for d in t.shape:
        proto.tensor_shape.dim.add(size=d)
    a = host_array(t, dtype)
    if dtype is dtypes.string:
        proto.string_val.extend(a.reshape(-1).tolist())
    elif a.size:
        proto.tensor_content = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
    return proto


def _serialize_kernel(t, dtype):
    return np.array(tensor_to_proto(t, dtype).SerializeToString(), dtype=object)


def serialize_tensor(tensor, name=None):
    """The bytes of `tensor` as a TensorProto (a scalar string tensor)."""
    x = convert_to_tensor(tensor)
    return execute(SERIALIZE_TENSOR, _serialize_kernel, (x,), (x._dtype,))


def proto_to_array(proto):
    """(NumPy array, dtype) of a TensorProto; ValueError when it is not a valid tensor."""
    dtype = _BY_ENUM.get(proto.dtype)
    if dtype is None:
        raise ValueError("unsupported dtype")
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    if any(d < 0 for d in shape):
        raise ValueError("negative dimension")
    n = int(np.prod(shape, dtype=np.int64))
    if dtype is dtypes.string:
        values = list(proto.string_val)
        return _filled(np.array(values + [b""] * (not values), dtype=object), n, shape), dtype
    np_type = np.dtype(np.uint16 if dtype is dtypes.bfloat16 else dtype.as_numpy_dtype)
    if proto.tensor_content:
        if len(proto.tensor_content) != n * np_type.itemsize:
            raise ValueError("tensor_content has the wrong size")
        a = np.frombuffer(proto.tensor_content, np_type.newbyteorder("<")).astype(np_type)
        return a.reshape(shape), dtype
    values = getattr(proto, _VALUE_FIELDS[dtype])
    if dtype.is_complex:
        pairs = np.array(values, dtype=np.float64).reshape(-1, 2)
        a = (pairs[:, 0] + 1j * pairs[:, 1]).astype(np_type)
    elif dtype in (dtypes.float16, dtypes.bfloat16):
        a = np.array(values, dtype=np.int64).astype(np.uint16)
        a = a.view(np.float16) if dtype is dtypes.float16 else a
    else:
        a = np.array(values).astype(np_type)
    if a.size == 0:
        a = np.zeros(1, np_type)
    return _filled(a, n, shape), dtype


def _filled(a, n, shape):
    """TF's rule for *_val fields: fewer values than elements repeat the last one."""
    if a.size > n and n:
        raise ValueError("too many values")
    if a.size < n:
        a = np.concatenate([a, np.repeat(a[-1:], n - a.size)])
    return a[:n].reshape(shape)


def array_to_torch(a, dtype):
    if dtype is dtypes.bfloat16:
        return torch.from_numpy(a.astype(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(np.array(a))


def _parse_kernel(serialized, dtype):
    proto = TensorProto()
    try:
        proto.ParseFromString(serialized.item())
        a, parsed = proto_to_array(proto)
    except (DecodeError, ValueError):
        raise op_error(InvalidArgumentError, f"Cannot parse tensor from proto: {proto}",
                       PARSE_TENSOR, name_suffix=False) from None
    if parsed is not dtype:
        raise op_error(InvalidArgumentError, "Type mismatch between parsed tensor "
                       f"({tf_type_name(parsed)}) and dtype ({tf_type_name(dtype)})",
                       PARSE_TENSOR)
    return a if dtype is dtypes.string else array_to_torch(a, dtype)


def parse_tensor(serialized, out_type, name=None):
    """The tensor of type `out_type` whose TensorProto bytes are `serialized`."""
    x = host_strings(serialized, PARSE_TENSOR)
    if x._t.ndim:
        raise op_error(InvalidArgumentError, "Expected `serialized` to be a scalar, got shape: "
                       f"[{','.join(str(d) for d in x._t.shape)}]", PARSE_TENSOR,
                       name_suffix=False)
    return execute(PARSE_TENSOR, _parse_kernel, (x,), (dtypes.as_dtype(out_type),))
