"""Image codecs: `decode_png` / `encode_png`, `decode_jpeg` / `encode_jpeg`, `decode_gif`,
`decode_bmp`, `decode_image`, `is_jpeg` and `extract_jpeg_shape` (reachable from both
`tf.io` and `tf.image`), with TF's shapes, dtypes, channel rules and error texts.

Decoding goes through Pillow (imported when first needed; `pip install pillow`). TF's channel
conversions are reproduced where Pillow's differ: RGB to gray for PNG uses libpng's
coefficients (as TF's libpng does), JPEG gray is libjpeg's Y channel. JPEG pixels equal TF's
for `dct_method="INTEGER_ACCURATE"` (and for "INTEGER_FAST" without fancy upscaling); TF's
default fast DCT with fancy upscaling is not available through Pillow, so there the pixels
may differ from TF's by a few levels. PNGs are written here directly (8 and 16 bit,
1-4 channels: TF's encoder's range); JPEGs by Pillow's libjpeg.
"""
import io
import struct
import zlib

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import convert_to_tensor, wrap, wrap_strings
from tapeflow.ops._op import check_dtype, define, is_tensor_like
from tapeflow.ops.strings import host_strings
from tapeflow.ops.image_color import convert_image_dtype

DECODE_PNG = define("DecodePng", differentiable=False)
DECODE_JPEG = define("DecodeJpeg", differentiable=False)
DECODE_GIF = define("DecodeGif", differentiable=False)
DECODE_BMP = define("DecodeBmp", differentiable=False)
DECODE_IMAGE = define("DecodeImage", differentiable=False)
ENCODE_PNG = define("EncodePng", differentiable=False)
ENCODE_JPEG = define("EncodeJpeg", differentiable=False)
EXTRACT_JPEG_SHAPE = define("ExtractJpegShape", differentiable=False)

_CPU = "/job:localhost/replica:0/task:0/device:CPU:0"


def _pil():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("Decoding and encoding images needs Pillow: `pip install pillow` "
                          "(or `pip install tapeflow[images]`).") from None
    return Image


def _error(message, op, suffix=False):
    return InvalidArgumentError(None, None, f"{{{{function_node __wrapped__{op.name}_device_"
                                            f"{_CPU}}}}} {message} [Op:{op.name}]"
                                + (" name: " if suffix else ""))


def _contents(contents, op):
    x = host_strings(contents, op)
    if x._t.ndim:
        raise _error(f"`contents` must be scalar but got shape[{','.join(map(str, x.shape))}]",
                     op)
    return x._t.item()


def _format(data):
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:2] == b"BM":
        return "bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _unknown(op):
    return _error("Unknown image file format. One of JPEG, JPEG XL, PNG, GIF, BMP, WebP "
                  "required.", op)


def _to_tensor(array):
    return wrap(torch.from_numpy(np.array(array)))  # a writable copy (Pillow's are not)


# -- channel conversions ----------------------------------------------------------------------

def _libpng_gray(rgb):
    """Gray from RGB as TF's PNG decoder gets it from libpng (its rgb_to_gray with
    coefficients 0.299 / 0.587, in 1/32768 units, truncated)."""
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    return ((9797 * r + 19234 * g + 3737 * b) >> 15).astype(rgb.dtype)


def _channels(a, channels, gray=_libpng_gray):
    """`a` ([h, w, c]) with `channels` channels (0: as it is), by TF's rules: gray is
    repeated into RGB, alpha added as opaque, dropped, or gray computed from RGB."""
    have = a.shape[-1]
    if channels in (0, have):
        return a
    top = np.iinfo(a.dtype).max
    color = a[..., :3] if have >= 3 else np.repeat(a[..., :1], 3, axis=-1)
    if channels == 1:
        return gray(color)[..., None] if have >= 3 else a[..., :1]
    if channels == 3:
        return color
    alpha = a[..., have - 1:] if have in (2, 4) else np.full(a.shape[:-1] + (1,), top, a.dtype)
    return np.concatenate([color, alpha], axis=-1)


