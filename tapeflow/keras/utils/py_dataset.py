"""`keras.utils.PyDataset` (and its older name `keras.utils.Sequence`): a dataset written in
Python as an indexable list of batches.

A subclass returns batch `index` from `__getitem__` and the number of batches from `__len__`
(or the `num_batches` property; None means endless). `fit` reads the batches in order, or in a
new random order each epoch with `shuffle=True`, calling `on_epoch_begin`/`on_epoch_end`
around every epoch; with `workers > 1` it loads the next batches on that many threads
(`use_multiprocessing` also loads on threads here: tapeflow's tensors stay in this process).
"""
import itertools
import warnings
from concurrent.futures import ThreadPoolExecutor


class PyDataset:
    """Base class for datasets written in Python, batch by batch.

    Args:
        workers: threads that load batches ahead of the training step (1: none).
        use_multiprocessing: accepted for Keras compatibility (loading uses threads).
        max_queue_size: at most this many batches are loaded ahead.

    Example:
    >>> class Batches(keras.utils.PyDataset):
    ...     def __init__(self, x, y, batch_size, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.x, self.y, self.batch_size = x, y, batch_size
    ...     def __len__(self):
    ...         return math.ceil(len(self.x) / self.batch_size)
    ...     def __getitem__(self, idx):
    ...         low = idx * self.batch_size
    ...         return self.x[low:low + self.batch_size], self.y[low:low + self.batch_size]
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        missing = False
        for attr, default in (("_workers", 1), ("_use_multiprocessing", False),
                              ("_max_queue_size", 10)):
            if not hasattr(self, attr):
                setattr(self, attr, default)
                missing = True
        if missing:
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in "
                          "its constructor. `**kwargs` can include `workers`, "
                          "`use_multiprocessing`, `max_queue_size`. Do not pass these "
                          "arguments to `fit()`, as they will be ignored.", stacklevel=3)

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        raise NotImplementedError

    @property
    def num_batches(self):
        """The number of batches, or None for an endless dataset (default: `len(self)`)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def __iter__(self):
        try:
            n = self.num_batches
        except NotImplementedError:
            n = None
        for index in (range(n) if n is not None else itertools.count()):
            yield self[index]

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


Sequence = PyDataset


def load_batches(dataset, order):
    """`dataset[i]` for each index of `order`, loaded `workers` at a time ahead of use."""
    workers = dataset.workers
    if workers <= 1:
        for i in order:
            yield dataset[i]
        return
    ahead = max(1, dataset.max_queue_size)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = []
        for i in order:
            pending.append(pool.submit(dataset.__getitem__, i))
            if len(pending) >= ahead:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()
