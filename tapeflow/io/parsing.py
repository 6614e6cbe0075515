"""Parsing `tf.train.Example` and `SequenceExample` records: `tf.io.parse_example`,
`parse_single_example`, `parse_sequence_example`, `parse_single_sequence_example`, and the
feature configurations `FixedLenFeature`, `VarLenFeature`, `FixedLenSequenceFeature`.

Outputs follow TF: a dict with the sparse features first, then the dense ones, each group in
sorted key order; dense values are float32, int64 or string; errors carry TF's texts ("Name:
<unknown>, Key: a, Index: 0.  Data types don't match. ..."). A VarLenFeature gives a
`tf.SparseTensor` (indices, values, dense_shape).
"""
import collections

import numpy as np
import torch
from google.protobuf.message import DecodeError

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.shape import TensorShape
from tapeflow._core.sparse_tensor import SparseTensor
from tapeflow._core.tensor import convert_to_tensor, wrap, wrap_strings
from tapeflow.io.protos import Example, SequenceExample
from tapeflow.io.raw import op_error
from tapeflow.ops._op import define
from tapeflow.ops.array import reshape
from tapeflow.ops.strings import host_strings

PARSE_EXAMPLE = define("ParseExampleV2", differentiable=False)
PARSE_SEQUENCE_EXAMPLE = define("ParseSequenceExampleV2", differentiable=False)

_KIND_OF = {dtypes.string: "bytes_list", dtypes.float32: "float_list",
            dtypes.int64: "int64_list"}
_TYPE_OF_KIND = {v: k for k, v in _KIND_OF.items()}
_TYPE_NAME = {dtypes.string: "string", dtypes.float32: "float", dtypes.int64: "int64"}
_COUNT_NAME = {dtypes.string: "bytes", dtypes.float32: "float", dtypes.int64: "int64"}


# -- feature configurations -------------------------------------------------------------------

