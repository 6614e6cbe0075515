"""`tf.dtypes`: the DType objects and `as_dtype`."""
from tapeflow._core.dtypes import (DType, as_dtype, bfloat16, bool, complex64, complex128,  # noqa: F401,A004
                                   double, float16, float32, float64, half, int8, int16, int32,
                                   int64, string, uint8, uint16, uint32, uint64)


def __getattr__(name):
    # tf.dtypes.saturate_cast is an op (tapeflow/ops/image_color.py): found when first asked
    # for, since this package loads before the ops do
    if name == "saturate_cast":
        from tapeflow.ops.image_color import saturate_cast
        return saturate_cast
    raise AttributeError(f"module 'tapeflow.dtypes' has no attribute {name!r}")
