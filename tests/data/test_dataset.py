"""tf.data pipelines against real tf.data: element order, batching, shapes, specs, errors."""
import gzip

import numpy as np
import pytest

import tapeflow as tf

PIPELINES = {
    "slices_tuple": lambda m: m.data.Dataset.from_tensor_slices(([1, 2, 3], [4.0, 5.0, 6.0])),
    "slices_dict": lambda m: m.data.Dataset.from_tensor_slices(
        {"a": [1, 2], "b": [[1, 2], [3, 4]]}),
    "slices_numpy_batch": lambda m: m.data.Dataset.from_tensor_slices(
        np.arange(20, dtype=np.float32).reshape(10, 2)).batch(3),
    "range_batch": lambda m: m.data.Dataset.range(5).batch(2),
    "range_args": lambda m: m.data.Dataset.range(2, 10, 3),
    "batch_drop": lambda m: m.data.Dataset.range(7).batch(3, drop_remainder=True),
    "map_tuple": lambda m: m.data.Dataset.range(3).map(lambda x: (x, x * 2)).map(
        lambda a, b: a + b),
    "map_parallel": lambda m: m.data.Dataset.range(20).map(
        lambda x: x * x, num_parallel_calls=m.data.AUTOTUNE),
    "filter": lambda m: m.data.Dataset.range(10).filter(lambda x: x % 3 == 0),
    "unbatch": lambda m: m.data.Dataset.from_tensor_slices([[1, 2], [3, 4]]).unbatch(),
    "padded_batch": lambda m: m.data.Dataset.range(5).map(lambda x: m.fill([x], x)).padded_batch(2),
    "padded_batch_shapes": lambda m: m.data.Dataset.range(4).map(
        lambda x: m.fill([x], x)).padded_batch(2, padded_shapes=[5], padding_values=m.constant(-1, m.int64)),
    "enumerate": lambda m: m.data.Dataset.range(3).enumerate(start=5),
    "take_skip": lambda m: m.data.Dataset.range(6).take(4).skip(1),
    "repeat": lambda m: m.data.Dataset.range(3).repeat(2),
    "interleave": lambda m: m.data.Dataset.range(3).interleave(
        lambda x: m.data.Dataset.from_tensors(x).repeat(2), cycle_length=2),
    "flat_map": lambda m: m.data.Dataset.range(3).flat_map(
        lambda x: m.data.Dataset.from_tensors(x).repeat(2)),
    "zip": lambda m: m.data.Dataset.zip((m.data.Dataset.range(3), m.data.Dataset.range(5))),
    "concatenate": lambda m: m.data.Dataset.range(3).concatenate(m.data.Dataset.range(2)),
    "generator": lambda m: m.data.Dataset.from_generator(
        lambda: iter([[1], [2, 3]]), output_signature=m.TensorSpec((None,), m.int32)),
    "from_tensors": lambda m: m.data.Dataset.from_tensors([1, 2]),
    "strings": lambda m: m.data.Dataset.from_tensor_slices(["a", "bc"]).batch(2),
    "cache": lambda m: m.data.Dataset.range(4).cache().repeat(2),
    "prefetch": lambda m: m.data.Dataset.range(10).map(lambda x: x + 1).prefetch(2),
    "shuffle_full_then_sorted": lambda m: m.data.Dataset.range(5).shuffle(1).batch(5),
}


def _numpy_list(ds):
    out = []
    for e in ds.as_numpy_iterator():
        flat = e if isinstance(e, (tuple, dict)) else (e,)
        if isinstance(flat, dict):
            flat = tuple(flat[k] for k in sorted(flat))
        out.append(tuple(np.asarray(v) for v in flat))
    return out


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_pipeline_matches_tf(realtf, name):
    ours, theirs = PIPELINES[name](tf), PIPELINES[name](realtf)
    assert repr(ours.element_spec) == repr(theirs.element_spec)
    assert int(ours.cardinality()) == int(theirs.cardinality())
    a, b = _numpy_list(ours), _numpy_list(theirs)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for u, v in zip(x, y):
            assert u.dtype == v.dtype and u.shape == v.shape
            np.testing.assert_array_equal(u, v)


def test_repr_and_len(realtf):
    for make in (lambda m: m.data.Dataset.from_tensor_slices(([1, 2, 3], [4.0, 5.0, 6.0])),
                 lambda m: m.data.Dataset.range(5).batch(2),
                 lambda m: m.data.Dataset.range(5).shuffle(3).prefetch(1)):
        assert repr(make(tf)) == repr(make(realtf))
    assert len(tf.data.Dataset.range(5).batch(2)) == 3
    with pytest.raises(TypeError, match="infinite"):
        len(tf.data.Dataset.range(5).repeat())
    with pytest.raises(TypeError, match="unknown"):
        len(tf.data.Dataset.range(5).filter(lambda x: x > 2))


