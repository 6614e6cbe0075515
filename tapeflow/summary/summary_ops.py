"""The summary ops: `tf.summary.write` and the typed summaries built on it (`scalar`,
`histogram`, `image`, `text`, `audio`), `write_raw_pb`, `graph`, `summary_scope` and
`should_record_summaries`, with TF's (and TensorBoard's) arguments, checks and errors.

Each summary becomes one `WriteSummary` op: a stateful op, so a tf.function runs it at every
call, like `tf.print`. Its inputs are the recording condition, the step and the data; its
attrs the writer, and the function that turns the data (NumPy, on the host) into `Summary`
messages. What is known while tracing (the writer, the tag, string data, whether recording
is off) is decided then, as TF's `smart_cond` does; a condition that is a tensor inside a
tf.function is read by the op at each call. The op returns TF's bool result.
"""
import contextlib
import functools
import re

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.context import state as runtime
from tapeflow._core.dispatch import executing_eagerly
from tapeflow._core.errors import DataLossError, InvalidArgumentError
from tapeflow._core.module import name_scope
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap
from tapeflow._core.variable import Variable
from tapeflow.ops._op import define, execute, host_check, kernel_error, scalar as scalar_constant
from tapeflow.ops.elementwise import cast
from tapeflow.summary import _encode
from tapeflow.summary._protos import protos
from tapeflow.summary.writer import state

WRITE = define("WriteSummary", differentiable=False, stateful=True)
# the op writes when the graph runs, never while tracing
WRITE.meta_fn = lambda *args: torch.empty((), dtype=torch.bool, device="meta")


def _host(t):
    """A kernel input as a NumPy array (bfloat16 through float32, which NumPy lacks)."""
    if t.dtype is torch.bfloat16:
        return t.float().cpu().numpy().astype(dtypes.bfloat16.as_numpy_dtype)
    return t.cpu().numpy()


@host_check  # a host-side write: under jit_compile=True it runs between the compiled parts
def _write_kernel(cond, step, *rest):
    *data, writer, summarize = rest
    if not bool(cond):
        return torch.tensor(False)
    P = protos()
    step = int(step.reshape(-1)[0])
    for summary in summarize(*[_host(d) for d in data]):
        writer._add_event(P.Event(step=step, summary=summary))
    return torch.tensor(True)


# -- when to record -----------------------------------------------------------------------------

def _condition():
    """Whether summaries record now: False, True, or (inside a tf.function) a symbolic bool
    tensor read when the function runs. TF's `_should_record_summaries_internal`."""
    s = state()
    if s.writer is None:
        return False
    cond = s.is_recording
    if callable(cond):
        cond = cond()
    if cond is None:
        return True
    if isinstance(cond, (Tensor, Variable)):
        cond = convert_to_tensor(cond)
        if cond._is_symbolic():
            return cond if cond.dtype is dtypes.bool else cast(cond, dtypes.bool)
        return bool(cond.numpy())
    return bool(cond)


def should_record_summaries():
    """`tf.summary.should_record_summaries`: a bool tensor, True when a default writer is set
    and the `record_if` condition (True when none is set) holds."""
    cond = _condition()
    return cond if isinstance(cond, Tensor) else scalar_constant(cond, dtypes.bool)


def _false():
    return scalar_constant(False, dtypes.bool)


def _choose_step(step):
    step = convert_to_tensor(step, dtype=dtypes.int64)
    if step.shape.num_elements() != 1:
        raise ValueError(f"Argument `step` must be a scalar. Received step with shape "
                         f"{step.shape}.")
    return step


def _record(step, prepare):
    """Runs the WriteSummary op when recording is not statically off. `prepare()` (called only
    then, as TF defers a lazy summary tensor) returns the data tensors and the function that
    makes `Summary` messages from their NumPy values."""
    if step is not None:
        step = _choose_step(step)
    s = state()
    writer = s.writer
    if writer is None:
        return _false()
    if step is None:
        step = s.step
    cond = _condition()
    if cond is False:
        return _false()
    if step is None:
        raise ValueError("No step set. Please specify one either through the `step` argument "
                         "or through tf.summary.experimental.set_step()")
    step = _choose_step(step)
    data, summarize = prepare()
    if cond is True:
        cond = scalar_constant(True, dtypes.bool)
    return execute(WRITE, _write_kernel, (cond, step, *data), (writer, summarize))


