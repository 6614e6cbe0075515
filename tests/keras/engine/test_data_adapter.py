"""keras/engine/data_adapter.py: how fit slices arrays into batches."""
import numpy as np

import tapeflow as tf
from tapeflow.keras.engine import data_adapter


def _epoch(batches):
    return [tuple(None if t is None else t.numpy() for t in tf.nest.flatten(b))
            for b in batches.epoch()]


def test_shuffled_epoch_gathers_every_sample_once_with_its_label_and_weight():
    x = np.arange(50 * 3, dtype=np.float32).reshape(50, 3)
    y = np.arange(50)
    sw = np.arange(50, dtype=np.float32) / 10
    batches = data_adapter.ArrayBatches(x, y, sw, batch_size=16, shuffle=True)
    epoch = _epoch(batches)
    assert [len(b[1]) for b in epoch] == [16, 16, 16, 2]
    seen = np.concatenate([b[1] for b in epoch])
    assert sorted(seen) == list(range(50)) and list(seen) != list(range(50))
    for bx, by, bsw in epoch:
        np.testing.assert_array_equal(bx, x[by])
        np.testing.assert_array_equal(bsw, sw[by])


def test_batches_do_not_alias_the_callers_arrays():
    x = np.zeros((8, 2), np.float32)
    for shuffle in (False, True):
        first = next(iter(data_adapter.ArrayBatches(x, batch_size=4, shuffle=shuffle).epoch()))
        x[:] = 7.0
        np.testing.assert_array_equal(tf.nest.flatten(first)[0].numpy(), 0.0)
        x[:] = 0.0


def test_unshuffled_epoch_keeps_order_and_strings_work():
    x = np.array([b"a", b"b", b"c"], dtype=object)
    batches = data_adapter.ArrayBatches(x, np.arange(3), batch_size=2, shuffle=True)
    for bx, by in _epoch(batches):
        assert list(bx) == [x[i] for i in by]
    ordered = _epoch(data_adapter.ArrayBatches(np.arange(5.0), batch_size=2, shuffle=False))
    assert [list(b[0]) for b in ordered] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
