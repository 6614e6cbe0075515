"""The protobuf messages of TensorFlow's event files, built in code with the `protobuf` package.

Event files hold `Event` messages (event.proto) carrying a `Summary` (summary.proto) of
`TensorProto`s (tensor.proto), or a `GraphDef` (graph.proto) for TensorBoard's Graphs tab. We
declare just the fields tapeflow writes, with TensorFlow's field numbers and wire types, in a
private descriptor pool: the bytes are TensorFlow's, nothing depends on the `tensorboard` or
`tensorflow` packages, and no name can clash with their own registered descriptors. Enums are
declared as int32 fields (the same varint on the wire). Built on first use, so that
`import tapeflow` does not pay for it (or need protobuf) when no summary is written.
"""
import functools

# TensorFlow's DataType enum values (types.proto), by tapeflow dtype name.
DATA_TYPES = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
              "string": 7, "complex64": 8, "int64": 9, "bool": 10, "bfloat16": 14,
              "uint16": 17, "complex128": 18, "float16": 19, "resource": 20, "uint32": 22,
              "uint64": 23}

_OPT, _REP = 1, 3  # FieldDescriptorProto labels
_TYPES = {"double": 1, "float": 2, "int64": 3, "int32": 5, "bool": 8, "string": 9,
          "bytes": 12}
_MESSAGE = 11

# message -> [(field, number, repeated, type or message name, oneof)], in TF's numbering.
_MESSAGES = {
    "TensorShapeProto.Dim": [("size", 1, False, "int64"), ("name", 2, False, "string")],
    "TensorShapeProto": [("dim", 2, True, "TensorShapeProto.Dim"),
                         ("unknown_rank", 3, False, "bool")],
    "TensorProto": [("dtype", 1, False, "int32"),
                    ("tensor_shape", 2, False, "TensorShapeProto"),
                    ("version_number", 3, False, "int32"),
                    ("tensor_content", 4, False, "bytes"),
                    ("float_val", 5, True, "float"), ("double_val", 6, True, "double"),
                    ("int_val", 7, True, "int32"), ("string_val", 8, True, "bytes"),
                    ("int64_val", 10, True, "int64"), ("bool_val", 11, True, "bool")],
    "SummaryMetadata.PluginData": [("plugin_name", 1, False, "string"),
                                   ("content", 2, False, "bytes")],
    "SummaryMetadata": [("plugin_data", 1, False, "SummaryMetadata.PluginData"),
                        ("display_name", 2, False, "string"),
                        ("summary_description", 3, False, "string"),
                        ("data_class", 4, False, "int32")],
    "Summary.Value": [("tag", 1, False, "string"), ("simple_value", 2, False, "float"),
                      ("node_name", 7, False, "string"), ("tensor", 8, False, "TensorProto"),
                      ("metadata", 9, False, "SummaryMetadata")],
    "Summary": [("value", 1, True, "Summary.Value")],
    "SourceMetadata": [("writer", 1, False, "string")],
    "Event": [("wall_time", 1, False, "double"), ("step", 2, False, "int64"),
              ("file_version", 3, False, "string"), ("graph_def", 4, False, "bytes"),
              ("summary", 5, False, "Summary"), ("source_metadata", 10, False, "SourceMetadata")],
    # AttrValue's fields are a oneof in attr_value.proto: `i: 0` or `b: false` must still be
    # written (proto3 drops zero scalars outside a oneof)
    "AttrValue.ListValue": [("s", 2, True, "bytes"), ("i", 3, True, "int64"),
                            ("f", 4, True, "float"), ("b", 5, True, "bool"),
                            ("type", 6, True, "int32"), ("shape", 7, True, "TensorShapeProto")],
    "AttrValue": [("list", 1, False, "AttrValue.ListValue", "value"),
                  ("s", 2, False, "bytes", "value"), ("i", 3, False, "int64", "value"),
                  ("f", 4, False, "float", "value"), ("b", 5, False, "bool", "value"),
                  ("type", 6, False, "int32", "value"),
                  ("shape", 7, False, "TensorShapeProto", "value"),
                  ("tensor", 8, False, "TensorProto", "value")],
    # `map<string, AttrValue> attr` is on the wire a repeated (key, value) entry message
    "NodeDef.AttrEntry": [("key", 1, False, "string"), ("value", 2, False, "AttrValue")],
    "NodeDef": [("name", 1, False, "string"), ("op", 2, False, "string"),
                ("input", 3, True, "string"), ("device", 4, False, "string"),
                ("attr", 5, True, "NodeDef.AttrEntry")],
    "GraphDef": [("node", 1, True, "NodeDef")],
    "RunMetadata.FunctionGraphs": [("partition_graphs", 1, True, "GraphDef"),
                                   ("pre_optimization_graph", 2, False, "GraphDef"),
                                   ("post_optimization_graph", 3, False, "GraphDef")],
    "RunMetadata": [("partition_graphs", 3, True, "GraphDef"),
                    ("function_graphs", 4, True, "RunMetadata.FunctionGraphs")],
}


def _flat(name):
    return name.replace(".", "_")


class _Classes:
    """Attribute access to the message classes: `protos().Event(...)`."""

    def __init__(self, classes):
        for name, cls in classes.items():
            setattr(self, _flat(name), cls)


@functools.cache
def protos():
    """The message classes (built once). Raises ImportError without the protobuf package."""
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError:
        raise ImportError("tf.summary writes event files with the `protobuf` package, which "
                          "is not installed. Install it with `pip install protobuf`.") from None
    file = descriptor_pb2.FileDescriptorProto(name="tapeflow/summary/events.proto",
                                              package="tensorflow", syntax="proto3")
    for message, fields in _MESSAGES.items():
        # nested messages become top-level ones with flat names: the wire format has no
        # notion of nesting
        m = file.message_type.add(name=_flat(message))
        oneofs = []
        for field, number, repeated, kind, *oneof in fields:
            f = m.field.add(name=field, number=number, label=_REP if repeated else _OPT)
            if kind in _TYPES:
                f.type = _TYPES[kind]
            else:
                f.type, f.type_name = _MESSAGE, ".tensorflow." + _flat(kind)
            if oneof:
                if oneof[0] not in oneofs:
                    oneofs.append(oneof[0])
                    m.oneof_decl.add(name=oneof[0])
                f.oneof_index = oneofs.index(oneof[0])
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(file.SerializeToString())
    pool_file = pool.FindFileByName(file.name)
    return _Classes({name: message_factory.GetMessageClass(
        pool_file.message_types_by_name[_flat(name)]) for name in _MESSAGES})
