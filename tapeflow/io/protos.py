"""TensorFlow's protocol buffer messages that tf.io reads and writes: `tf.train.Example` and
its parts (`tensorflow/core/example/{feature,example}.proto`) and `TensorProto` with
`TensorShapeProto` and the `DataType` enum (`tensorflow/core/framework/*.proto`).

The descriptors are built here in code with `descriptor_pb2` (the same package, message and
field names, numbers and types as TF's .proto files, so the wire bytes and the text format are
TF's) into a pool of tapeflow's own, so the classes coexist with real TensorFlow's when both
are imported in one process; no protoc is needed.
"""
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
_OPTIONAL, _REPEATED = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
_TYPES = {"bytes": _F.TYPE_BYTES, "string": _F.TYPE_STRING, "float": _F.TYPE_FLOAT,
          "double": _F.TYPE_DOUBLE, "int32": _F.TYPE_INT32, "int64": _F.TYPE_INT64,
          "uint32": _F.TYPE_UINT32, "uint64": _F.TYPE_UINT64, "bool": _F.TYPE_BOOL}

# TF's DataType enum (tensorflow/core/framework/types.proto), with its _REF twins at +100.
_DATA_TYPES = ("INVALID FLOAT DOUBLE INT32 UINT8 INT16 INT8 STRING COMPLEX64 INT64 BOOL QINT8 "
               "QUINT8 QINT32 BFLOAT16 QINT16 QUINT16 UINT16 COMPLEX128 HALF RESOURCE VARIANT "
               "UINT32 UINT64 FLOAT8_E5M2 FLOAT8_E4M3FN FLOAT8_E4M3FNUZ FLOAT8_E4M3B11FNUZ "
               "FLOAT8_E5M2FNUZ INT4 UINT4 INT2 UINT2 FLOAT4_E2M1FN").split()


def _field(message, name, number, kind, repeated=False, oneof=None):
    """Adds a field; `kind` is a scalar type name or a message/enum's full name (".pkg.Name")."""
    f = message.field.add(name=name, number=number,
                          label=_REPEATED if repeated else _OPTIONAL, json_name=_camel(name))
    if kind in _TYPES:
        f.type = _TYPES[kind]
    else:
        f.type = _F.TYPE_ENUM if kind.endswith("DataType") else _F.TYPE_MESSAGE
        f.type_name = kind
    if oneof is not None:
        f.oneof_index = oneof
    return f


def _camel(name):
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _map(message, name, number, value_type):
    """A `map<string, value_type>` field: a nested *Entry message marked map_entry, as protoc
    writes it."""
    entry = message.nested_type.add(name=_camel(name)[0].upper() + _camel(name)[1:] + "Entry")
    entry.options.map_entry = True
    _field(entry, "key", 1, "string")
    _field(entry, "value", 2, value_type)
    _field(message, name, number, f".{message_full_name(message)}.{entry.name}", repeated=True)


def message_full_name(message):
    return "tensorflow." + message.name


def _feature_file():
    f = descriptor_pb2.FileDescriptorProto(name="tensorflow/core/example/feature.proto",
                                           package="tensorflow", syntax="proto3")
    for name, kind in (("BytesList", "bytes"), ("FloatList", "float"), ("Int64List", "int64")):
        _field(f.message_type.add(name=name), "value", 1, kind, repeated=True)
    feature = f.message_type.add(name="Feature")
    feature.oneof_decl.add(name="kind")
    for i, (name, kind) in enumerate((("bytes_list", "BytesList"), ("float_list", "FloatList"),
                                      ("int64_list", "Int64List"))):
        _field(feature, name, i + 1, ".tensorflow." + kind, oneof=0)
    _map(f.message_type.add(name="Features"), "feature", 1, ".tensorflow.Feature")
    _field(f.message_type.add(name="FeatureList"), "feature", 1, ".tensorflow.Feature",
           repeated=True)
    _map(f.message_type.add(name="FeatureLists"), "feature_list", 1, ".tensorflow.FeatureList")
    return f


def _example_file():
    f = descriptor_pb2.FileDescriptorProto(name="tensorflow/core/example/example.proto",
                                           package="tensorflow", syntax="proto3",
                                           dependency=["tensorflow/core/example/feature.proto"])
    _field(f.message_type.add(name="Example"), "features", 1, ".tensorflow.Features")
    sequence = f.message_type.add(name="SequenceExample")
    _field(sequence, "context", 1, ".tensorflow.Features")
    _field(sequence, "feature_lists", 2, ".tensorflow.FeatureLists")
    return f


def _tensor_file():
    f = descriptor_pb2.FileDescriptorProto(name="tensorflow/core/framework/tensor.proto",
                                           package="tensorflow", syntax="proto3")
    enum = f.enum_type.add(name="DataType")
    for i, name in enumerate(_DATA_TYPES):
        enum.value.add(name="DT_" + name, number=i)
    for i, name in enumerate(_DATA_TYPES[1:]):
        enum.value.add(name=f"DT_{name}_REF", number=101 + i)
    shape = f.message_type.add(name="TensorShapeProto")
    dim = shape.nested_type.add(name="Dim")
    _field(dim, "size", 1, "int64")
    _field(dim, "name", 2, "string")
    _field(shape, "dim", 2, ".tensorflow.TensorShapeProto.Dim", repeated=True)
    _field(shape, "unknown_rank", 3, "bool")
    tensor = f.message_type.add(name="TensorProto")
    for name, number, kind, repeated in (
            ("dtype", 1, ".tensorflow.DataType", False),
            ("tensor_shape", 2, ".tensorflow.TensorShapeProto", False),
            ("version_number", 3, "int32", False), ("tensor_content", 4, "bytes", False),
            ("half_val", 13, "int32", True), ("float_val", 5, "float", True),
            ("double_val", 6, "double", True), ("int_val", 7, "int32", True),
            ("string_val", 8, "bytes", True), ("scomplex_val", 9, "float", True),
            ("int64_val", 10, "int64", True), ("bool_val", 11, "bool", True),
            ("dcomplex_val", 12, "double", True), ("uint32_val", 16, "uint32", True),
            ("uint64_val", 17, "uint64", True), ("float8_val", 18, "bytes", False)):
        _field(tensor, name, number, kind, repeated)
    return f


_pool = descriptor_pool.DescriptorPool()
for _file in (_feature_file(), _example_file(), _tensor_file()):
    _pool.Add(_file)


def _message(name):
    cls = message_factory.GetMessageClass(_pool.FindMessageTypeByName("tensorflow." + name))
    cls.__module__ = __name__  # so the messages pickle and show where they come from
    return cls


BytesList = _message("BytesList")
FloatList = _message("FloatList")
Int64List = _message("Int64List")
Feature = _message("Feature")
Features = _message("Features")
FeatureList = _message("FeatureList")
FeatureLists = _message("FeatureLists")
Example = _message("Example")
SequenceExample = _message("SequenceExample")
TensorShapeProto = _message("TensorShapeProto")
TensorProto = _message("TensorProto")
DataType = _pool.FindEnumTypeByName("tensorflow.DataType")
