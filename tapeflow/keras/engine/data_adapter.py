"""The data `fit`/`evaluate`/`predict` accept, as batches.

NumPy arrays and tensors (nested in lists, tuples or dicts) are cut into batches here, with
float64 arrays as float32 (Keras's floatx) and a new shuffle of the samples each epoch.
Anything else that iterates (a `tf.data.Dataset`, a generator, a list of batches) yields
batches itself: `(x,)`, `(x, y)` or `(x, y, sample_weight)`; its `len()` or `cardinality()`,
when it has one, gives the number of steps.
"""
import math

import numpy as np

import tapeflow as tf
from tapeflow._core import nest
from tapeflow._core.tensor import Tensor, adopt_numpy
from tapeflow._core.variable import Variable
from tapeflow.keras.engine import config


def unpack_x_y_sample_weight(data):
    """`data` as `(x, y, sample_weight)`, missing parts as None (Keras's rule)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found: {data}")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _is_array(x):
    return isinstance(x, (np.ndarray, Tensor, Variable)) or (
        hasattr(x, "__array__") and hasattr(x, "shape") and not hasattr(x, "element_spec"))


def is_array_structure(x):
    leaves = nest.flatten(x)
    return bool(leaves) and all(_is_array(v) or v is None or isinstance(v, (list, float, int))
                                for v in leaves) and any(_is_array(v) or isinstance(v, list)
                                                         for v in leaves)


def _to_numpy(x):
    if x is None:
        return None
    a = np.asarray(x.numpy() if hasattr(x, "numpy") else x)
    if a.dtype == np.float64 and config.floatx() != "float64":
        a = a.astype(config.floatx() if config.floatx() != "bfloat16" else np.float32)
    return a


def train_validation_split(arrays, validation_split):
    """The last `validation_split` of the samples as validation data, as Keras does."""
    flat = [a for a in nest.flatten(arrays) if a is not None]
    n = flat[0].shape[0]
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to split "
                         f"it into a validation and training set as specified by "
                         f"`validation_split={validation_split}`. Either provide more data, or "
                         "a different value for the `validation_split` argument.")
    train = nest.map_structure(lambda a: None if a is None else a[:split_at], arrays)
    val = nest.map_structure(lambda a: None if a is None else a[split_at:], arrays)
    return train, val


def _class_weights(y, class_weight):
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] > 1:
        idx = np.argmax(y, axis=-1)
    else:
        idx = y.reshape(y.shape[0], -1)[:, 0].astype(np.int64)
    table = np.zeros(max(int(idx.max()) + 1, max(class_weight) + 1), dtype=np.float32)
    for k, w in class_weight.items():
        table[int(k)] = w
    return table[idx]


class ArrayBatches:
    """Batches of in-memory arrays; `shuffle` reorders the samples each epoch."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False,
                 class_weight=None, steps=None):
        self.x = nest.map_structure(_to_numpy, x)
        self.y = nest.map_structure(_to_numpy, y) if y is not None else None
        self.sample_weight = None if sample_weight is None else _to_numpy(sample_weight)
        if class_weight is not None and self.y is not None:
            cw = _class_weights(nest.flatten(self.y)[0], class_weight)
            self.sample_weight = cw if self.sample_weight is None else self.sample_weight * cw
        sizes = {a.shape[0] for a in nest.flatten((self.x, self.y, self.sample_weight))
                 if a is not None}
        if len(sizes) > 1:
            raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the "
                             f"same number of samples. Received sizes: {sorted(sizes)}")
        self.num_samples = sizes.pop()
        self.batch_size = batch_size or 32
        self.shuffle = shuffle
        self.permutation = np.random.permutation  # tf.distribute: a job-wide permutation
        self.num_batches = int(math.ceil(self.num_samples / self.batch_size))
        self.steps = steps if steps is not None else self.num_batches

    def __len__(self):
        return self.steps

    def epoch(self):
        """Yields the batches of one epoch as tuples of tensors. Shuffled epochs gather each
        batch's rows from the arrays as it is needed (as Keras does with its shuffled
        indices), rather than writing a permuted copy of all the data first."""
        data = (self.x, self.y, self.sample_weight)
        perm = self.permutation(self.num_samples) if self.shuffle else None
        bs = self.batch_size
        for step in range(self.steps):
            start = (step % self.num_batches) * bs
            stop = min(start + bs, self.num_samples)
            rows = slice(start, stop) if perm is None else perm[start:stop]
            batch = nest.map_structure(lambda a: None if a is None else _rows(a, rows), data)
            yield pack_x_y_sample_weight(*batch)


def _rows(a, rows):
    """Rows `rows` (a slice, or indices) of an array as a tensor that shares no memory with
    the caller's array: a slice is copied, a gather is a fresh array the tensor adopts."""
    if a.dtype == object or a.dtype.kind in "SU":
        return tf.constant(a[rows])
    if isinstance(rows, slice):
        return tf.convert_to_tensor(np.ascontiguousarray(a[rows]))
    return adopt_numpy(np.take(a, rows, axis=0))


class IterableBatches:
    """Batches from an iterable (a dataset, a generator, a list of batches)."""

    def __init__(self, data, steps=None):
        self.data = data
        n = None
        if hasattr(data, "cardinality"):
            try:
                n = int(data.cardinality())
            except (TypeError, ValueError):
                n = None
            if n is not None and n < 0:
                n = None
        elif hasattr(data, "__len__"):
            n = len(data)
        self.steps = steps if steps is not None else n
        self._iterator = None

    def __len__(self):
        return self.steps

    def epoch(self):
        if self.steps is not None and self._iterator is not None and \
                self._steps_given():
            it = self._iterator
        else:
            it = iter(self.data)
            self._iterator = it
        for step, batch in enumerate(it):
            yield batch if isinstance(batch, tuple) else (batch,) if not isinstance(
                batch, list) else tuple(batch)
            if self.steps is not None and step + 1 >= self.steps:
                break

    def _steps_given(self):
        # With an explicit `steps_per_epoch` on an iterator (a generator), Keras keeps
        # consuming the same iterator across epochs.
        return not hasattr(self.data, "__len__") and not hasattr(self.data, "cardinality")


def _is_list_of_batches(x):
    return isinstance(x, (list, tuple)) and bool(x) and all(
        isinstance(e, (tuple, list)) for e in x)


def make_batches(x, y=None, sample_weight=None, batch_size=None, shuffle=False,
                 class_weight=None, steps=None):
    if is_array_structure(x) and not (y is None and _is_list_of_batches(x)):
        if isinstance(x, list) and x and isinstance(x[0], (int, float)):
            x = np.asarray(x)
        return ArrayBatches(x, y, sample_weight, batch_size, shuffle, class_weight, steps)
    if y is not None:
        raise ValueError("When providing `x` as a dataset or an iterable, `y` should not be "
                         f"passed. Instead, the targets should be included as part of the "
                         f"dataset `x`. Received: y={y!r}")
    return IterableBatches(x, steps)
