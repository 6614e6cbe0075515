"""The dataset transformations: map, filter, shuffle, repeat, take, skip, prefetch, cache,
interleave, zip, concatenate (batching is in batching.py).

Each is a small class whose `_iterate()` pulls from its input. Index-stream forms (see
dataset.py) are kept by shuffle/repeat/take/skip when their input is one.
"""
import concurrent.futures
import itertools
import os
import queue
import threading

import numpy as np

from tapeflow._core import dtypes, nest
from tapeflow._core.errors import InvalidArgumentError, OperatorNotAllowedInGraphError
from tapeflow._core.spec import TensorSpec
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.data import structure
from tapeflow.data.dataset import (AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY,
                                   DatasetV2)
from tapeflow.function.tf_function import Function
from tapeflow.ops.random import get_global_seed


def _call(fn, element):
    """TF unpacks tuple elements into positional arguments of the user's function."""
    if isinstance(element, tuple) and not hasattr(element, "_fields"):
        return fn(*element)
    return fn(element)


class _Traced:
    """A user function traced with tf.function, as TF traces dataset functions; where tracing
    cannot express it (a shape that depends on values, e.g. `tf.fill([x], x)`), it runs
    eagerly from then on."""

    def __init__(self, fn):
        self._python = fn.python_function if isinstance(fn, Function) else fn
        self._fn = fn if isinstance(fn, Function) else Function(fn)

    def __call__(self, *args):
        if self._fn is not self._python and _has_strings(args):
            # string kernels (parsing, decoding) run on the host only: run the function
            # eagerly from the start instead of tracing it to find that out
            self._fn = self._python
        if self._fn is not self._python:
            try:
                return self._fn(*args)
            except OperatorNotAllowedInGraphError:
                self._fn = self._python
        return self._python(*args)


def _has_strings(args):
    return any(getattr(t, "dtype", None) is dtypes.string for t in nest.flatten(args))


_traced = _Traced


class _Unary(DatasetV2):
    def __init__(self, input_dataset):
        self._input = input_dataset

    @property
    def element_spec(self):
        return self._input.element_spec

    def _cardinality(self):
        return self._input._cardinality()


class _LazySpec:
    """element_spec from the first element, for transformations whose output structure is
    only known by running the user's function."""

    @property
    def element_spec(self):
        spec = getattr(self, "_spec_cache", None)
        if spec is None:
            first = next(iter(self._iterate()), None)
            if first is None:
                raise ValueError("Cannot infer the element_spec of an empty dataset.")
            spec = self._spec_cache = structure.spec_of(first)
        return spec


# -- elementwise ---------------------------------------------------------------------------------

class MapDataset(_LazySpec, _Unary):
    def __init__(self, input_dataset, map_func, num_parallel_calls=None):
        super().__init__(input_dataset)
        self._fn = _traced(map_func)
        self._parallel = num_parallel_calls
        self._name = "Map" if num_parallel_calls is None else "ParallelMap"

    def _apply(self, element):
        out = _call(self._fn, element)
        return nest.map_structure(convert_to_tensor, out)

    def _iterate(self):
        if not self._parallel or self._parallel == 1:
            return map(self._apply, self._input._iterate())
        workers = os.cpu_count() or 2 if self._parallel == AUTOTUNE else int(self._parallel)
        return _ordered_parallel_map(self._apply, self._input._iterate(), workers)


def _ordered_parallel_map(fn, iterable, workers):
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        pending = []
        for element in iterable:
            pending.append(pool.submit(fn, element))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for f in pending:
            yield f.result()


class FilterDataset(_Unary):
    _name = "Filter"

    def __init__(self, input_dataset, predicate):
        super().__init__(input_dataset)
        self._predicate = _traced(predicate)

    def _cardinality(self):
        n = self._input._cardinality()
        return n if n == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY

    def _iterate(self):
        for element in self._input._iterate():
            keep = convert_to_tensor(_call(self._predicate, element))
            if keep.dtype is not dtypes.bool or keep.ndim != 0:
                raise ValueError("`predicate` return type must be convertible to a scalar "
                                 f"boolean tensor. Was {TensorSpec(keep.shape, keep.dtype)}.")
            if bool(keep):
                yield element


# -- order and count -----------------------------------------------------------------------------

def _rng(seed):
    global_seed = get_global_seed()
    if seed is None and global_seed is None:
        return np.random.default_rng()
    return np.random.default_rng([0 if global_seed is None else int(global_seed),
                                  0 if seed is None else int(seed)])


