"""The data `fit`/`evaluate`/`predict` accept, as batches, with Keras 3's rules.

NumPy arrays and tensors (nested in lists, tuples or dicts) are cut into batches here, with
float64 arrays as float32 (Keras's floatx), lists as tuples, and a new shuffle each epoch.
Anything else that iterates yields batches itself: a `tf.data.Dataset`, a
`keras.utils.PyDataset`, a generator, a list of batches. A batch reaches the step functions as
Keras packs it: `x` alone when there are no targets, else `(x, y)` or `(x, y, sample_weight)`.
`EpochIterator` cuts the stream into epochs of `steps_per_epoch` steps (keeping one iterator
across epochs then, as Keras does) and into executions of `steps_per_execution` steps.
"""
import itertools
import math
import types
import warnings

import numpy as np

from tapeflow._core import nest
from tapeflow._core.tensor import Tensor, adopt_numpy, constant, convert_to_tensor
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
    """The batch as the step functions see it: `x` alone when there are no targets (a tuple
    `x` is wrapped, `(x,)`, so that it is not read as `(x, y)`)."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _lists_to_tuples(x):
    if isinstance(x, (list, tuple)):
        return tuple(_lists_to_tuples(v) for v in x)
    if isinstance(x, dict):
        return {k: _lists_to_tuples(v) for k, v in x.items()}
    return x


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
    bad = [type(a) for a in flat if not _is_array(a)]
    if bad:
        raise ValueError("Argument `validation_split` is only supported for tensors or NumPy "
                         f"arrays.Found incompatible type in the input: {bad}")
    if not flat:
        return arrays, arrays
    n = int(flat[0].shape[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to split "
                         f"it into a validation and training set as specified by "
                         f"`validation_split={validation_split}`. Either provide more data, or "
                         "a different value for the `validation_split` argument.")
    train = nest.map_structure(lambda a: None if a is None else a[:split_at], arrays)
    val = nest.map_structure(lambda a: None if a is None else a[split_at:], arrays)
    return train, val


def class_weight_to_sample_weights(y, class_weight):
    """Per-sample weights from `{class: weight}` (classes missing from the dict weigh 1): the
    class is the argmax of one-hot targets, else the rounded label."""
    y = np.asarray(y.numpy() if hasattr(y, "numpy") else y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    labels = np.round(y).astype(np.int32).reshape(-1)
    return np.array([class_weight.get(int(c), 1.0) for c in labels],
                    dtype=np.float32).reshape(y.shape[:1])


def _unsupported(arg, description, kind):
    return ValueError(f"When providing `x` as a {kind}, `{arg}` should not be passed. Instead, "
                      f"{description} should be included as part of the {kind}.")


class ArrayBatches:
    """Batches of in-memory arrays; `shuffle` reorders the samples each epoch (True) or the
    samples within each batch ('batch')."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, shuffle=False,
                 class_weight=None, steps=None):
        x = nest.map_structure(_to_numpy, _lists_to_tuples(x))
        y = None if y is None else nest.map_structure(_to_numpy, _lists_to_tuples(y))
        if sample_weight is not None:
            if class_weight is not None:
                raise ValueError("You cannot `class_weight` and `sample_weight` at the same "
                                 "time.")
            sample_weight = nest.map_structure(_to_numpy, _lists_to_tuples(sample_weight))
            if nest.is_nested(y) and not nest.is_nested(sample_weight):
                if not (sample_weight.ndim == 1 or (sample_weight.ndim == 2 and
                                                    sample_weight.shape[1] == 1)):
                    raise ValueError(
                        "For a model with multiple outputs, when providing a single "
                        "`sample_weight` array, it should only have one scalar score per "
                        "sample (i.e. shape `(num_samples,)`). If you want to use non-scalar "
                        "sample weights, pass a `sample_weight` argument with one array per "
                        "model output.")
                sample_weight = nest.map_structure(lambda _: sample_weight, y)
        if class_weight is not None:
            if nest.is_nested(y):
                raise ValueError("`class_weight` is only supported for Models with a single "
                                 "output.")
            sample_weight = class_weight_to_sample_weights(y, class_weight)
        self.inputs = pack_x_y_sample_weight(x, y, sample_weight)
        sizes = {a.shape[0] for a in nest.flatten(self.inputs) if a is not None}
        if len(sizes) > 1:
            raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the "
                             f"same number of samples. Received sizes: {sorted(sizes)}")
        self.num_samples = sizes.pop()
        if not batch_size:  # Keras: a batch size from `steps` when only it is given
            batch_size = int(math.ceil(self.num_samples / steps)) if steps else 32
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.permutation = np.random.permutation  # tf.distribute: a job-wide permutation
        self.num_batches = int(math.ceil(self.num_samples / batch_size))

    def epoch(self):
        """Yields one pass over the data. Shuffled epochs gather each batch's rows as it is
        needed (as Keras does with its shuffled indices), rather than writing a permuted copy
        of all the data first."""
        perm = self.permutation(self.num_samples) if self.shuffle and \
            self.shuffle != "batch" else None
        bs, inputs = self.batch_size, self.inputs
        for step in range(self.num_batches):
            start = step * bs
            stop = min(start + bs, self.num_samples)
            if self.shuffle == "batch":
                rows = np.random.permutation(stop - start) + start
            else:
                rows = slice(start, stop) if perm is None else perm[start:stop]
            yield nest.map_structure(lambda a: None if a is None else _rows(a, rows), inputs)

    def on_epoch_begin(self):
        pass

    on_epoch_end = on_epoch_begin