def _pil_array(img):
    """A decoded Pillow image as [h, w, c] uint8 or uint16, keeping its channels."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L"):
        return np.asarray(img, dtype=np.uint16)[..., None]
    if mode == "I":
        return np.asarray(img).astype(np.uint16)[..., None]
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode == "1":
        img = img.convert("L")
    elif mode in ("CMYK", "YCbCr"):
        img = img.convert("RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in mode else "RGB")
    a = np.asarray(img)
    return a[..., None] if a.ndim == 2 else a


def _depth(a, dtype):
    """8-bit values as 16-bit (x257) or the other way (the high byte), as libpng scales."""
    if dtype is dtypes.uint16 and a.dtype == np.uint8:
        return a.astype(np.uint16) * 257
    if dtype is dtypes.uint8 and a.dtype == np.uint16:
        return (a >> 8).astype(np.uint8)
    return a


# -- decoding ---------------------------------------------------------------------------------

def _check_channels(channels, op, allowed=(0, 1, 3, 4)):
    if channels not in allowed:
        listed = ", ".join(str(c) for c in allowed[:-1]) + f" or {allowed[-1]}"
        raise _error(f"`channels` must be {listed} but got {channels}", op)


def _open(data, op):
    Image = _pil()
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
        return img
    except Exception as e:  # noqa: BLE001 - Pillow raises many kinds for bad data
        raise _error(f"Invalid {(_format(data) or 'image').upper()} data, size {len(data)}: "
                     f"{e}", op) from None


def _decode_jpeg_array(data, channels, ratio, fancy, dct_method, op):
    img = _pil().open(io.BytesIO(data))
    # TF's default DCT is libjpeg's fast one; Pillow gives it only together with plain
    # (not fancy) chroma upsampling, which is the same thing when no channel is subsampled
    sampling = {(h, v) for _, h, v, _ in getattr(img, "layer", [])}
    fast = dct_method in ("", "INTEGER_FAST") and (len(sampling) <= 1 or not fancy)
    if channels == 1 or ratio > 1 or fast:
        w, h = img.size
        img.draft("L" if channels == 1 else img.mode, (max(1, w // ratio), max(1, h // ratio)))
        if fast:
            img.decoderconfig = (img.decoderconfig[0], 1)
    try:
        img.load()
    except Exception as e:  # noqa: BLE001
        raise _error(f"Invalid JPEG data or crop window, data size {len(data)}: {e}", op) \
            from None
    a = _pil_array(img)
    return _channels(a, channels)


def _decode(data, op, channels, dtype=None, ratio=1, fancy=True, dct_method="",
            animations=True):
    """[h, w, c] (or [frames, h, w, 3] for a GIF with `animations`) array: of the file's own
    depth when `dtype` is None, else uint8 or uint16."""
    kind = _format(data)
    if kind is None:
        raise _unknown(op)
    if kind == "bmp" and op in (DECODE_PNG, DECODE_JPEG, DECODE_GIF):
        raise _error("Trying to decode BMP format using a wrong op. Use `decode_bmp` or "
                     f"`decode_image` instead. Op used: {op.name}", op)
    if op is DECODE_BMP and kind != "bmp":
        raise _error(f"Trying to decode {kind.upper()} format using DecodeBmp op. Use "
                     f"`decode_{kind}` or `decode_image` instead.", op)
    if kind == "jpeg":
        if channels == 4:
            raise _error("JPEG does not support 4 channels", op)
        a = _decode_jpeg_array(data, channels, ratio, fancy, dct_method, op)
    elif kind == "gif":
        if channels not in (0, 3):
            raise _error(f"channels must be 0 or 3 for GIF, got {channels}", op)
        img = _open(data, op)
        frames = []
        for i in range(getattr(img, "n_frames", 1)):
            img.seek(i)
            frames.append(np.asarray(img.convert("RGB")))
        a = np.stack(frames)
        if op in (DECODE_PNG, DECODE_JPEG, DECODE_BMP):
            if len(a) > 1:
                raise _error(f"Got {len(a)} frames, but animated gifs can only be decoded by "
                             "tf.io.decode_gif or tf.io.decode_image", op)
            a = a[0]
        elif not animations:
            a = a[0]  # decode_image(expand_animations=False): the first frame
    elif kind == "png":
        a = _decode_png_array(data, channels, op)
    else:
        a = _pil_array(_open(data, op))
        if kind == "bmp" and channels == 1 and a.shape[-1] != 1:
            raise _error("`channels` must be 0, 3 or 4 for BMP, but got 1", op)
        a = _channels(a, channels)
    if op is DECODE_GIF and kind != "gif":
        a = a[None]  # decode_gif gives frames, also of a still PNG or JPEG
    return a if dtype is None else _depth(a, dtype)


def _png_header(data):
    """(bit depth, colour type, interlaced, has tRNS) from a PNG's chunks."""
    depth, color, interlace = data[24], data[25], data[28]
    return depth, color, interlace, b"tRNS" in data[33:data.find(b"IDAT")]


def _decode_png_array(data, channels, op):
    depth, color, interlace, transparent = _png_header(data)
    if depth == 16 and color in (2, 6) and not interlace:
        a = _png16_color(data, color)  # Pillow reads these at 8 bits
    else:
        a = _pil_array(_open(data, op))
    if channels == 4 and a.shape[-1] in (1, 3) and depth < 8:
        # TF's libpng adds an alpha of (1 << bit_depth) - 1 for low-depth images
        a = np.concatenate([_channels(a, 3), np.full(a.shape[:-1] + (1,), (1 << depth) - 1,
                                                     a.dtype)], axis=-1)
    return _channels(a, channels)