class FixedLenFeature(collections.namedtuple("FixedLenFeature",
                                             ["shape", "dtype", "default_value"])):
    """A feature with `shape` values per example (missing: `default_value`, else an error)."""

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A feature with any number of values per example: parsed into a sparse value."""


class FixedLenSequenceFeature(collections.namedtuple(
        "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])):
    """A feature whose values come in any number of `shape`-sized steps (in a SequenceExample's
    feature lists, or with `allow_missing=True` in an Example's features)."""

    def __new__(cls, shape, dtype, allow_missing=False, default_value=None):
        return super().__new__(cls, shape, dtype, allow_missing, default_value)


def _check_config(key, feature, sequence_ok):
    if not isinstance(feature, (FixedLenFeature, VarLenFeature, FixedLenSequenceFeature)):
        raise ValueError(f"Unsupported feature type for key '{key}': {feature!r}")
    dtype = dtypes.as_dtype(feature.dtype)
    if isinstance(feature, FixedLenFeature) and feature.shape is None:
        raise ValueError(f"Missing shape for feature {key}. Received feature={feature}.")
    if isinstance(feature, FixedLenSequenceFeature) and not sequence_ok and \
            not feature.allow_missing:
        raise ValueError("Unsupported: FixedLenSequenceFeature requires allow_missing to be "
                         "True.")
    if dtype not in _KIND_OF:
        raise InvalidArgumentError(
            None, None, f"Value for attr 'Tdense' of {dtype.name} is not in the list of allowed "
            f"values: float, int64, string [Op:{PARSE_EXAMPLE.name}]")
    return dtype


def _sorted_groups(features):
    sparse = sorted(k for k, f in features.items() if isinstance(f, VarLenFeature))
    dense = sorted(k for k, f in features.items() if not isinstance(f, VarLenFeature))
    return sparse, dense


# -- reading one feature ----------------------------------------------------------------------

class _Context:
    """Where an error happened, for TF's message prefix and function-node name."""

    def __init__(self, op, node, names):
        self.op, self.node, self.names = op, node, names

    def name(self, index):
        if self.names is None:
            return "<unknown>"
        return self.names[index]

    def error(self, message):
        text = f"{{{{function_node __wrapped__{self.node}_device_/job:localhost/replica:0/" \
               f"task:0/device:CPU:0}}}} {message} [Op:{self.op.name}]"
        return InvalidArgumentError(None, None, text)


def _values(feature, key, dtype, ctx, index, sparse=False):
    """The values of one Feature proto as a NumPy array of `dtype` (type-checked; TF words
    the mismatch differently for sparse features)."""
    kind = feature.WhichOneof("kind")
    if kind is None:  # an empty Feature holds no values, of any type
        return np.zeros(0, dtype=object if dtype is dtypes.string else dtype.as_numpy_dtype)
    if kind != _KIND_OF[dtype]:
        found, wanted = _TYPE_NAME[_TYPE_OF_KIND[kind]], _TYPE_NAME[dtype]
        detail = (f"Expected type: {wanted}, Actual type: {found}" if sparse else
                  f"Data type: {found} but expected type: {wanted}")
        raise ctx.error(f"Name: {ctx.name(index)}, Key: {key}, Index: {index}.  Data types "
                        f"don't match. {detail}")
    values = getattr(feature, kind).value
    if dtype is dtypes.string:
        out = np.empty(len(values), dtype=object)
        out[:] = list(values)
        return out
    return np.array(values, dtype=dtype.as_numpy_dtype)


def _shape_text(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def _default(feature, dtype, shape):
    """A FixedLen default as a NumPy array of `shape` (TF reshapes it, with Reshape's error)."""
    value = convert_to_tensor(feature.default_value, dtype=dtype)
    return np.asarray(reshape(value, list(shape)).numpy(), dtype=object if dtype is
                      dtypes.string else dtype.as_numpy_dtype)


def _tensor(array, dtype):
    if dtype is dtypes.string:
        return wrap_strings(array)
    return wrap(torch.from_numpy(np.array(array, dtype=dtype.as_numpy_dtype)))  # keeps 0-d


def _dense(key, feature, dtype, features_list, ctx):
    """The dense batch [batch, *shape] (FixedLen) or [batch, steps, *shape] (FixedLenSequence)
    of one key over a list of Features-map protos (None where a proto is missing entirely)."""
    shape = tuple(TensorShape(feature.shape).as_list())
    size = int(np.prod(shape, dtype=np.int64))
    np_type = object if dtype is dtypes.string else dtype.as_numpy_dtype
    fill = b"" if dtype is dtypes.string else 0
    rows = []
    for i, fmap in enumerate(features_list):
        f = None if fmap is None or key not in fmap else fmap[key]
        if isinstance(feature, FixedLenFeature):
            if f is None:
                if feature.default_value is None:
                    raise ctx.error(f"Name: {ctx.name(i)}, Feature: {key} (data type: "
                                    f"{_TYPE_NAME[dtype]}) is required but could not be found.")
                rows.append(_default(feature, dtype, shape))
                continue
            v = _values(f, key, dtype, ctx, i)
            if v.size != size:
                raise ctx.error(f"Name: {ctx.name(i)}, Key: {key}, Index: {i}.  Number of "
                                f"{_COUNT_NAME[dtype]} values != expected.  Values size: "
                                f"{v.size} but output shape: {_shape_text(shape)}")
            rows.append(v.reshape(shape))
        else:
            v = np.zeros(0, np_type) if f is None else _values(f, key, dtype, ctx, i)
            if size and v.size % size:
                raise ctx.error(f"Name: {ctx.name(i)}, Key: {key}, Index: {i}.  Number of "
                                f"{_COUNT_NAME[dtype]} values is not a multiple of stride "
                                f"length. Saw {v.size} values but output shape is: "
                                f"{_shape_text((-1,) + shape)}")
            rows.append(v.reshape((-1,) + shape) if size else v.reshape((0,) + shape))
    if isinstance(feature, FixedLenFeature):
        out = np.stack(rows) if rows else np.zeros((0,) + shape, np_type)
        return out.astype(np_type)
    steps = max((len(r) for r in rows), default=0)
    pad = fill if feature.default_value is None else feature.default_value
    out = np.full((len(rows), steps) + shape, pad, dtype=np_type)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def _sparse(key, dtype, value_lists, batch_rank):
    """Indices/values/dense_shape of per-example value lists (each a list of 1-D arrays when
    `batch_rank` adds the step dimension of a sequence feature)."""
    indices, values, widths = [], [], []
    for b, entry in enumerate(value_lists):
        if batch_rank == 1:
            for j, v in enumerate(entry):
                indices.append((b, j))
                values.append(v)
            widths.append(len(entry))
        else:
            for s, step in enumerate(entry):
                for j, v in enumerate(step):
                    indices.append((b, s, j))
                    values.append(v)
                widths.append(len(step))
    return indices, values, max(widths, default=0)


def _sparse_tensor(indices, values, dense_shape, dtype, drop_batch):
    rank = len(dense_shape)
    idx = np.array(indices, dtype=np.int64).reshape(-1, rank)
    shape = np.array(dense_shape, dtype=np.int64)
    if drop_batch:
        idx, shape = idx[:, 1:], shape[1:]
    if dtype is dtypes.string:
        vals = np.empty(len(values), dtype=object)
        vals[:] = values
    else:
        vals = np.array(values, dtype=dtype.as_numpy_dtype)
    return SparseTensor(_tensor(idx, dtypes.int64), _tensor(vals, dtype),
                        _tensor(shape, dtypes.int64))


# -- parse_example ----------------------------------------------------------------------------

def _serialized_list(serialized, op):
    x = host_strings(serialized, op)
    if x._t.ndim > 1:
        raise ValueError(f"Shape must be at most rank 1 but is rank {x._t.ndim}")
    return x._t.reshape(-1).tolist(), x._t.ndim == 0


def _parse_protos(records, cls, ctx):
    out = []
    for i, data in enumerate(records):
        proto = cls()
        try:
            proto.ParseFromString(data)
        except DecodeError:
            shown = data.decode("latin-1").encode("unicode_escape").decode("ascii")
            raise ctx.error(f"Could not parse example input, value: '{shown}'") from None
        out.append(proto)
    return out


def _names(example_names, n):
    if example_names is None:
        return None
    names = np.asarray(convert_to_tensor(example_names, dtype=dtypes.string).numpy()).reshape(-1)
    return [v.decode() if isinstance(v, bytes) else str(v) for v in names][:n] or None


def parse_example(serialized, features, example_names=None, name=None):
    """Parses a batch of serialized `tf.train.Example`s into a dict of tensors (dense
    features [batch, *shape]; VarLenFeatures as sparse values [batch, max_count])."""
    if not features:
        raise ValueError(f"Argument `features` cannot be None or falsy. Got {features}")
    records, scalar = _serialized_list(serialized, PARSE_EXAMPLE)
    return _parse_examples(records, features, example_names, drop_batch=scalar)


def parse_single_example(serialized, features, example_names=None, name=None):
    """Parses one serialized `tf.train.Example` (a scalar string) into a dict of tensors."""
    if not features:
        raise ValueError(f"Argument `features` cannot be None or falsy. Got {features}")
    x = host_strings(serialized, PARSE_EXAMPLE)
    if x._t.ndim != 0:
        raise ValueError("Input serialized must be a scalar")
    return _parse_examples([x._t.item()], features, example_names, drop_batch=True)


def _parse_examples(records, features, example_names, drop_batch):
    types = {k: _check_config(k, f, sequence_ok=False) for k, f in features.items()}
    sparse_keys, dense_keys = _sorted_groups(features)
    node = (f"ParseExampleV2_Tdense_{len(dense_keys)}_num_sparse_{len(sparse_keys)}_ragged_"
            f"split_types_0_ragged_value_types_0_sparse_types_{len(sparse_keys)}")
    ctx = _Context(PARSE_EXAMPLE, node, _names(example_names, len(records)))
    maps = [p.features.feature for p in _parse_protos(records, Example, ctx)]
    result = {}
    for key in sparse_keys:
        dtype = types[key]
        lists = [_values(m[key], key, dtype, ctx, i, True) if key in m else [] for i, m in
                 enumerate(maps)]
        indices, values, width = _sparse(key, dtype, lists, 1)
        result[key] = _sparse_tensor(indices, values, (len(maps), width), dtype, drop_batch)
    for key in dense_keys:
        out = _dense(key, features[key], types[key], maps, ctx)
        result[key] = _tensor(out[0] if drop_batch else out, types[key])
    return result


# -- parse_sequence_example -------------------------------------------------------------------

def parse_sequence_example(serialized, context_features=None, sequence_features=None,
                           example_names=None, name=None):
    """Parses a batch of serialized `tf.train.SequenceExample`s: returns (context dict,
    feature-list dict, lengths dict of the dense feature lists)."""
    records, scalar = _serialized_list(serialized, PARSE_SEQUENCE_EXAMPLE)
    return _parse_sequences(records, context_features or {}, sequence_features or {},
                            example_names, drop_batch=scalar)


def parse_single_sequence_example(serialized, context_features=None, sequence_features=None,
                                  example_name=None, name=None):
    """Parses one serialized `tf.train.SequenceExample`: returns (context dict, feature-list
    dict)."""
    x = host_strings(serialized, PARSE_SEQUENCE_EXAMPLE)
    if x._t.ndim != 0:
        raise ValueError("Input serialized must be a scalar")
    context, lists, _ = _parse_sequences([x._t.item()], context_features or {},
                                         sequence_features or {}, example_name,
                                         drop_batch=True)
    return context, lists


def _parse_sequences(records, context_features, sequence_features, example_names, drop_batch):
    if not context_features and not sequence_features:
        raise ValueError("Got empty context_features and sequence_features")
    for key, f in sequence_features.items():
        if isinstance(f, FixedLenFeature):
            raise ValueError(f"Unsupported FixedLenFeature {f} for key '{key}'")
    ctypes = {k: _check_config(k, f, False) for k, f in context_features.items()}
    stypes = {k: _check_config(k, f, True) for k, f in sequence_features.items()}
    c_sparse, c_dense = _sorted_groups(context_features)
    s_sparse, s_dense = _sorted_groups(sequence_features)
    node = (f"ParseSequenceExampleV2_Ncontext_sparse_{len(c_sparse)}_Nfeature_list_dense_"
            f"{len(s_dense)}_Nfeature_list_sparse_{len(s_sparse)}_Tcontext_dense_{len(c_dense)}"
            "_context_ragged_split_types_0_context_ragged_value_types_0_context_sparse_types_"
            f"{len(c_sparse)}_feature_list_dense_types_{len(s_dense)}_feature_list_ragged_split"
            f"_types_0_feature_list_ragged_value_types_0_feature_list_sparse_types_"
            f"{len(s_sparse)}")
    ctx = _Context(PARSE_SEQUENCE_EXAMPLE, node, _names(example_names, len(records)))
    protos = _parse_protos(records, SequenceExample, ctx)
    context_maps = [p.context.feature for p in protos]
    list_maps = [p.feature_lists.feature_list for p in protos]

    context = {}
    for key in c_sparse:
        dtype = ctypes[key]
        lists = [_values(m[key], key, dtype, ctx, i, True) if key in m else [] for i, m in
                 enumerate(context_maps)]
        indices, values, width = _sparse(key, dtype, lists, 1)
        context[key] = _sparse_tensor(indices, values, (len(protos), width), dtype, drop_batch)
    for key in c_dense:
        out = _dense(key, context_features[key], ctypes[key], context_maps, ctx)
        context[key] = _tensor(out[0] if drop_batch else out, ctypes[key])

    lists_out, lengths = {}, {}
    for key in s_sparse:
        dtype = stypes[key]
        steps = [[_values(f, key, dtype, ctx, i, True) for f in m[key].feature] if key in m
                  else []
                 for i, m in enumerate(list_maps)]
        indices, values, width = _sparse(key, dtype, steps, 2)
        n_steps = max((len(s) for s in steps), default=0)
        lists_out[key] = _sparse_tensor(indices, values, (len(protos), n_steps, width), dtype,
                                        drop_batch)
    for key in s_dense:
        feature, dtype = sequence_features[key], stypes[key]
        shape = tuple(TensorShape(feature.shape).as_list())
        size = int(np.prod(shape, dtype=np.int64))
        np_type = object if dtype is dtypes.string else dtype.as_numpy_dtype
        per_example = []
        for i, m in enumerate(list_maps):
            if key not in m:
                if not feature.allow_missing:
                    raise ctx.error(
                        f"Name: {ctx.name(i)}, Feature list '{key}' is required but could not "
                        "be found.  Did you mean to include it in "
                        "feature_list_dense_missing_assumed_empty or "
                        "feature_list_dense_defaults?")
                per_example.append(np.zeros((0,) + shape, np_type))
                continue
            rows = []
            for f in m[key].feature:
                v = _values(f, key, dtype, ctx, i)
                if v.size != size:
                    raise ctx.error(f"Name: {ctx.name(i)}, Key: {key}, Index: {i}.  Number of "
                                    f"values != expected.  values size: {v.size} but output "
                                    f"shape: {_shape_text(shape)}")
                rows.append(v.reshape(shape))
            per_example.append(np.stack(rows).astype(np_type) if rows else
                               np.zeros((0,) + shape, np_type))
        n_steps = max((len(r) for r in per_example), default=0)
        pad = (b"" if dtype is dtypes.string else 0) if feature.default_value is None else \
            feature.default_value
        out = np.full((len(protos), n_steps) + shape, pad, dtype=np_type)
        for i, r in enumerate(per_example):
            out[i, :len(r)] = r
        lists_out[key] = _tensor(out[0] if drop_batch else out, dtype)
        lengths[key] = _tensor(np.array([len(r) for r in per_example], dtype=np.int64),
                               dtypes.int64)
    return context, lists_out, lengths