def _tensor_summary(tag, metadata, encode, *arrays):
    P = protos()
    value = P.Summary_Value(tag=tag, tensor=encode(*arrays))
    if metadata:
        value.metadata.ParseFromString(metadata)
    return (P.Summary(value=[value]),)


@functools.cache
def plugin_metadata(plugin, description=None, content=b""):
    """A serialized SummaryMetadata, as the plugins' `create_summary_metadata` make it."""
    P = protos()
    return P.SummaryMetadata(
        plugin_data=P.SummaryMetadata_PluginData(plugin_name=plugin, content=content),
        summary_description=description or "").SerializeToString()


def _summary(tag, step, metadata, prepare):
    """One tensor summary: `prepare()` returns (data tensors, encode), `encode(*arrays)` the
    TensorProto; `metadata` is a function giving the serialized SummaryMetadata."""
    def full():
        data, encode = prepare()
        return data, functools.partial(_tensor_summary, tag, metadata(), encode)
    return _record(step, full)


def _data_and_encoder(tensor):
    """A tensor's slot in the op: string tensors (host data, known while tracing) are
    encoded now; numbers are inputs, encoded when the op runs."""
    tensor = convert_to_tensor(tensor)
    if tensor.dtype is dtypes.string:
        proto = _encode.tensor_proto(np.asarray(tensor.numpy(), dtype=object), "string")
        return (), lambda: proto
    return (tensor,), functools.partial(_encode.tensor_proto, dtype_name=tensor.dtype.name)


# -- the public functions -----------------------------------------------------------------------

_INVALID_SCOPE_CHARACTERS = re.compile(r"[^-_/.A-Za-z0-9]")


@contextlib.contextmanager
def summary_scope(name, default_name="summary", values=None):
    """`tf.summary.experimental.summary_scope`: yields `(tag, scope)`: the tag is `name`
    under the enclosing name scopes, kept as given; the scope is a name scope of `name`
    without the characters a scope name cannot hold."""
    name = name or default_name
    current = runtime.name_scope.rstrip("/")
    tag = current + "/" + name if current else name
    name = _INVALID_SCOPE_CHARACTERS.sub("", name) or default_name
    with name_scope(name) as scope:
        yield tag, scope


def write(tag, tensor, step=None, metadata=None, name=None):
    """`tf.summary.write`: writes `tensor` (or what the callable `tensor` returns, called
    only when recording) under `tag` to the default writer. Returns True when written,
    False when there is no default writer or recording is off."""
    if metadata is None:
        serialized = b""
    elif hasattr(metadata, "SerializeToString"):
        serialized = metadata.SerializeToString()
    else:
        serialized = bytes(metadata)

    def prepare():
        return _data_and_encoder(tensor() if callable(tensor) else tensor)
    return _summary(tag, step, lambda: serialized, prepare)


def scalar(name, data, step=None, description=None):
    """`tf.summary.scalar`: a scalar (written as float32) for TensorBoard's Scalars tab.

    Example:
    >>> with tf.summary.create_file_writer("logs").as_default():
    ...     tf.summary.scalar("loss", 0.25, step=1)
    """
    with summary_scope(name, "scalar_summary", values=[data, step]) as (tag, _):
        data = convert_to_tensor(data)
        if data.shape.rank != 0:
            raise ValueError(f"Expected scalar shape, saw shape: {data.shape}.")
        data = cast(data, dtypes.float32)
        return _summary(tag, step, lambda: plugin_metadata("scalars", description),
                        lambda: _data_and_encoder(data))