def _png16_color(data, color):
    """A non-interlaced 16-bit RGB(A) PNG, decoded here: inflate, then undo each row's
    filter (the Sub and Up filters vectorised, Average and Paeth a loop over pixels)."""
    width, height = struct.unpack(">II", data[16:24])
    channels = 3 if color == 2 else 4
    bpp = 2 * channels
    pos, chunks = 8, []
    while pos < len(data):
        length, = struct.unpack(">I", data[pos:pos + 4])
        if data[pos + 4:pos + 8] == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(b"".join(chunks)), np.uint8)
    stride = width * bpp
    rows = raw.reshape(height, stride + 1)
    out = np.zeros((height, stride), np.int64)
    prior = np.zeros(stride, np.int64)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int64)
        if kind == 0:
            cur = line
        elif kind == 1:
            cur = np.cumsum(line.reshape(width, bpp), axis=0).reshape(-1) % 256
        elif kind == 2:
            cur = (line + prior) % 256
        else:
            cur = np.zeros(stride, np.int64)
            left = np.zeros(bpp, np.int64)
            for x in range(width):
                up = prior[x * bpp:(x + 1) * bpp]
                if kind == 3:
                    pred = (left + up) // 2
                else:
                    up_left = prior[(x - 1) * bpp:x * bpp] if x else np.zeros(bpp, np.int64)
                    p = left + up - up_left
                    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - up_left)
                    pred = np.where((pa <= pb) & (pa <= pc), left,
                                    np.where(pb <= pc, up, up_left))
                left = (line[x * bpp:(x + 1) * bpp] + pred) % 256
                cur[x * bpp:(x + 1) * bpp] = left
        out[y] = cur
        prior = cur
    return out.astype(np.uint8).view(">u2").astype(np.uint16).reshape(height, width, channels)


def _decode_op(op, contents, channels, dtype, **options):
    data = _contents(contents, op)
    return _to_tensor(_decode(data, op, int(channels), dtype, **options))


def decode_png(contents, channels=0, dtype=dtypes.uint8, name=None):
    """Decodes a PNG (or any other supported format) into [height, width, channels] uint8
    or uint16; `channels` 0 keeps the file's, 1 gray, 3 RGB, 4 RGBA."""
    dtype = dtypes.as_dtype(dtype)
    _check_decode_dtype(dtype, DECODE_PNG, (dtypes.uint8, dtypes.uint16))
    _check_channels(int(channels), DECODE_PNG)
    return _decode_op(DECODE_PNG, contents, channels, dtype)


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True,
                try_recover_truncated=False, acceptable_fraction=1, dct_method="", name=None):
    """Decodes a JPEG into [height, width, channels] uint8; `ratio` (1, 2, 4, 8) downscales
    while decoding."""
    channels, ratio = int(channels), int(ratio)
    _check_channels(channels, DECODE_JPEG)
    if ratio not in (1, 2, 4, 8):
        raise _error(f"ratio must be 1, 2, 4, or 8, got {ratio}", DECODE_JPEG)
    return _decode_op(DECODE_JPEG, contents, channels, dtypes.uint8, ratio=ratio,
                      fancy=bool(fancy_upscaling), dct_method=dct_method)


def decode_gif(contents, name=None):
    """Decodes every frame of a GIF: [num_frames, height, width, 3] uint8 (a PNG or JPEG
    gives one frame)."""
    data = _contents(contents, DECODE_GIF)
    return _to_tensor(_decode(data, DECODE_GIF, 0, dtypes.uint8))


def decode_bmp(contents, channels=0, name=None):
    """Decodes a BMP into [height, width, channels] uint8."""
    _check_channels(int(channels), DECODE_BMP, (0, 1, 3, 4))
    return _decode_op(DECODE_BMP, contents, channels, dtypes.uint8)


def _check_decode_dtype(dtype, op, allowed):
    probe = convert_to_tensor(np.zeros((), dtype.as_numpy_dtype))
    check_dtype(probe, allowed, op, "dtype")


def decode_image(contents, channels=None, dtype=dtypes.uint8, name=None,
                 expand_animations=True):
    """Decodes a BMP, GIF, JPEG or PNG by its magic bytes: [h, w, c], or [frames, h, w, 3]
    for a GIF when `expand_animations`. A float `dtype` scales values to [0, 1)."""
    channels = 0 if channels is None else int(channels)
    dtype = dtypes.as_dtype(dtype)
    _check_channels(channels, DECODE_IMAGE)
    data = _contents(contents, DECODE_IMAGE)
    if dtype in (dtypes.uint8, dtypes.uint16):
        return _to_tensor(_decode(data, DECODE_IMAGE, channels, dtype,
                                  animations=expand_animations))
    # TF decodes to uint16 and scales from there, also for float32 (x * (1 / 65535))
    wide = _decode(data, DECODE_IMAGE, channels, dtypes.uint16, animations=expand_animations)
    return convert_image_dtype(_to_tensor(wide), dtype)


