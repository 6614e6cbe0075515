"""The event file on disk: TFRecord framing and the file writer behind `tf.summary` writers.

A TFRecord is `uint64 length | uint32 masked_crc32c(length) | data | uint32
masked_crc32c(data)`, little-endian, with CRC-32C (Castagnoli) masked as TensorFlow's
`crc32c::Mask` does. `EventFileWriter` is TensorFlow's `SummaryFileWriter`: the file
`events.out.tfevents.<seconds>.<host>.<pid>.<n><suffix>` starts with a `file_version:
"brain.Event:2"` event, written at once; later records wait in a queue that is written when
it holds more than `max_queue` records or `flush_millis` have passed since the last flush, on
`flush()`/`close()`, and at interpreter exit. Each record is framed completely before it
reaches the file, so a failed encoding never leaves half a record.
(tapeflow.io has its own TFRecord writer; the two are to be merged.)
"""
import atexit
import itertools
import os
import socket
import struct
import threading
import time
import weakref

from tapeflow.summary._protos import protos


def _crc_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_TABLE = _crc_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(data):
    """One TFRecord holding `data` (bytes)."""
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc32c(length)) + data +
            struct.pack("<I", masked_crc32c(data)))


_file_ids = itertools.count()       # the <n> of file names, as TF numbers its writers
_open_writers = weakref.WeakSet()   # flushed at interpreter exit (TF flushes on destruction)


class EventFileWriter:
    """Appends serialized `Event`s to a new event file in `logdir`."""

    def __init__(self, logdir, max_queue=10, flush_millis=120000, filename_suffix=".v2"):
        os.makedirs(logdir, exist_ok=True)
        now = time.time()
        name = (f"events.out.tfevents.{int(now):010d}.{socket.gethostname()}.{os.getpid()}."
                f"{next(_file_ids)}{filename_suffix}")
        self.path = os.path.join(logdir, name)
        self._max_queue = max_queue
        self._flush_secs = flush_millis / 1000.0
        self._queue = []
        self._lock = threading.Lock()
        self._file = open(self.path, "wb")  # noqa: SIM115 - lives as long as the writer
        P = protos()
        first = P.Event(wall_time=float(int(now)), file_version="brain.Event:2",
                        source_metadata=P.SourceMetadata(writer="tapeflow.summary"))
        self._file.write(frame(first.SerializeToString()))
        self._file.flush()
        self._last_flush = time.monotonic()
        _open_writers.add(self)

    @property
    def closed(self):
        return self._file is None

    def add_event(self, event):
        """Queues an `Event` message (its wall time is set here if it has none)."""
        if not event.wall_time:
            event.wall_time = time.time()
        record = frame(event.SerializeToString())
        with self._lock:
            if self._file is None:
                raise ValueError(f"The event file {self.path} is closed.")
            self._queue.append(record)
            if len(self._queue) > self._max_queue or \
                    time.monotonic() - self._last_flush > self._flush_secs:
                self._flush_locked()

    def flush(self):
        with self._lock:
            if self._file is not None:
                self._flush_locked()

    def _flush_locked(self):
        if self._queue:
            self._file.write(b"".join(self._queue))
            self._queue.clear()
        self._file.flush()
        self._last_flush = time.monotonic()

    def close(self):
        with self._lock:
            if self._file is not None:
                self._flush_locked()
                self._file.close()
                self._file = None
        _open_writers.discard(self)

    def __del__(self):  # a writer dropped without close() still gets its queue written
        try:
            self.close()
        except Exception:  # noqa: BLE001, S110 - nothing can be reported from a finalizer
            pass


@atexit.register
def _flush_all():
    for writer in list(_open_writers):
        try:
            writer.flush()
        except (OSError, ValueError):  # noqa: PERF203 - a vanished disk must not stop exit
            pass
