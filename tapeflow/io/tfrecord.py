"""TFRecord files: `tf.io.TFRecordWriter`, `tf.io.TFRecordOptions`, and the record reader
that `tf.data.TFRecordDataset` iterates.

A TFRecord file is a sequence of records, each framed as
    uint64 length | uint32 masked_crc32c(length) | data[length] | uint32 masked_crc32c(data)
(little-endian), the whole stream optionally compressed as one ZLIB or GZIP stream. This is a
public format: files written here are read by TensorFlow and the other way round. Reading
errors are TF's DataLossErrors with its texts ("corrupted record at 12").
"""
import os
import struct
import zlib

from tapeflow._core import errors
from tapeflow.io._crc32c import masked_crc32c, masked_crc32c_many
from tapeflow.io.file_io import local_path, os_error

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_COMPRESSION = {None: "", "": "", "ZLIB": "ZLIB", "GZIP": "GZIP"}
_CHUNK = 1 << 18  # read/inflate granularity (TF's default buffer size: 256 KiB)
_BATCH_RECORDS, _BATCH_BYTES = 1024, 4 << 20  # records checksummed side by side


class TFRecordCompressionType:
    NONE = 0
    ZLIB = 1
    GZIP = 2


_BY_ENUM = {0: "", 1: "ZLIB", 2: "GZIP"}


class TFRecordOptions:
    """How a TFRecord file is compressed: `compression_type` "", "ZLIB" or "GZIP", and
    zlib's knobs (`compression_level` 0-9, `window_bits`, `mem_level`, `compression_strategy`;
    buffer sizes and flush mode are accepted for compatibility)."""

    compression_type_map = {TFRecordCompressionType.ZLIB: "ZLIB",
                            TFRecordCompressionType.GZIP: "GZIP",
                            TFRecordCompressionType.NONE: ""}

    def __init__(self, compression_type=None, flush_mode=None, input_buffer_size=None,
                 output_buffer_size=None, window_bits=None, compression_level=None,
                 compression_method=None, mem_level=None, compression_strategy=None):
        if isinstance(compression_type, int):
            compression_type = _BY_ENUM.get(compression_type, compression_type)
        if compression_type not in _COMPRESSION:
            raise ValueError(f'Not a valid compression_type: "{compression_type}"')
        self.compression_type = compression_type
        self.flush_mode = flush_mode
        self.input_buffer_size = input_buffer_size
        self.output_buffer_size = output_buffer_size
        self.window_bits = window_bits
        self.compression_level = compression_level
        self.compression_method = compression_method
        self.mem_level = mem_level
        self.compression_strategy = compression_strategy

    @classmethod
    def get_compression_type_string(cls, options):
        """"", "ZLIB" or "GZIP" for an options object, a string or None."""
        if not options:
            return ""
        if isinstance(options, TFRecordOptions):
            return cls.get_compression_type_string(options.compression_type)
        if isinstance(options, int):
            options = _BY_ENUM.get(options, options)
        if options not in _COMPRESSION:
            raise ValueError(f'Not a valid compression_type: "{options}"')
        return _COMPRESSION[options]


def _options(options):
    if isinstance(options, TFRecordOptions):
        return options
    return TFRecordOptions(compression_type=options)


def frame_many(records):
    """The framed bytes of a list of records (their checksums computed side by side)."""
    headers = [struct.pack("<Q", len(r)) for r in records]
    crcs = masked_crc32c_many(headers + records)
    n = len(records)
    return b"".join(b"".join((h, _FOOTER.pack(crcs[i]), r, _FOOTER.pack(crcs[n + i])))
                    for i, (h, r) in enumerate(zip(headers, records)))


