"""`tf.io`: files, TFRecords, Example parsing and tensor codecs. This file only re-exports; the
logic lives in the modules beside it (file_io, tfrecord, parsing, tensor_proto, raw, protos)
and, for the image codecs, in tapeflow/ops/image_codec.py."""
from tapeflow.io import gfile  # noqa: F401
from tapeflow.io.file_io import read_file, write_file  # noqa: F401
from tapeflow.io.parsing import (FixedLenFeature, FixedLenSequenceFeature,  # noqa: F401
                                 VarLenFeature, parse_example, parse_sequence_example,
                                 parse_single_example, parse_single_sequence_example)
from tapeflow.io.raw import (decode_base64, decode_compressed, decode_csv, decode_raw,  # noqa: F401
                             encode_base64)
from tapeflow.io.tensor_proto import parse_tensor, serialize_tensor  # noqa: F401
from tapeflow.io.tfrecord import (TFRecordCompressionType, TFRecordOptions,  # noqa: F401
                                  TFRecordWriter)
from tapeflow.ops.image_codec import (decode_bmp, decode_gif, decode_image,  # noqa: F401,E402
                                      decode_jpeg, decode_png, encode_jpeg, encode_png,
                                      extract_jpeg_shape, is_jpeg)
