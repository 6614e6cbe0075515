"""Summary writers: the event file's name, framing and first record, when queued events reach
the disk, the default writer and step, closed and no-op writers, and argument errors; with
TensorFlow's behaviour as the reference."""
import os
import re
import socket
import struct
import subprocess
import sys
import threading

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.summary import _records
from tests.summary.events import event_files, raw_events, summaries


def test_crc32c_known_values():
    # RFC 3720's CRC-32C check values
    assert _records.crc32c(b"") == 0
    assert _records.crc32c(b"123456789") == 0xE3069283
    assert _records.crc32c(bytes(32)) == 0x8A9136AA
    assert _records.crc32c(bytes(range(32))) == 0x46DD794E


def test_record_framing():
    record = _records.frame(b"abc")
    length, length_crc = struct.unpack("<QI", record[:12])
    assert length == 3 and record[12:15] == b"abc"
    assert length_crc == _records.masked_crc32c(record[:8])
    assert struct.unpack("<I", record[15:])[0] == _records.masked_crc32c(b"abc")


def test_file_name_and_first_event(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path / "a" / "b"))
    (path,) = event_files(str(tmp_path / "a" / "b"))
    name = os.path.basename(path)
    match = re.fullmatch(r"events\.out\.tfevents\.(\d{10})\.(.+)\.(\d+)\.(\d+)\.v2", name)
    assert match and match[2] == socket.gethostname() and int(match[3]) == os.getpid()
    (first,) = raw_events(path)  # written at once, before any flush
    assert first.file_version == "brain.Event:2" and first.wall_time == int(match[1])
    writer.close()
    other = tf.summary.create_file_writer(str(tmp_path), filename_suffix=".abc")
    (path2,) = event_files(str(tmp_path))
    assert path2.endswith(".abc") and int(path2.split(".")[-2]) > int(match[4])
    other.close()


def test_queue_is_written_after_max_queue_events(realtf, tmp_path):
    """TF writes the queue once it holds more than max_queue events, and on flush/close."""
    sizes = {}
    for lib in (tf, realtf):
        logdir = str(tmp_path / lib.__name__)
        writer = lib.summary.create_file_writer(logdir, max_queue=3)
        (path,) = event_files(logdir)
        counts = []
        with writer.as_default(step=0):
            for i in range(5):
                lib.summary.scalar("x", float(i))
                counts.append(len(raw_events(path)))
            writer.flush()
            counts.append(len(raw_events(path)))
        sizes[lib] = counts
        writer.close()
    assert sizes[tf] == sizes[realtf] == [1, 1, 1, 5, 5, 6]


def test_as_default_exit_flushes_and_flush_millis(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path / "a"))
    (path,) = event_files(str(tmp_path / "a"))
    with writer.as_default(step=1):
        tf.summary.scalar("x", 1.0)
        assert len(raw_events(path)) == 1
    assert len(raw_events(path)) == 2
    quick = tf.summary.create_file_writer(str(tmp_path / "b"), flush_millis=0)
    (path,) = event_files(str(tmp_path / "b"))
    with quick.as_default(step=1):
        tf.summary.scalar("x", 1.0)
        assert len(raw_events(path)) == 2


def test_writes_without_tensorboard_and_flushes_at_exit(tmp_path):
    """With `tensorboard` not importable, tf.summary and the Keras callback still write; the
    events still queued when the program ends reach the file."""
    code = ("import sys\n"
            "sys.modules['tensorboard'] = None\n"
            "import numpy as np\n"
            "import tapeflow as tf\n"
            "model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])\n"
            "model.compile('sgd', 'mse')\n"
            f"board = tf.keras.callbacks.TensorBoard({str(tmp_path / 'fit')!r})\n"
            "model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0, "
            "callbacks=[board])\n"
            f"w = tf.summary.create_file_writer({str(tmp_path / 'exit')!r})\n"
            "w.set_as_default(step=3)\n"
            "tf.summary.scalar('x', 2.0)\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.getcwd(),
                   env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert [(s, float(v)) for s, _, v in summaries(str(tmp_path / "exit"))["x"]] == [(3, 2.0)]
    assert [s for s, _, _ in summaries(str(tmp_path / "fit" / "train"))["epoch_loss"]] == [0, 1]


def test_closed_writer(realtf, tmp_path):
    for lib in (tf, realtf):
        writer = lib.summary.create_file_writer(str(tmp_path / lib.__name__))
        with writer.as_default(step=1):
            writer.close()
            with pytest.raises(lib.errors.NotFoundError, match="SummaryWriterInterface"):
                lib.summary.scalar("x", 1.0)
        writer.flush()
        writer.close()  # both again: no error
        with pytest.raises(RuntimeError, match="is already closed"):
            writer.as_default()
        with pytest.raises(RuntimeError, match="is already closed"):
            writer.set_as_default()


def test_noop_writer_and_flush(realtf):
    for lib in (tf, realtf):
        noop = lib.summary.create_noop_writer()
        with noop.as_default(step=3):
            assert lib.summary.experimental.get_step() is None
            assert not lib.summary.scalar("x", 1.0).numpy()
        noop.set_as_default()
        noop.flush()
        noop.close()
        assert lib.summary.flush() is None
        assert isinstance(lib.summary.create_file_writer, object)
        assert issubclass(type(noop), lib.summary.SummaryWriter)


@pytest.mark.parametrize("kwargs", [{"logdir": None}, {"max_queue": "x"},
                                    {"filename_suffix": 3}, {"max_queue": 2.5},
                                    {"flush_millis": [1, 2]}])
def test_create_file_writer_argument_errors(realtf, tmp_path, kwargs):
    errors = []
    for lib in (tf, realtf):
        args = {"logdir": str(tmp_path / lib.__name__), **kwargs}
        with pytest.raises((TypeError, ValueError, lib.errors.InvalidArgumentError)) as info:
            lib.summary.create_file_writer(**args)
        errors.append((type(info.value).__name__, str(info.value)))
    assert errors[0] == errors[1]


def test_writer_state_is_per_thread(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    seen = []
    with writer.as_default(step=5):
        t = threading.Thread(target=lambda: seen.append(
            (tf.summary.experimental.get_step(), bool(tf.summary.should_record_summaries()))))
        t.start()
        t.join()
    assert seen == [(None, False)]
    writer.close()


def test_writer_created_and_flushed_inside_a_function(tmp_path):
    @tf.function
    def log(x):
        writer = tf.summary.create_file_writer(str(tmp_path))
        with writer.as_default(step=1):  # leaving it flushes: at every call, as in TF
            tf.summary.scalar("x", x)
    log(tf.constant(1.0))
    log(tf.constant(2.0))
    (path,) = event_files(str(tmp_path))  # created once, while tracing
    assert [e.summary.value[0].tensor.tensor_content for e in raw_events(path)[1:]] == \
        [np.float32(1.0).tobytes(), np.float32(2.0).tobytes()]
