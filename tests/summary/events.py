"""Reading event files back with TensorBoard's own reader (the `tensorboard` package), for
comparing what tapeflow writes with what TensorFlow writes."""
import glob
import io
import os

import numpy as np
import pytest

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.plugin_event_accumulator")
from tensorboard.backend.event_processing import event_file_loader  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402


def event_files(logdir):
    return sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*")))


def raw_events(path):
    """Every Event of one file as stored (TensorBoard's loader, without its migrations)."""
    from tensorboard.compat.proto import event_pb2
    return [event_pb2.Event.FromString(r)
            for r in event_file_loader.RawEventFileLoader(path).Load()]


def _decoded(plugin, array):
    """What a plugin shows: images decoded to pixels, everything else as stored."""
    if plugin == "images":
        from PIL import Image
        return [array[0], array[1]] + [np.asarray(Image.open(io.BytesIO(b))) for b in array[2:]]
    return array


def summaries(logdir):
    """{tag: [(step, plugin, value), ...]} as TensorBoard's EventAccumulator reads `logdir`
    (all its event files), with images decoded."""
    acc = event_accumulator.EventAccumulator(logdir, size_guidance={"tensors": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        metadata = acc.summary_metadata.get(tag)  # None for a plugin-less tf.summary.write
        plugin = metadata.plugin_data.plugin_name if metadata is not None else ""
        out[tag] = [(e.step, plugin, _decoded(plugin, tensor_util.make_ndarray(e.tensor_proto)))
                    for e in acc.Tensors(tag)]
    return out


def _same(a, b, rtol, atol_int):
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y, rtol, atol_int) for x, y in zip(a, b))
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
        return False
    if a.dtype.kind == "f":
        # relative to the array's scale too: a histogram edge near zero is a difference of
        # two larger numbers
        finite = np.abs(b[np.isfinite(b)])
        atol = rtol * finite.max() if finite.size else 0.0
        return np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
    if a.dtype.kind in "iu":
        return np.abs(a.astype(np.int64) - b.astype(np.int64)).max(initial=0) <= atol_int
    return np.array_equal(a, b)


def assert_same_summaries(ours, theirs, rtol=1e-6, atol_int=0):
    """Same tags, and per tag the same steps, plugins and values (floats to `rtol`, integers
    such as pixels to `atol_int`)."""
    assert sorted(ours) == sorted(theirs)
    for tag in theirs:
        got, want = ours[tag], theirs[tag]
        assert [(s, p) for s, p, _ in got] == [(s, p) for s, p, _ in want], tag
        for (step, _, a), (_, _, b) in zip(got, want):
            assert _same(a, b, rtol, atol_int), f"{tag} at step {step}:\n{a}\n!=\n{b}"
