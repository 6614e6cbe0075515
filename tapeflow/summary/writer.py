"""Summary writers and the per-thread summary state (TF's `summary_ops_v2` front half).

The state is what a `tf.summary.*` call consults: the default writer
(`writer.as_default()` / `set_as_default()`), the default step
(`tf.summary.experimental.set_step`, or `as_default(step=...)`), and the recording condition
(`tf.summary.record_if`). A file writer owns one event file (_records.py). Writers are host
objects; a tf.function captures the default writer and step it sees while tracing, as TF's
does, and its summary ops write to that writer at every call.
"""
import abc
import contextlib
import itertools
import os
import threading

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.dispatch import executing_eagerly
from tapeflow._core.errors import InvalidArgumentError, NotFoundError
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.ops._op import define, execute, host_check
from tapeflow.summary._records import EventFileWriter

# A flush inside a tf.function happens at every call, as TF's FlushSummaryWriter op does.
FLUSH = define("FlushSummaryWriter", differentiable=False, stateful=True)
FLUSH.meta_fn = lambda *args: ()


@host_check  # host-side: under jit_compile=True it runs between the compiled parts
def _flush_kernel(writer):
    writer._events.flush()
    return ()


class _SummaryState(threading.local):
    def __init__(self):
        self.writer = None
        self.step = None
        self.is_recording = None


_state = _SummaryState()


def state():
    """The calling thread's summary state (writer, step, is_recording)."""
    return _state


class _SummaryContextManager:
    """`writer.as_default(step)`: a class, so that `set_as_default` is its `__enter__`."""

    def __init__(self, writer, step=None):
        self._writer = writer
        self._step = step
        self._old_writer = None
        self._old_step = None

    def __enter__(self):
        self._old_writer = _state.writer
        _state.writer = self._writer
        if self._step is not None:
            self._old_step = _state.step
            _state.step = self._step
        return self._writer

    def __exit__(self, *exc):
        _state.writer.flush()  # TF flushes whenever a writer stops being the default
        _state.writer = self._old_writer
        if self._step is not None:
            _state.step = self._old_step
        return False


class SummaryWriter(metaclass=abc.ABCMeta):
    """`tf.summary.SummaryWriter`: the interface of a stateful summary writer."""

    def set_as_default(self, step=None):
        """Makes this the default writer of the current thread (and `step`, when given, the
        default step)."""
        self.as_default(step).__enter__()

    def as_default(self, step=None):
        """A context manager making this the default writer (and `step` the default step)
        inside it.

        Example:
        >>> writer = tf.summary.create_file_writer("logs")
        >>> with writer.as_default(step=10):
        ...     tf.summary.scalar("loss", 0.25)
        """
        return _SummaryContextManager(self, step)

    def init(self):
        raise NotImplementedError()

    def flush(self):
        raise NotImplementedError()

    def close(self):
        raise NotImplementedError()


_anonymous = itertools.count()


class _FileSummaryWriter(SummaryWriter):
    """Writes to one event file under `logdir` (what `create_file_writer` returns)."""

    def __init__(self, logdir, max_queue, flush_millis, filename_suffix):
        self._events = EventFileWriter(logdir, max_queue, flush_millis, filename_suffix)
        self._closed = False
        self._resource_name = f"_AnonymousVar{next(_anonymous)}"

    def _check_open(self):
        if self._closed:
            raise RuntimeError(f"SummaryWriter {self!r} is already closed")

    def set_as_default(self, step=None):
        self._check_open()
        super().set_as_default(step)

    def as_default(self, step=None):
        self._check_open()
        return super().as_default(step)

    def init(self):
        self._check_open()

    def flush(self):
        if self._closed:
            return
        if not executing_eagerly():
            execute(FLUSH, _flush_kernel, (), (self,))
        else:
            self._events.flush()

    def close(self):
        if not self._closed:
            self._events.close()
            self._closed = True

    def _add_event(self, event, op_name="WriteSummary"):
        """Queues an Event; TF's error when the writer was closed (its resource is gone)."""
        if self._closed:
            raise NotFoundError(
                None, None, f"{{{{function_node __wrapped__{op_name}_device_/job:localhost/"
                f"replica:0/task:0/device:CPU:0}}}} Resource localhost/{self._resource_name}/"
                f"N10tensorflow22SummaryWriterInterfaceE does not exist. [Op:{op_name}]")
        self._events.add_event(event)