class TFRecordWriter:
    """Writes records (bytes) to a TFRecord file, in order, as TF's writer does.

    Example:
    >>> with tf.io.TFRecordWriter("/tmp/data.tfrecord") as writer:
    ...     writer.write(example.SerializeToString())
    """

    def __init__(self, path, options=None):
        self._options = _options(options)
        self._kind = _COMPRESSION[self._options.compression_type]
        p = local_path(path)
        try:
            self._file = open(p, "wb")
        except OSError as e:
            raise os_error(e, p) from None
        self._pending, self._pending_bytes = [], 0  # records not yet framed and written
        self._compressor = None
        if self._kind:
            o = self._options
            bits = 15 if o.window_bits is None else o.window_bits
            self._compressor = zlib.compressobj(
                -1 if o.compression_level is None else o.compression_level, zlib.DEFLATED,
                bits + 16 if self._kind == "GZIP" else bits,
                8 if o.mem_level is None else o.mem_level,
                0 if o.compression_strategy is None else o.compression_strategy)

    def _check_open(self):
        if self._file is None:
            raise errors.FailedPreconditionError(None, None, "Writer is closed.")

    def write(self, record):
        """Appends one record (bytes or str)."""
        self._check_open()
        if isinstance(record, str):
            record = record.encode("utf-8")
        elif hasattr(record, "numpy"):
            record = record.numpy()
        if not isinstance(record, (bytes, bytearray, memoryview)):
            raise TypeError("write(): incompatible function arguments. The following argument "
                            "types are supported:\n    1. (self: RecordWriter, record: str) -> "
                            f"None\n\nInvoked with: {self!r}, {record!r}")
        self._pending.append(bytes(record))
        self._pending_bytes += len(record)
        if len(self._pending) >= _BATCH_RECORDS or self._pending_bytes >= _BATCH_BYTES:
            self._drain()

    def _drain(self):
        if self._pending:
            data = frame_many(self._pending)
            self._pending, self._pending_bytes = [], 0
            self._file.write(self._compressor.compress(data) if self._compressor else data)

    def flush(self):
        """Pushes what was written so far to the file (a sync point in a compressed stream)."""
        self._check_open()
        self._drain()
        if self._compressor is not None:
            self._file.write(self._compressor.flush(zlib.Z_SYNC_FLUSH))
        self._file.flush()

    def close(self):
        if self._file is None:
            return
        self._drain()
        if self._compressor is not None:
            self._file.write(self._compressor.flush())
        self._file.close()
        self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass


# -- reading ----------------------------------------------------------------------------------

class _Stream:
    """Reads exactly n bytes at a time from a file, inflating it first when compressed."""

    def __init__(self, f, kind):
        self._f = f
        self._inflate = None if not kind else zlib.decompressobj(
            47 if kind == "GZIP" else 15)  # 47: gzip (or zlib) header, as TF's reader
        self._buffer = b""
        self._pos = 0  # read position in the buffer (so a read never shifts the rest)

    def _fill(self, n):
        if len(self._buffer) - self._pos >= n:
            return
        parts = [self._buffer[self._pos:]]
        have = len(parts[0])
        while have < n:
            chunk = self._f.read(max(_CHUNK, n - have))
            if not chunk:
                if self._inflate is not None:
                    parts.append(self._inflate.flush())
                    self._inflate = None
                break
            if self._inflate is not None:
                try:
                    chunk = self._inflate.decompress(chunk)
                except zlib.error as e:
                    raise errors.DataLossError(
                        None, None, f"inflate() failed with error -3: "
                        f"{str(e).split(': ', 1)[-1]}") from None
            parts.append(chunk)
            have += len(chunk)
        self._buffer, self._pos = b"".join(parts), 0

    def read(self, n):
        self._fill(n)
        out = self._buffer[self._pos:self._pos + n]
        self._pos += len(out)
        return out


def read_records(path, compression_type=None):
    """Yields the records of one TFRecord file as bytes, checking every CRC."""
    kind = TFRecordOptions.get_compression_type_string(compression_type)
    p = local_path(path)
    try:
        if os.path.isdir(p):
            raise IsADirectoryError(21, "Is a directory")
        f = open(p, "rb")
    except OSError as e:
        raise os_error(e, p) from None
    with f:
        yield from _records(_Stream(f, kind))


def _records(stream):
    """The records of a stream: each header's CRC checked as it is read (its length is only
    trusted after that), the data CRCs of a batch checked side by side before the batch is
    given out; a bad record ends the records with TF's DataLossError after the good ones
    before it."""
    offset, batch, batch_bytes = 0, [], 0
    while True:
        header = stream.read(_HEADER.size)
        failure = None
        if len(header) < _HEADER.size:  # the end (TF reads a cut header as the end too)
            length = None
        else:
            length, crc = _HEADER.unpack(header)
            if masked_crc32c(header[:8]) != crc:
                hint = " (Is this even a TFRecord file?)" if offset == 0 else ""
                failure = f"corrupted record at {offset}{hint}"
            else:
                body = stream.read(length + 4)
                if len(body) < length + 4:
                    failure = (f"truncated record at {offset}' failed with Read less bytes "
                               "than requested")
                else:
                    batch.append((offset, body[:length], _FOOTER.unpack(body[length:])[0]))
                    batch_bytes += length
                    offset += 12 + length + 4
        done = length is None or failure is not None
        if batch and (done or len(batch) >= _BATCH_RECORDS or batch_bytes >= _BATCH_BYTES):
            crcs = masked_crc32c_many([data for _, data, _ in batch])
            for (start, data, expected), crc in zip(batch, crcs):
                if crc != expected:
                    raise errors.DataLossError(None, None, f"corrupted record at {start + 12}")
                yield data
            batch, batch_bytes = [], 0
        if failure is not None:
            raise errors.DataLossError(None, None, failure)
        if done:
            return


def tf_record_iterator(path, options=None):
    """The records of a TFRecord file (`tf.compat.v1.io.tf_record_iterator`)."""
    return read_records(path, _options(options).compression_type)