def _rows(a, rows):
    """Rows `rows` (a slice, or indices) of an array as a tensor that shares no memory with
    the caller's array: a slice is copied, a gather is a fresh array the tensor adopts."""
    if a.dtype == object or a.dtype.kind in "SU":
        return constant(a[rows])
    if isinstance(rows, slice):
        return convert_to_tensor(np.ascontiguousarray(a[rows]))
    return adopt_numpy(np.take(a, rows, axis=0))


class IterableBatches:
    """Batches from an iterable: a dataset, a PyDataset, a generator, a list of batches."""

    def __init__(self, data, class_weight=None, shuffle=False):
        from tapeflow.keras.utils.py_dataset import PyDataset
        self.data = data
        self.class_weight = class_weight
        self.py_dataset = isinstance(data, PyDataset)
        self.shuffle = bool(shuffle) and self.py_dataset
        self._generator = isinstance(data, types.GeneratorType)
        self._first = None
        if self._generator:
            # Keras looks at the first element to check that it is a tuple
            self._first = next(data)
            if not isinstance(self._first, tuple):
                raise ValueError(
                    "When passing a Python generator to a Keras model, the generator must "
                    "return a tuple, either (input,) or (inputs, targets) or (inputs, targets, "
                    f"sample_weights). Received: {self._first}")
        self.num_batches = self._count()

    def _count(self):
        if self.py_dataset:
            return self.data.num_batches
        if hasattr(self.data, "cardinality"):
            try:
                n = int(self.data.cardinality())
            except (TypeError, ValueError):
                return None
            return n if n >= 0 else None
        if hasattr(self.data, "__len__"):
            return len(self.data)
        return None

    def epoch(self):
        if self._generator:
            first, self._first = self._first, None
            if first is not None:
                yield self._standardize(first)
            for batch in self.data:
                yield self._standardize(batch)
            return
        if self.py_dataset:
            source = self._py_dataset_batches()
        else:
            source = iter(self.data)
        for batch in source:
            yield self._standardize(batch)

    def _py_dataset_batches(self):
        from tapeflow.keras.utils.py_dataset import load_batches
        n = self.num_batches
        if n is None:
            return load_batches(self.data, itertools.count())
        order = list(range(n))
        if self.shuffle:
            np.random.shuffle(order)
        return load_batches(self.data, order)

    def _standardize(self, batch):
        if self.py_dataset:
            if isinstance(batch, np.ndarray):
                batch = (batch,)
            if isinstance(batch, list):
                batch = tuple(batch)
            if not isinstance(batch, (tuple, dict)) or (
                    isinstance(batch, tuple) and len(batch) not in (1, 2, 3)):
                raise ValueError(
                    "PyDataset.__getitem__() must return a tuple or a dict. If a tuple, it "
                    "must be ordered either (input,) or (inputs, targets) or (inputs, targets, "
                    f"sample_weights). Received: {str(batch)[:100]}... of type {type(batch)}")
        elif isinstance(batch, list):
            batch = tuple(batch)
        if self.class_weight is not None and isinstance(batch, tuple):
            if len(batch) == 3:
                raise ValueError("You cannot `class_weight` and `sample_weight` at the same "
                                 "time.")
            if len(batch) == 2:
                if nest.is_nested(batch[1]):
                    raise ValueError("`class_weight` is only supported for Models with a "
                                     "single output.")
                batch = batch + (convert_to_tensor(
                    class_weight_to_sample_weights(batch[1], self.class_weight)),)
        return batch

    def on_epoch_begin(self):
        if self.py_dataset:
            self.data.on_epoch_begin()

    def on_epoch_end(self):
        if self.py_dataset:
            self.data.on_epoch_end()


def _numbers_as_array(v):
    """A (nested) Python list of numbers as one array (Keras refuses such lists; a list of
    arrays stays a structure of several inputs)."""
    if isinstance(v, list) and v and all(isinstance(e, (int, float)) for e in nest.flatten(v)):
        return np.asarray(v)
    return v


