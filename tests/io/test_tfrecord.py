"""TFRecordWriter and TFRecordOptions: files tapeflow writes are TF's bytes (uncompressed)
and read back by TF's reader (every compression); TF's files are read by tapeflow's reader;
the CRC-32C is checked on known vectors and on long inputs."""
import os

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.io import _crc32c
from tapeflow.io.tfrecord import read_records
from tests.io._compare import check

GRAD_CASES = []

RECORDS = [b"hello", b"", b"\0" * 3, bytes(range(256)) * 40, "text record"]
OPTIONS = {
    "none": None,
    "empty": "",
    "gzip": "GZIP",
    "zlib": "ZLIB",
    "zlib_level9": lambda m: m.io.TFRecordOptions(compression_type="ZLIB", compression_level=9),
    "gzip_options": lambda m: m.io.TFRecordOptions("GZIP", compression_level=1, mem_level=4),
}


def _options(name, module):
    o = OPTIONS[name]
    return o(module) if callable(o) else o


def _kind(name):
    return {"gzip": "GZIP", "gzip_options": "GZIP"}.get(name, "ZLIB" if "zlib" in name else "")


def _write(module, path, options):
    with module.io.TFRecordWriter(path, options) as w:
        for r in RECORDS:
            w.write(r)


def _expected():
    return [r.encode() if isinstance(r, str) else r for r in RECORDS]


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_tensorflow_reads_what_tapeflow_writes(name, tmp_path, realtf):
    path = str(tmp_path / "ours.tfrecord")
    _write(tf, path, _options(name, tf))
    got = [t.numpy() for t in realtf.data.TFRecordDataset(path, compression_type=_kind(name))]
    assert got == _expected()
    if not _kind(name):  # no compression: the very bytes TF writes
        _write(realtf, str(tmp_path / "theirs.tfrecord"), None)
        assert open(path, "rb").read() == open(tmp_path / "theirs.tfrecord", "rb").read()


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_tapeflow_reads_what_tensorflow_writes(name, tmp_path, realtf):
    path = str(tmp_path / "theirs.tfrecord")
    _write(realtf, path, _options(name, realtf))
    assert list(read_records(path, _kind(name))) == _expected()


def test_flush_makes_records_readable_before_close(tmp_path, realtf):
    path = str(tmp_path / "f.tfrecord")
    w = tf.io.TFRecordWriter(path, "GZIP")
    w.write(b"one")
    w.flush()
    w.write(b"two")
    w.close()
    w.close()  # closing twice is fine, as in TF
    got = [t.numpy() for t in realtf.data.TFRecordDataset(path, compression_type="GZIP")]
    assert got == [b"one", b"two"]


WRITER_ERRORS = {
    "bad_compression": lambda m, d: m.io.TFRecordWriter(f"{d}/x", "FOO"),
    "bad_options_type": lambda m, d: m.io.TFRecordOptions(compression_type="BZ2"),
    "no_folder": lambda m, d: m.io.TFRecordWriter(f"{d}/zz/x"),
    "closed": lambda m, d: _write_after_close(m, f"{d}/c"),
    "type_string": lambda m, d: [m.io.TFRecordOptions.get_compression_type_string(o)
                                 for o in (None, "", "ZLIB", "GZIP",
                                           m.io.TFRecordOptions("GZIP"))],
}


def _write_after_close(m, path):
    w = m.io.TFRecordWriter(path)
    w.close()
    w.write(b"a")


@pytest.mark.parametrize("name", sorted(WRITER_ERRORS))
def test_writer_errors_match_tensorflow(name, tmp_path, realtf):
    check(lambda m: WRITER_ERRORS[name](m, str(tmp_path)), tf, realtf)


def test_writer_refuses_non_bytes(tmp_path):
    with tf.io.TFRecordWriter(str(tmp_path / "x")) as w:
        with pytest.raises(TypeError):
            w.write(3)


@pytest.mark.parametrize("data, expected", [(b"", 0), (b"123456789", 0xE3069283),
                                            (b"\0" * 32, 0x8A9136AA),
                                            (b"\xff" * 32, 0x62A8AB43)])
def test_crc32c_known_values(data, expected):
    assert _crc32c._crc32c_python(data) == expected


@pytest.mark.parametrize("n", [1, 1023, 16384, 16385, 100_003, 1 << 20])
def test_crc32c_long_inputs_agree_with_the_byte_loop(n):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    assert _crc32c._crc32c_python(data) == \
        _crc32c._raw_short(0xFFFFFFFF, data) ^ 0xFFFFFFFF


def test_masked_crc_is_tensorboards():
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
    data = os.urandom(300)
    assert _crc32c.masked_crc32c(data) == masked_crc32c(data)


def test_crc32c_many_agrees_with_one_at_a_time():
    rng = np.random.default_rng(1)
    blobs = [rng.integers(0, 256, n, dtype=np.uint8).tobytes()
             for n in [0, 1, 2, 3, 4, 5, 7, 8, 100, 16383, 16384, 20000]
             + list(rng.integers(0, 700, 300))]
    assert _crc32c.crc32c_many(blobs) == [_crc32c._crc32c_python(b) for b in blobs]


def test_good_records_before_a_corrupt_one_are_read(tmp_path):
    path = tmp_path / "r"
    with tf.io.TFRecordWriter(str(path)) as w:
        for r in (b"one", b"two", b"three"):
            w.write(r)
    data = bytearray(path.read_bytes())
    data[12 + 3 + 4 + 12 + 1] ^= 1  # a byte of the second record's data
    path.write_bytes(bytes(data))
    got = []
    with pytest.raises(tf.errors.DataLossError, match="corrupted record at 31"):
        for record in read_records(str(path)):
            got.append(record)
    assert got == [b"one"]
