"""Host-side encodings of summary data, as TensorFlow and TensorBoard compute them.

Summary kernels run on NumPy copies of their inputs: `tensor_proto` (a `TensorProto` as TF's
`AsProtoTensorContent` writes it), `histogram_buckets` (TensorBoard's `[k, 3]` bucketing of
`tf.summary.histogram`), `image_to_uint8` (`tf.image.convert_image_dtype(..., tf.uint8,
saturate=True)`), `encode_png` (`tf.image.encode_png`, written with zlib) and `encode_wav`
(`tf.audio.encode_wav`, 16-bit PCM).
"""
import struct
import zlib

import numpy as np

from tapeflow.summary._protos import DATA_TYPES, protos

_INT32_MIN = np.iinfo(np.int32).min


def tensor_proto(array, dtype_name):
    """A `TensorProto` of a NumPy array: numbers as raw little-endian `tensor_content`,
    strings as `string_val` (as TF's C++ summary writer stores them)."""
    P = protos()
    shape = P.TensorShapeProto(dim=[P.TensorShapeProto_Dim(size=d) for d in array.shape])
    proto = P.TensorProto(dtype=DATA_TYPES[dtype_name], tensor_shape=shape)
    if dtype_name == "string":
        proto.string_val.extend(v if isinstance(v, bytes) else str(v).encode()
                                for v in array.reshape(-1))
    else:
        proto.tensor_content = np.ascontiguousarray(array).astype(
            array.dtype.newbyteorder("<")).tobytes()
    return proto


def histogram_buckets(data, bucket_count):
    """TensorBoard's histogram of `data` (float64, any shape): a `[bucket_count, 3]` array of
    (left edge, right edge, count) rows over equal-width buckets from min to max, with the
    arithmetic of its TF ops (so NaN and infinities give TF's rows too)."""
    bucket_count = max(0, int(bucket_count))
    data = np.asarray(data, np.float64).reshape(-1)
    if data.size == 0 or bucket_count == 0:
        return np.zeros((bucket_count, 3))
    with np.errstate(invalid="ignore", over="ignore"):
        lo, hi = data.min(), data.max()
        span = hi - lo
        if span == 0:
            counts = np.zeros(bucket_count)
            counts[-1] = data.size
            edges = np.full(bucket_count, hi)
            return np.stack([edges, edges, counts]).T
        quotient = np.floor((data - lo) / (span / bucket_count))
        # TF casts to int32 with the x86 conversion: NaN and out-of-range give INT32_MIN,
        # which one_hot then counts nowhere
        fits = np.isfinite(quotient) & (np.abs(quotient) < 2.0 ** 31)
        index = np.where(fits, quotient, _INT32_MIN).astype(np.int64)
        index = np.minimum(index, bucket_count - 1)
        counts = np.bincount(index[index >= 0], minlength=bucket_count).astype(np.float64)
        # tf.linspace: start + i * delta inside, the exact stop at the end
        delta = span / bucket_count
        edges = np.concatenate([[lo], lo + np.arange(1, bucket_count) * delta, [hi]])
    return np.stack([edges[:-1], edges[1:], counts]).T


_INTEGER_MAX = {"uint8": 255, "int8": 127, "int16": 32767, "uint16": 65535,
                "int32": 2 ** 31 - 1, "uint32": 2 ** 32 - 1, "int64": 2 ** 63 - 1,
                "uint64": 2 ** 64 - 1}


def image_to_uint8(images, dtype_name):
    """`tf.image.convert_image_dtype(images, tf.uint8, saturate=True)` on a NumPy array."""
    if dtype_name == "uint8":
        return images
    if dtype_name in _INTEGER_MAX:
        scale_in = _INTEGER_MAX[dtype_name]
        if scale_in > 255:
            scaled = images // ((scale_in + 1) // 256)
            return np.clip(scaled, 0, 255).astype(np.uint8)
        return (np.clip(images, 0, 255).astype(np.uint8) * ((255 + 1) // (scale_in + 1))
                ).astype(np.uint8)
    # floats: scaled by 255.5 in their own precision, clamped, truncated
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = images * images.dtype.type(255.5)
        scaled = np.nan_to_num(np.clip(scaled.astype(np.float64), 0.0, 255.0), nan=0.0)
    return scaled.astype(np.uint8)


def _png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


_PNG_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> gray, gray+alpha, RGB, RGBA


def encode_png(image):
    """A uint8 `[height, width, channels]` image as PNG bytes (8 bits per sample)."""
    height, width, channels = image.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPES[channels], 0, 0, 0)
    rows = np.concatenate([np.zeros((height, 1), np.uint8),  # filter type 0 per row
                           np.ascontiguousarray(image).reshape(height, width * channels)],
                          axis=1)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) +
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + _png_chunk(b"IEND", b""))


def encode_wav(audio, sample_rate):
    """A float `[frames, channels]` clip in [-1, 1] as a 16-bit PCM WAV file (bytes)."""
    frames, channels = audio.shape
    scaled = audio.astype(np.float32) * np.float32(32768.0)
    # C's roundf (half away from zero), then saturation to int16
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + np.float32(0.5))
    samples = np.clip(rounded, -32768, 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, channels, sample_rate, sample_rate * channels * 2,
                      channels * 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE" + b"fmt " +
            struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(samples)) + samples)