def test_errors_match_tf(realtf):
    for m in (tf, realtf):
        with pytest.raises(ValueError, match="Dimensions 3 and 2 are not compatible"):
            m.data.Dataset.from_tensor_slices(([1, 2, 3], [4.0, 5.0]))
        with pytest.raises(ValueError):
            m.data.Dataset.from_tensor_slices(5)
        it = iter(m.data.Dataset.range(1))
        next(it)
        with pytest.raises(StopIteration):
            next(it)
        with pytest.raises(m.errors.OutOfRangeError):
            it.get_next()
        with pytest.raises(m.errors.InvalidArgumentError):
            list(m.data.Dataset.from_generator(
                lambda: iter([1, [1, 2]]), output_signature=m.TensorSpec((), m.int32)))


def test_shuffle_determinism():
    def order(seed=None, global_seed=None, epochs=2, reshuffle=True):
        if global_seed is not None:
            tf.random.set_seed(global_seed)
        ds = tf.data.Dataset.range(50).shuffle(10, seed=seed, reshuffle_each_iteration=reshuffle)
        return [[int(x) for x in ds] for _ in range(epochs)]
    a, b = order(seed=1), order(seed=1)
    assert a == b and a[0] != a[1] and sorted(a[0]) == list(range(50))
    assert order(global_seed=3) == order(global_seed=3)
    tf.random.set_seed(None)
    c = order(seed=7, reshuffle=False)
    assert c[0] == c[1]
    assert order()[0] != list(range(50))


def test_shuffle_buffer_keeps_locality():
    # with a buffer of 2, an element can only move a little ahead of its position
    out = [int(x) for x in tf.data.Dataset.range(100).shuffle(2, seed=0)]
    assert sorted(out) == list(range(100))
    assert all(v <= i + 1 for i, v in enumerate(out))


def test_shuffle_batch_fast_path_matches_slow_path():
    x = np.arange(30, dtype=np.float32).reshape(15, 2)
    fast = tf.data.Dataset.from_tensor_slices(x).shuffle(15, seed=4).batch(4)
    slow = tf.data.Dataset.from_tensor_slices(x).map(lambda v: v).shuffle(15, seed=4).batch(4)
    got = np.concatenate([b.numpy() for b in fast])
    assert sorted(got[:, 0].tolist()) == x[:, 0].tolist()
    assert [b.shape for b in fast] == [b.shape for b in slow]


def test_prefetch_propagates_errors_and_overlaps():
    def gen():
        yield 1
        raise RuntimeError("boom in generator")
    ds = tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec((), tf.int32))
    with pytest.raises(RuntimeError, match="boom"):
        list(ds.prefetch(2))
    assert [int(x) for x in tf.data.Dataset.range(50).prefetch(4)] == list(range(50))


def test_map_python_side_effects_run_at_trace_time(realtf):
    for m, expected in ((tf, 1), (realtf, 1)):
        calls = []

        def fn(x):
            calls.append(1)
            return x + 1
        list(m.data.Dataset.range(5).map(fn))
        assert len(calls) == expected


def test_file_cache_is_written_atomically_and_reused(tmp_path):
    path = str(tmp_path / "cache")
    calls = []

    def gen():
        calls.append(1)
        yield from range(3)
    make = lambda: tf.data.Dataset.from_generator(  # noqa: E731
        gen, output_signature=tf.TensorSpec((), tf.int64)).cache(path)
    assert [int(x) for x in make()] == [0, 1, 2]
    assert [int(x) for x in make()] == [0, 1, 2]
    assert len(calls) == 1
    assert not list(tmp_path.glob("*.tmp"))


def test_text_line_dataset(tmp_path, realtf):
    plain = tmp_path / "a.txt"
    plain.write_text("first\nsecond\r\nthird")
    packed = tmp_path / "b.txt.gz"
    with gzip.open(packed, "wb") as f:
        f.write(b"x\ny\n")
    for m in (tf, realtf):
        assert [x.numpy() for x in m.data.TextLineDataset(str(plain))] == \
            [b"first", b"second", b"third"]
        assert [x.numpy() for x in m.data.TextLineDataset(
            [str(packed)], compression_type="GZIP")] == [b"x", b"y"]
    with pytest.raises(tf.errors.NotFoundError):
        list(tf.data.TextLineDataset(str(tmp_path / "missing.txt")))


def test_reduce_and_as_numpy(realtf):
    for m in (tf, realtf):
        total = m.data.Dataset.range(5).reduce(m.constant(0, m.int64), lambda s, x: s + x)
        assert int(total) == 10