# -- encoding ---------------------------------------------------------------------------------

def _image_array(image, op, allowed):
    if op is ENCODE_JPEG and not is_tensor_like(image):
        image = np.asarray(image).astype(np.uint8)  # TF's op wrapper converts to uint8
    x = convert_to_tensor(image)
    check_dtype(x, allowed, op)
    return x, np.asarray(x.numpy())


def _png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + \
        struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def png_bytes(a, compression=-1):
    """A PNG of the [h, w, c] uint8/uint16 array `a` (c in 1..4), rows unfiltered."""
    h, w, c = a.shape
    depth = 16 if a.dtype == np.uint16 else 8
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    rows = a.astype(">u2" if depth == 16 else np.uint8).reshape(h, -1).view(np.uint8)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows.reshape(h, -1)], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)
    return b"".join([b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", header),
                     _png_chunk(b"IDAT", zlib.compress(raw, compression)),
                     _png_chunk(b"IEND", b"")])


def encode_png(image, compression=-1, name=None):
    """PNG bytes of a [height, width, channels] uint8 or uint16 image (1-4 channels)."""
    x, a = _image_array(image, ENCODE_PNG, (dtypes.uint8, dtypes.uint16))
    if a.ndim < 3:
        raise _error(f"images must be at least rank 3[{','.join(map(str, a.shape))}]",
                     ENCODE_PNG, suffix=True)
    if not 1 <= a.shape[-1] <= 4:
        raise _error(f"image must have 1, 2, 3, or 4 channels, got {a.shape[-1]}", ENCODE_PNG,
                     suffix=True)
    level = int(compression)
    return wrap_strings(np.array(png_bytes(a, -1 if level < 0 else min(level, 9)),
                                 dtype=object))


def encode_jpeg(image, format="", quality=95, progressive=False, optimize_size=False,  # noqa: A002
                chroma_downsampling=True, density_unit="in", x_density=300, y_density=300,
                xmp_metadata="", name=None):
    """JPEG bytes of a [height, width, 1 or 3] uint8 image, at `quality` (0-100)."""
    x, a = _image_array(image, ENCODE_JPEG, (dtypes.uint8,))
    shape = ",".join(map(str, a.shape))
    if a.ndim != 3:
        raise _error(f"image must be 3-dimensional[{shape}]", ENCODE_JPEG, suffix=True)
    channels = a.shape[-1]
    if format == "grayscale" and channels != 1:
        raise _error(f"format grayscale expects 1 channel, got [{shape}]", ENCODE_JPEG, True)
    if format == "rgb" and channels != 3:
        raise _error(f"format rgb expects 3 channels, got [{shape}]", ENCODE_JPEG, True)
    if channels not in (1, 3):
        raise _error(f"image must have 1 or 3 channels, got [{shape}]", ENCODE_JPEG, True)
    if not 0 <= int(quality) <= 100:
        raise _error(f"quality must be in [0,100], got {int(quality)}", ENCODE_JPEG, True)
    img = _pil().fromarray(a[..., 0] if channels == 1 else a, "L" if channels == 1 else "RGB")
    out = io.BytesIO()
    options = dict(quality=int(quality), progressive=bool(progressive),
                   optimize=bool(optimize_size), subsampling=2 if chroma_downsampling else 0)
    if density_unit == "in":
        options["dpi"] = (int(x_density), int(y_density))
    img.save(out, format="JPEG", **options)
    return wrap_strings(np.array(out.getvalue(), dtype=object))


# -- header queries ---------------------------------------------------------------------------

def is_jpeg(contents, name=None):
    """Whether each string starts with JPEG's magic bytes."""
    x = host_strings(contents, DECODE_JPEG)
    flat = [bytes(s[:3]) == b"\xff\xd8\xff" for s in x._t.reshape(-1)]
    return wrap(torch.tensor(flat, dtype=torch.bool).reshape(x._t.shape))


def extract_jpeg_shape(contents, output_type=dtypes.int32, name=None):
    """[height, width, channels] of a JPEG, from its header only."""
    data = _contents(contents, EXTRACT_JPEG_SHAPE)
    if _format(data) != "jpeg":
        raise _error(f"Invalid JPEG data, size {len(data)}", EXTRACT_JPEG_SHAPE)
    img = _pil().open(io.BytesIO(data))
    channels = {"L": 1, "CMYK": 4}.get(img.mode, 3)
    w, h = img.size
    return _to_tensor(np.array([h, w, channels], dtype=dtypes.as_dtype(
        output_type).as_numpy_dtype))