class _NoopSummaryWriter(SummaryWriter):
    """A writer that does nothing (`create_noop_writer`)."""

    def set_as_default(self, step=None):
        pass

    @contextlib.contextmanager
    def as_default(self, step=None):
        yield

    def init(self):
        pass

    def flush(self):
        pass

    def close(self):
        pass


def _host_value(name, value, dtype, default):
    """A writer argument as a Python value (TF converts each to a tensor of `dtype`, with
    its TypeError for a value that does not fit, and wants a scalar)."""
    if value is None:
        return default
    if isinstance(value, Tensor) and value._is_symbolic():
        raise ValueError(f"Invalid graph Tensor argument '{value}' to create_file_writer() "
                         "inside an @tf.function. The create call will be lifted into the "
                         "outer eager execution context, so it cannot consume graph tensors "
                         "defined inside the function body.")
    v = convert_to_tensor(value, dtype=dtype).numpy()
    if isinstance(v, np.ndarray):
        raise InvalidArgumentError(
            None, None, "{{function_node __wrapped__CreateSummaryFileWriter_device_/job:"
            f"localhost/replica:0/task:0/device:CPU:0}}}} {name} must be a scalar "
            "[Op:CreateSummaryFileWriter]")
    return v.decode() if isinstance(v, bytes) else v.item() if hasattr(v, "item") else v


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None,
                       name=None, experimental_trackable=False, experimental_mesh=None):
    """`tf.summary.create_file_writer`: a writer of one new event file in `logdir`.

    Args:
        logdir: the directory of the event file (created when missing).
        max_queue: the most summaries kept in memory before they are written (default 10).
        flush_millis: the longest time between two writes to disk (default 120000).
        filename_suffix: the file name's ending (default ".v2").

    Example:
    >>> writer = tf.summary.create_file_writer("logs/train")
    >>> with writer.as_default():
    ...     tf.summary.scalar("loss", 0.5, step=1)
    """
    if logdir is None:
        raise ValueError("Argument `logdir` cannot be None")
    if isinstance(logdir, os.PathLike):
        logdir = os.fspath(logdir)
    logdir = _host_value("logdir", logdir, dtypes.string, None)
    return _FileSummaryWriter(
        logdir, int(_host_value("max_queue", max_queue, dtypes.int32, 10)),
        int(_host_value("flush_millis", flush_millis, dtypes.int32, 120000)),
        _host_value("filename_suffix", filename_suffix, dtypes.string, ".v2"))


def create_noop_writer():
    """`tf.summary.create_noop_writer`: a writer that does nothing."""
    return _NoopSummaryWriter()


def flush(writer=None, name=None):
    """`tf.summary.flush`: writes what `writer` (default: the default writer) holds."""
    writer = _state.writer if writer is None else writer
    if writer is not None:
        writer.flush()


def get_step():
    """`tf.summary.experimental.get_step`: the default step of this thread, or None."""
    return _state.step


def set_step(step):
    """`tf.summary.experimental.set_step`: sets this thread's default step (an int, a tensor
    or a `tf.Variable`; a tf.function sees a variable's current value at each call)."""
    _state.step = step


@contextlib.contextmanager
def record_if(condition):
    """`tf.summary.record_if`: summaries inside are written only when `condition` (a bool, a
    bool tensor, or a callable returning one, evaluated at each summary) holds."""
    old = _state.is_recording
    try:
        _state.is_recording = condition
        yield
    finally:
        _state.is_recording = old