def _is_list_of_batches(x):
    return isinstance(x, (list, tuple)) and bool(x) and all(
        isinstance(e, (tuple, list)) for e in x)


def make_batches(x, y=None, sample_weight=None, batch_size=None, shuffle=False,
                 class_weight=None, steps=None):
    """The batches of `x` (and `y`, `sample_weight`) as Keras's data adapters cut them."""
    if y is not None:
        x = _numbers_as_array(x)
    if is_array_structure(x) and not (y is None and _is_list_of_batches(x)):
        x, y, sample_weight = (_numbers_as_array(v) for v in (x, y, sample_weight))
        return ArrayBatches(x, y, sample_weight, batch_size, shuffle, class_weight, steps)
    from tapeflow.keras.utils.py_dataset import PyDataset
    if not isinstance(x, PyDataset) and not hasattr(x, "__iter__"):
        raise ValueError(f"Unrecognized data type: x={x} (of type {type(x)})")
    generator = isinstance(x, types.GeneratorType)
    kind = "tf.data.Dataset" if hasattr(x, "element_spec") else "PyDataset" if isinstance(
        x, PyDataset) else "generator" if generator else "iterable of batches"
    if y is not None:
        raise _unsupported("y", "the targets", kind)
    if sample_weight is not None:
        raise _unsupported("sample_weights", "the sample weights", kind)
    if class_weight is not None and generator:
        raise ValueError("Argument `class_weight` is not supported for Python generator "
                         f"inputs. Received: class_weight={class_weight}")
    if shuffle and kind == "tf.data.Dataset":
        warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was "
                      "provided as a tf.data.Dataset. The Dataset is expected to already be "
                      "shuffled (via `.shuffle(buffer_size)`).", stacklevel=5)
    elif shuffle and generator:
        warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was "
                      "provided as a generator. The generator is expected to yield "
                      "already-shuffled data.", stacklevel=5)
    return IterableBatches(x, class_weight, shuffle)


_RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset or "
            "generator can generate at least `steps_per_epoch * epochs` batches. You may need "
            "to use the `.repeat()` function when building your dataset.")


class EpochIterator:
    """Epochs of executions over the batches: iterating gives `(begin_step, end_step,
    [batches])` tuples, `steps_per_execution` batches each (fewer at the end of the data).

    With `steps_per_epoch`, one iterator serves the epochs until the data runs out (Keras's
    rule: the second epoch continues where the first stopped)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None,
                 shuffle=False, class_weight=None, steps_per_execution=1, strategy=None):
        self.adapter = make_batches(x, y, sample_weight, batch_size, shuffle, class_weight,
                                    steps_per_epoch)
        if strategy is not None:  # this worker's part of every global batch
            from tapeflow.keras.engine.distribution import distribute
            self.adapter = distribute(self.adapter, strategy)
        self.steps_per_epoch = steps_per_epoch
        self.steps_per_execution = max(1, int(steps_per_execution or 1))
        self._num_batches = self.adapter.num_batches
        self._iterator = None
        self._seen = 0

    @property
    def num_batches(self):
        return self.steps_per_epoch if self.steps_per_epoch else self._num_batches

    def reset(self):
        """Before a loop over the epochs (Keras ends the data's epoch here too)."""
        self._iterator, self._seen = None, 0
        self.adapter.on_epoch_end()

    def _ran_out(self):
        warnings.warn(_RAN_OUT, stacklevel=5)

    def __iter__(self):
        self.adapter.on_epoch_begin()
        per_exec = self.steps_per_execution
        steps = self.steps_per_epoch or self._num_batches
        if self._iterator is None or self.steps_per_epoch is None:
            self._iterator, self._seen = self.adapter.epoch(), 0
        step = 0
        while steps is None or step < steps:
            if self._num_batches and self._seen >= self._num_batches:
                if self.steps_per_epoch:
                    self._ran_out()
                break
            buffer = []
            for _ in range(per_exec if steps is None else min(per_exec, steps - step)):
                try:
                    buffer.append(next(self._iterator))
                except StopIteration:
                    break
            if buffer:
                self._seen += len(buffer)
                yield step, step + per_exec - 1, buffer  # Keras's end step, even if short
                step += len(buffer)
            if len(buffer) < per_exec and (steps is None or step < steps):
                # the data ran out before the epoch's steps did (data of unknown size
                # always ends so, and Keras warns then too)
                self._ran_out()
                self._iterator = None
                break
        if self._iterator is not None and self._num_batches and \
                self._seen >= self._num_batches:
            self._iterator = None
        self.adapter.on_epoch_end()