class ShuffleDataset(_Unary):
    """TF's buffer shuffle: keep `buffer_size` elements, emit a random one, refill."""

    _name = "Shuffle"

    def __init__(self, input_dataset, buffer_size, seed, reshuffle_each_iteration):
        super().__init__(input_dataset)
        self._buffer_size = int(buffer_size)
        if self._buffer_size <= 0 and self._buffer_size != AUTOTUNE:
            raise InvalidArgumentError(None, None, "buffer_size must be greater than zero.")
        self._seed = seed
        self._reshuffle = reshuffle_each_iteration
        self._epoch_rng = _rng(seed)
        self._source = input_dataset._source

    def _next_rng(self):
        if self._reshuffle:
            return np.random.default_rng(self._epoch_rng.integers(2 ** 63))
        return _rng(self._seed) if self._seed is not None else np.random.default_rng(
            self._fixed_seed())

    def _fixed_seed(self):
        if not hasattr(self, "_fixed"):
            self._fixed = int(self._epoch_rng.integers(2 ** 63))
        return self._fixed

    def _shuffled(self, items):
        rng = self._next_rng()
        n = self._input._cardinality()
        if n >= 0 and (self._buffer_size >= n or self._buffer_size == AUTOTUNE):
            items = list(items)
            yield from (items[i] for i in rng.permutation(len(items)))
            return
        buffer = []
        for item in items:
            if len(buffer) < self._buffer_size:
                buffer.append(item)
                continue
            j = int(rng.integers(len(buffer)))
            yield buffer[j]
            buffer[j] = item
        while buffer:
            j = int(rng.integers(len(buffer)))
            buffer[j], buffer[-1] = buffer[-1], buffer[j]
            yield buffer.pop()

    def _indices(self):
        indices = self._input._indices()
        return None if indices is None else self._shuffled(indices)

    def _iterate(self):
        indices = self._indices()
        if indices is not None:
            return (self._source._gather_one(i) for i in indices)
        return self._shuffled(self._input._iterate())


class RepeatDataset(_Unary):
    _name = "Repeat"

    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = -1 if count is None else int(count)
        self._source = input_dataset._source

    def _cardinality(self):
        n = self._input._cardinality()
        if self._count < 0:
            return 0 if n == 0 else INFINITE_CARDINALITY
        return n * self._count if n >= 0 else n

    def _epochs(self):
        return itertools.count() if self._count < 0 else range(self._count)

    def _indices(self):
        if self._input._indices() is None:
            return None
        return itertools.chain.from_iterable(self._input._indices() for _ in self._epochs())

    def _iterate(self):
        for _ in self._epochs():
            empty = True
            for element in self._input._iterate():
                empty = False
                yield element
            if empty:
                return


class TakeDataset(_Unary):
    _name = "Take"

    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = int(count)
        self._source = input_dataset._source

    def _cardinality(self):
        n = self._input._cardinality()
        if self._count < 0:
            return n
        if n == INFINITE_CARDINALITY:
            return self._count
        return n if n == UNKNOWN_CARDINALITY else min(n, self._count)

    def _limit(self, it):
        return it if self._count < 0 else itertools.islice(it, self._count)

    def _indices(self):
        indices = self._input._indices()
        return None if indices is None else self._limit(indices)

    def _iterate(self):
        return self._limit(self._input._iterate())


class SkipDataset(_Unary):
    _name = "Skip"

    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = int(count)
        self._source = input_dataset._source

    def _cardinality(self):
        n = self._input._cardinality()
        if n < 0:
            return n
        return 0 if self._count < 0 else max(0, n - self._count)

    def _skip(self, it):
        if self._count < 0:
            return iter(())
        return itertools.islice(it, self._count, None)

    def _indices(self):
        indices = self._input._indices()
        return None if indices is None else self._skip(indices)

    def _iterate(self):
        return self._skip(self._input._iterate())


class OptionsDataset(_Unary):
    """`with_options`: the input unchanged, carrying options (`DatasetV2.options` reads
    them); keeps its input's index-stream form."""

    _name = "Options"

    def __init__(self, input_dataset, options):
        super().__init__(input_dataset)
        self._options = options
        self._source = input_dataset._source

    def _indices(self):
        return self._input._indices()

    def _iterate(self):
        return self._input._iterate()


# -- performance -----------------------------------------------------------------------------------

_END = object()