def _int32_value(value, what):
    """A concrete int32 scalar argument (TF's assert_type / assert_scalar errors)."""
    t = convert_to_tensor(value)
    if t.dtype is not dtypes.int32:
        raise TypeError(f"tensor must be of type tf.int32; got tf.{t.dtype.name}")
    if t.shape.rank != 0:
        raise ValueError(f"Expected scalar shape, saw shape: {t.shape}.")
    if t._is_symbolic():
        raise NotImplementedError(f"tapeflow needs `{what}` as a Python int or an eager "
                                  "tensor, not a tensor computed inside the tf.function.")
    return int(t.numpy())


def _histogram_encode(buckets, data):
    return _encode.tensor_proto(_encode.histogram_buckets(data, buckets), "float64")


def histogram(name, data, step=None, buckets=None, description=None):
    """`tf.summary.histogram`: the values of `data` in `buckets` (default 30) equal-width
    buckets from its minimum to its maximum, as TensorBoard's Histograms tab reads them."""
    def prepare():
        count = 30 if buckets is None else _int32_value(buckets, "buckets")
        values = cast(data, dtypes.float64)
        return (values,), functools.partial(_histogram_encode, count)

    with summary_scope(name, "histogram_summary", values=[data, buckets, step]) as (tag, _):
        return _summary(tag, step, lambda: plugin_metadata("histograms", description), prepare)


def _assert_rank(x, rank):
    if x.shape.rank != rank:
        raise ValueError(f"Tensor  must have rank {rank}.  Received rank {x.shape.rank}, "
                         f"shape {x.shape}")


def _assert_non_negative(value):
    n = _int32_value(value, "max_outputs")
    if n < 0:
        raise InvalidArgumentError(None, None, f"\nCondition x >= 0 did not hold "
                                               f"element-wise:\nx (shape=() dtype=int32) = \n{n}")
    return n


class _OpName:  # names the op in a kernel-style error without registering it
    def __init__(self, name):
        self.name = name


_ENCODE_PNG = _OpName("EncodePng")


def _image_encode(max_outputs, dtype_name, images):
    height, width = images.shape[1], images.shape[2]
    pixels = _encode.image_to_uint8(images[:max_outputs], dtype_name)
    return _encode.tensor_proto(np.array([str(width).encode(), str(height).encode()] +
                                         [_encode.encode_png(im) for im in pixels], object),
                                "string")


def image(name, data, step=None, max_outputs=3, description=None):
    """`tf.summary.image`: the first `max_outputs` images of a `[k, height, width,
    channels]` batch (1 to 4 channels; floats in [0, 1] or integers), PNG-encoded as
    `tf.image.encode_png` after `convert_image_dtype(..., tf.uint8, saturate=True)`."""
    def prepare():
        images = convert_to_tensor(data)
        _assert_rank(images, 4)
        n = _assert_non_negative(max_outputs)
        dt = images.dtype
        if not (dt.is_floating or dt.is_integer):
            raise AttributeError("image dtype must be either floating point or integer")
        channels = images.shape[3]
        if channels is not None and not 1 <= channels <= 4:
            raise kernel_error(f"image must have 1, 2, 3, or 4 channels, got {channels}",
                               _ENCODE_PNG, torch.device("cpu"))
        return (images,), functools.partial(_image_encode, n, dt.name)

    with summary_scope(name, "image_summary", values=[data, max_outputs, step]) as (tag, _):
        return _summary(tag, step, lambda: plugin_metadata("images", description), prepare)


def text(name, data, step=None, description=None):
    """`tf.summary.text`: a string tensor (any shape; Markdown) for TensorBoard's Text tab."""
    with summary_scope(name, "text_summary", values=[data, step]) as (tag, _):
        data = convert_to_tensor(data)
        if data.dtype is not dtypes.string:
            raise TypeError(f"tensor must be of type tf.string; got tf.{data.dtype.name}")
        return _summary(tag, step, lambda: plugin_metadata("text", description),
                        lambda: _data_and_encoder(data))


