"""CRC-32C (Castagnoli), the checksum of TFRecord framing, and TF's masked form of it.

Python's `zlib.crc32` is the IEEE polynomial, so the Castagnoli one is computed here: a table
loop for short inputs (record headers, small records), and for long ones a NumPy version that
runs 1024 lanes side by side over equal chunks and joins the chunk checksums with the GF(2)
"append n zero bytes" operator (a CRC is linear in its input), which is what makes multi-MB
records cheap without a C extension; `crc32c_many` runs many short records side by side the
same way. The `crc32c` package is used instead when installed.
"""
import numpy as np

_POLY = 0x82F63B78  # the Castagnoli polynomial, bit-reversed
_MASK_DELTA = 0xA282EAD8


def _make_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()
_NP_TABLE = np.array(_TABLE, dtype=np.uint32)
_LANES = 1024
_LONG = 16384  # from this size on the lane version is faster than the byte loop


def _raw_short(register, data):
    table = _TABLE
    for b in data:
        register = table[(register ^ b) & 0xFF] ^ (register >> 8)
    return register


# -- the lane version -----------------------------------------------------------------------
# A register r followed by n zero bytes becomes Z_n(r), a linear map over GF(2); Z_n is kept as
# its 32 column images (the images of the 32 single-bit registers), and Z_{a+b} = Z_a . Z_b.

def _apply(columns, register):
    out = 0
    i = 0
    while register:
        if register & 1:
            out ^= columns[i]
        register >>= 1
        i += 1
    return out


def _compose(a, b):
    """The columns of the map `a after b`."""
    return [_apply(a, c) for c in b]


_ONE_ZERO_BYTE = [_raw_short(1 << i, b"\0") for i in range(32)]
_zero_maps = {}


def _zeros_map(n):
    """The columns of Z_n (cached: chunk lengths repeat)."""
    m = _zero_maps.get(n)
    if m is None:
        result, power, k = None, _ONE_ZERO_BYTE, n
        while k:
            if k & 1:
                result = power if result is None else _compose(power, result)
            k >>= 1
            if k:
                power = _compose(power, power)
        m = _zero_maps[n] = result if result is not None else [1 << i for i in range(32)]
    return m


def _raw_long(register, data):
    n = len(data)
    chunk = -(-n // _LANES)
    pad = chunk * _LANES - n
    # leading zero bytes leave a zero register at zero, so padding in front changes nothing
    block = np.frombuffer(b"\0" * pad + bytes(data), dtype=np.uint8).reshape(_LANES, chunk)
    lanes = np.zeros(_LANES, dtype=np.uint32)
    table = _NP_TABLE
    for j in range(chunk):
        lanes = table[(lanes ^ block[:, j]) & 0xFF] ^ (lanes >> 8)
    shift = _zeros_map(chunk)
    total = 0
    for value in lanes.tolist():
        total = _apply(shift, total) ^ value
    return _apply(_zeros_map(n), register) ^ total


def _crc32c_python(data):
    raw = _raw_long if len(data) >= _LONG else _raw_short
    return raw(0xFFFFFFFF, data) ^ 0xFFFFFFFF


try:  # a C implementation when the user has one
    from crc32c import crc32c as _crc32c_native
except ImportError:  # pragma: no cover - depends on the environment
    _crc32c_native = None


def crc32c(data):
    """The CRC-32C of `data` (bytes-like) as an unsigned 32-bit int."""
    if _crc32c_native is not None:
        return _crc32c_native(data)
    return _crc32c_python(data)


def _mask(c):
    return (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def masked_crc32c(data):
    """TF's masked CRC (rotated right by 15 bits plus a constant), as TFRecord stores it."""
    return _mask(crc32c(data))


_GROUP = 4096  # records per side-by-side pass


def _make_table16():
    """The register after two zero bytes for every 16-bit register value: one lookup per
    two bytes."""
    r = np.arange(65536, dtype=np.uint32)
    for _ in range(2):
        r = _NP_TABLE[r & 0xFF] ^ (r >> 8)
    return r


_NP_TABLE16 = _make_table16()


def _crc32c_group(blobs):
    """The CRCs of short blobs side by side, two bytes per step. Each blob is right-aligned
    in one zero-padded block (zeros ahead of the data leave a zero register at zero), and its
    first four bytes are inverted, which is the same as starting from the register 0xFFFFFFFF;
    blobs under four bytes take the byte loop."""
    out = [None] * len(blobs)
    lanes_of = [i for i, b in enumerate(blobs) if len(b) >= 4]
    for i, b in enumerate(blobs):
        if len(b) < 4:
            out[i] = _raw_short(0xFFFFFFFF, b) ^ 0xFFFFFFFF
    if lanes_of:
        width = max(len(blobs[i]) for i in lanes_of)
        width += width % 2
        joined = b"".join(b"\0" * (width - len(blobs[i])) + blobs[i] for i in lanes_of)
        block = np.frombuffer(joined, np.uint8).reshape(len(lanes_of), width).copy()
        starts = width - np.array([len(blobs[i]) for i in lanes_of])
        rows = np.arange(len(lanes_of))
        for k in range(4):
            block[rows, starts + k] ^= 0xFF
        # byte pairs as little-endian 16-bit words, one contiguous row per step
        words = np.ascontiguousarray(block.view("<u2").T).astype(np.uint32)
        lanes = np.zeros(len(lanes_of), np.uint32)
        table = _NP_TABLE16
        for word in words:
            lanes = np.take(table, (lanes ^ word) & 0xFFFF) ^ (lanes >> 16)
        for lane, i in enumerate(lanes_of):
            out[i] = int(lanes[lane]) ^ 0xFFFFFFFF
    return out


def crc32c_many(blobs):
    """The CRC-32C of each of many bytes objects: one NumPy step per byte position for a
    whole group of records of similar length (what makes writing and reading many small
    TFRecords cheap without a C extension)."""
    if _crc32c_native is not None:
        return [_crc32c_native(b) for b in blobs]
    out = [0] * len(blobs)
    order = sorted(range(len(blobs)), key=lambda i: len(blobs[i]))
    i = 0
    while i < len(order):
        shortest = len(blobs[order[i]])
        if shortest >= _LONG:  # long ones: each on its own (the lane version)
            for k in order[i:]:
                out[k] = _crc32c_python(blobs[k])
            break
        j = i + 1
        limit = max(2 * shortest, shortest + 64)  # similar lengths: little zero padding
        while j < len(order) and j - i < _GROUP and len(blobs[order[j]]) <= min(limit, _LONG):
            j += 1
        group = order[i:j]
        for k, c in zip(group, _crc32c_group([blobs[k] for k in group])):
            out[k] = c
        i = j
    return out


def masked_crc32c_many(blobs):
    return [_mask(c) for c in crc32c_many(blobs)]