class PrefetchDataset(_Unary):
    """Produces up to `buffer_size` elements ahead on a background thread."""

    _name = "Prefetch"

    def __init__(self, input_dataset, buffer_size):
        super().__init__(input_dataset)
        self._buffer_size = 2 if buffer_size in (None, AUTOTUNE) else max(1, int(buffer_size))

    def _iterate(self):
        q = queue.Queue(self._buffer_size)
        stop = threading.Event()

        def produce():
            try:
                for element in self._input._iterate():
                    while not stop.is_set():
                        try:
                            q.put(element, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                q.put(_END)
            except BaseException as e:  # noqa: BLE001 - re-raised in the consumer
                q.put(_Failure(e))

        thread = threading.Thread(target=produce, daemon=True, name="tapeflow-prefetch")
        thread.start()
        try:
            while True:
                item = q.get()
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise item.error
                yield item
        finally:
            stop.set()


class _Failure:
    def __init__(self, error):
        self.error = error


class CacheDataset(_Unary):
    """Keeps the elements of the first complete pass (in memory, or in `filename`)."""

    _name = "Cache"

    def __init__(self, input_dataset, filename):
        super().__init__(input_dataset)
        self._filename = os.fspath(filename) if filename else ""
        self._elements = None

    def _path(self):
        return self._filename + ".tapeflow-cache.npz"

    def _iterate(self):
        if self._elements is None and self._filename and os.path.exists(self._path()):
            self._elements = self._load()
        if self._elements is not None:
            yield from self._elements
            return
        seen = []
        for element in self._input._iterate():
            seen.append(element)
            yield element
        self._elements = seen
        if self._filename:
            self._save(seen)

    def _save(self, elements):
        arrays = {}
        for i, element in enumerate(elements):
            for j, t in enumerate(nest.flatten(element)):
                arrays[f"e{i}_{j}"] = np.asarray(t.numpy())
        tmp = self._path() + ".tmp"
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, self._path())  # a crash never leaves a half-written cache

    def _load(self):
        spec = self._input.element_spec
        flat_spec = nest.flatten(spec)
        out = []
        with np.load(self._path(), allow_pickle=True) as data:
            i = 0
            while f"e{i}_0" in data:
                leaves = [convert_to_tensor(data[f"e{i}_{j}"], dtype=s.dtype)
                          for j, s in enumerate(flat_spec)]
                out.append(nest.pack_sequence_as(spec, leaves))
                i += 1
        return out


# -- combining -------------------------------------------------------------------------------------

class InterleaveDataset(_LazySpec, _Unary):
    def __init__(self, input_dataset, map_func, cycle_length, block_length, name="Interleave"):
        super().__init__(input_dataset)
        self._fn = map_func
        self._cycle = os.cpu_count() or 2 if cycle_length in (None, AUTOTUNE) else \
            int(cycle_length)
        self._block = 1 if block_length is None else int(block_length)
        self._name = name

    def _cardinality(self):
        return UNKNOWN_CARDINALITY

    def _iterate(self):
        inputs = self._input._iterate()
        active = []

        def open_next():
            element = next(inputs, None)
            if element is None:
                return None
            ds = _call(self._fn, element)
            if not isinstance(ds, DatasetV2):
                raise TypeError(f"`map_func` must return a `Dataset` object. Got "
                                f"{type(ds).__name__}.")
            return ds._iterate()

        while len(active) < self._cycle:
            it = open_next()
            if it is None:
                break
            active.append(it)
        i = 0
        while active:
            it = active[i]
            exhausted = False
            for _ in range(self._block):
                element = next(it, _END)
                if element is _END:
                    exhausted = True
                    break
                yield element
            if exhausted:
                replacement = open_next()
                if replacement is None:
                    active.pop(i)
                    if not active:
                        return
                    i %= len(active)
                    continue
                active[i] = replacement
                continue
            i = (i + 1) % len(active)


class ZipDataset(DatasetV2):
    _name = "Zip"

    def __init__(self, datasets):
        for d in nest.flatten(datasets):
            if not isinstance(d, DatasetV2):
                raise TypeError(f"Invalid `datasets`. `datasets` is expected to be a (nested) "
                                f"structure of `tf.data.Dataset` objects. Encountered object "
                                f"with type {type(d)}.")
        self._datasets = datasets

    @property
    def element_spec(self):
        return nest.map_structure(lambda d: d.element_spec, self._datasets)

    def _cardinality(self):
        ns = [d._cardinality() for d in nest.flatten(self._datasets)]
        finite = [n for n in ns if n >= 0]
        if finite:
            return min(finite)
        return UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in ns else INFINITE_CARDINALITY

    def _iterate(self):
        flat = nest.flatten(self._datasets)
        for elements in zip(*[d._iterate() for d in flat]):
            yield nest.pack_sequence_as(self._datasets, list(elements))


class ConcatenateDataset(DatasetV2):
    _name = "Concatenate"

    def __init__(self, first, second):
        a, b = first.element_spec, second.element_spec
        try:
            nest.assert_same_structure(a, b)
        except (TypeError, ValueError):
            raise TypeError(f"Incompatible dataset elements:\n  {a} vs.   {b}") from None
        for x, y in zip(nest.flatten(a), nest.flatten(b)):
            if x.dtype != y.dtype:
                raise TypeError(f"Incompatible dataset elements:\n  {a} vs.   {b}")
        self._first, self._second = first, second
        self._spec = structure.merge_specs(a, b)

    def _cardinality(self):
        a, b = self._first._cardinality(), self._second._cardinality()
        if INFINITE_CARDINALITY in (a, b):
            return INFINITE_CARDINALITY
        if UNKNOWN_CARDINALITY in (a, b):
            return UNKNOWN_CARDINALITY
        return a + b

    def _iterate(self):
        yield from self._first._iterate()
        yield from self._second._iterate()