def _audio_encode(max_outputs, sample_rate, clips):
    clips = clips[:max_outputs]
    cells = np.empty((len(clips), 2), object)
    for i, clip in enumerate(clips):
        cells[i] = (_encode.encode_wav(clip, sample_rate), b"")
    return _encode.tensor_proto(cells, "string")


_WAV = 11  # AudioPluginData.Encoding.WAV


def audio(name, data, sample_rate, step=None, max_outputs=3, encoding=None, description=None):
    """`tf.summary.audio`: the first `max_outputs` clips of a float32 `[k, frames,
    channels]` batch in [-1, 1], as 16-bit WAV files for TensorBoard's Audio tab."""
    if encoding is None:
        encoding = "wav"
    if encoding != "wav":
        raise ValueError(f"Unknown encoding: {encoding!r}")

    def prepare():
        clips = convert_to_tensor(data)
        _assert_rank(clips, 3)
        n = _assert_non_negative(max_outputs)
        rate = _int32_value(convert_to_tensor(sample_rate, dtype=dtypes.int32), "sample_rate")
        if clips.dtype is not dtypes.float32:
            raise InvalidArgumentError(
                None, None, "cannot compute EncodeWav as input #0(zero-based) was expected to "
                f"be a float tensor but is a {_C_TYPE.get(clips.dtype.name, clips.dtype.name)} "
                "tensor [Op:EncodeWav] name: ")
        return (clips,), functools.partial(_audio_encode, n, rate)

    with summary_scope(name, "audio_summary",
                       values=[data, sample_rate, max_outputs, step]) as (tag, _):
        return _summary(tag, step,
                        lambda: plugin_metadata("audio", description, bytes([0x10, _WAV])), prepare)


_C_TYPE = {"float64": "double", "float16": "half"}


def _raw_summaries(protos_bytes):
    P = protos()
    out = []
    for i, raw in enumerate(protos_bytes):
        try:
            out.append(P.Summary.FromString(raw))
        except Exception:  # noqa: BLE001 - protobuf's DecodeError, whatever its module
            raise DataLossError(
                None, None, "{{function_node __wrapped__WriteRawProtoSummary_device_/job:"
                "localhost/replica:0/task:0/device:CPU:0}} Bad tf.compat.v1.Summary binary "
                f"proto tensor string at index {i} [Op:WriteRawProtoSummary] name: ") from None
    return out


def write_raw_pb(tensor, step=None, name=None):
    """`tf.summary.experimental.write_raw_pb`: writes serialized `Summary` protos (a string
    tensor of them) as they are."""
    def prepare():
        raw = convert_to_tensor(tensor)
        if raw.dtype is not dtypes.string:
            raise TypeError(f"tensor must be of type tf.string; got tf.{raw.dtype.name}")
        summaries = _raw_summaries(np.asarray(raw.numpy(), object).reshape(-1))
        return (), lambda: summaries
    if step is None and state().writer is not None and state().step is None:
        raise ValueError("No step set. Please specify one either through the `step` argument "
                         "or through tf.summary.experimental.set_step()")
    return _record(step, prepare)


def graph(graph_data):
    """`tf.summary.graph`: writes a graph for TensorBoard's Graphs tab (eagerly only): the
    graph of a tf.function trace (`f.get_concrete_function().graph`), or a `GraphDef`
    message."""
    from tapeflow.summary import trace  # the GraphDef builder lives with the tracing API
    if not executing_eagerly():
        raise ValueError("graph() cannot be invoked inside a graph context.")
    writer = state().writer
    if writer is None or _condition() is False:
        return _false()
    serialized = trace.serialize_graph(graph_data)
    if serialized is None:
        raise ValueError("Argument 'graph_data' is not tf.Graph or tf.compat.v1.GraphDef. "
                         f"Received graph_data={graph_data} of type "
                         f"{type(graph_data).__name__}.")
    writer._add_event(protos().Event(step=0, graph_def=serialized), "WriteGraphSummary")
    return wrap(torch.tensor(True))

