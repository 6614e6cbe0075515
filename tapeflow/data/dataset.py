"""`tf.data.Dataset`: a lazy, re-iterable pipeline of elements (nested structures of tensors).

Every dataset is a node holding its input(s); iterating calls `_iterate()` down the chain.
Sources that slice in-memory tensors also expose their elements by *index*, and `shuffle`,
`repeat`, `take`, `skip` and `batch` keep that form when they can, so the common
`from_tensor_slices(...).shuffle(n).batch(b)` gathers whole batches with one indexing kernel
per component instead of stacking single elements. `prefetch` runs its input on a background
thread. Transformation functions are traced with `tf.function` where possible.
"""
import enum

import numpy as np
import torch

from tapeflow._core import dtypes, nest
from tapeflow._core.errors import InvalidArgumentError, OutOfRangeError
from tapeflow._core.spec import TensorSpec
from tapeflow._core.tensor import constant, wrap, wrap_strings
from tapeflow.data import structure

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


class DatasetV2:
    """Represents a potentially large set of elements (`tf.data.Dataset`).

    Example:
    >>> ds = tf.data.Dataset.from_tensor_slices(([1, 2, 3], [4.0, 5.0, 6.0]))
    >>> for x, y in ds.shuffle(3).batch(2):
    ...     print(x.shape)
    """

    _name = "Dataset"

    # -- what subclasses provide ----------------------------------------------------------------
    @property
    def element_spec(self):
        return self._spec

    def _iterate(self):
        raise NotImplementedError

    def _cardinality(self):
        return UNKNOWN_CARDINALITY

    def _indices(self):
        """An iterator of source indices when this dataset is an index stream over a
        `_TensorSliceDataset` (see `_source`), else None."""
        return None

    _source = None

    # -- iteration -------------------------------------------------------------------------------
    def __iter__(self):
        return Iterator(self)

    def as_numpy_iterator(self):
        """Iterates the elements as NumPy values (scalars, arrays, bytes)."""
        for element in self:
            yield nest.map_structure(lambda t: t.numpy(), element)

    def cardinality(self):
        return constant(self._cardinality(), dtypes.int64)

    def __len__(self):
        n = self._cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self):
        return True

    def __repr__(self):
        return f"<_{self._name}Dataset element_spec={self.element_spec}>"

    # -- sources ---------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        return _TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors, name=None):
        return _TensorDataset(tensors)

    @staticmethod
    def range(*args, dtype=dtypes.int64, name=None):
        return _RangeDataset(*args, dtype=dtype)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None,
                       output_signature=None, name=None):
        from tapeflow.data.sources import GeneratorDataset
        return GeneratorDataset(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None):
        from tapeflow.data.files import list_files
        return list_files(file_pattern, shuffle, seed)

    @staticmethod
    def zip(*datasets, name=None):
        from tapeflow.data.transforms import ZipDataset
        if len(datasets) == 1:
            datasets = datasets[0]
        return ZipDataset(datasets)

    # -- transformations (implemented in transforms.py) -----------------------------------------
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        from tapeflow.data.transforms import MapDataset
        return MapDataset(self, map_func, num_parallel_calls)

    def filter(self, predicate, name=None):
        from tapeflow.data.transforms import FilterDataset
        return FilterDataset(self, predicate)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None):
        from tapeflow.data.batching import BatchDataset
        return BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None,
                     drop_remainder=False, name=None):
        from tapeflow.data.batching import PaddedBatchDataset
        return PaddedBatchDataset(self, batch_size, padded_shapes, padding_values,
                                  drop_remainder)

    def unbatch(self, name=None):
        from tapeflow.data.batching import UnbatchDataset
        return UnbatchDataset(self)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
        from tapeflow.data.transforms import ShuffleDataset
        return ShuffleDataset(self, buffer_size, seed,
                              True if reshuffle_each_iteration is None else
                              reshuffle_each_iteration)

    def repeat(self, count=None, name=None):
        from tapeflow.data.transforms import RepeatDataset
        return RepeatDataset(self, count)

    def take(self, count, name=None):
        from tapeflow.data.transforms import TakeDataset
        return TakeDataset(self, count)

    def skip(self, count, name=None):
        from tapeflow.data.transforms import SkipDataset
        return SkipDataset(self, count)

    def prefetch(self, buffer_size, name=None):
        from tapeflow.data.transforms import PrefetchDataset
        return PrefetchDataset(self, buffer_size)

    def cache(self, filename="", name=None):
        from tapeflow.data.transforms import CacheDataset
        return CacheDataset(self, filename)

    def interleave(self, map_func, cycle_length=None, block_length=None,
                   num_parallel_calls=None, deterministic=None, name=None):
        from tapeflow.data.transforms import InterleaveDataset
        return InterleaveDataset(self, map_func, cycle_length, block_length)

    def flat_map(self, map_func, name=None):
        from tapeflow.data.transforms import InterleaveDataset
        return InterleaveDataset(self, map_func, 1, 1, name="FlatMap")

    def enumerate(self, start=0, name=None):
        counter = _RangeDataset(start, np.iinfo(np.int64).max)
        return DatasetV2.zip((counter, self))

    def shard(self, num_shards, index, name=None):
        """Every `num_shards`-th element, starting at `index` (a composition of enumerate,
        filter and map, so its cardinality is unknown where TF computes it)."""
        num_shards, index = int(num_shards), int(index)
        if num_shards <= 0:
            raise InvalidArgumentError(None, None, f"Number of shards must be greater than "
                                       f"zero (currently num_shards = {num_shards}). "
                                       f"[Op:ShardDataset]")
        if not 0 <= index < num_shards:
            raise InvalidArgumentError(None, None, f"Index must be between 0 and "
                                       f"{num_shards - 1} (currently index = {index}). "
                                       f"[Op:ShardDataset]")
        return self.enumerate().filter(lambda i, *_: i % num_shards == index).map(
            lambda i, *element: element[0] if len(element) == 1 else element)

    def concatenate(self, dataset, name=None):
        from tapeflow.data.transforms import ConcatenateDataset
        return ConcatenateDataset(self, dataset)

    def apply(self, transformation_func):
        return transformation_func(self)

    def with_options(self, options, name=None):
        from tapeflow.data.transforms import OptionsDataset
        return OptionsDataset(self, options)

    def options(self):
        """The options set with `with_options` on this dataset or any upstream of it (the
        nearest setting of each option wins)."""
        found = []
        node = self
        while node is not None:
            if getattr(node, "_options", None) is not None:
                found.append(node._options)
            node = getattr(node, "_input", None)
        return Options._merged(found)

    def reduce(self, initial_state, reduce_func, name=None):
        state = initial_state
        for element in self:
            state = reduce_func(state, element)
        return state


Dataset = DatasetV2


class AutoShardPolicy(enum.IntEnum):
    """How `tf.distribute` splits a dataset over workers (`tf.data.experimental.AutoShardPolicy`):
    FILE gives each worker its share of the input files, DATA each worker its share of every
    batch (all workers read everything), AUTO tries FILE and falls back to DATA, OFF gives
    every worker everything; HINT is read as DATA."""
    OFF = -1
    AUTO = 0
    FILE = 1
    DATA = 2
    HINT = 3


class DistributeOptions:
    """`tf.data.experimental.DistributeOptions`: `auto_shard_policy` (AUTO by default)."""

    def __init__(self):
        self._auto_shard_policy = None
        self.num_devices = None

    @property
    def auto_shard_policy(self):
        return AutoShardPolicy.AUTO if self._auto_shard_policy is None else \
            self._auto_shard_policy

    @auto_shard_policy.setter
    def auto_shard_policy(self, policy):
        try:
            self._auto_shard_policy = AutoShardPolicy(policy)
        except ValueError:
            raise TypeError(f"auto_shard_policy must be a tf.data.experimental.AutoShardPolicy, "
                            f"got {policy!r}.") from None


class Options:
    """`tf.data.Options`: `experimental_distribute.auto_shard_policy` is read by
    `tf.distribute`; the other options are accepted (tapeflow's pipelines have no tunables)."""

    def __init__(self):
        self.deterministic = None
        self.experimental_optimization = None
        self.threading = None
        self.experimental_distribute = DistributeOptions()

    @staticmethod
    def _merged(options_nearest_first):
        merged = Options()
        for o in reversed(options_nearest_first):  # the nearest is applied last and wins
            if o.experimental_distribute._auto_shard_policy is not None:
                merged.experimental_distribute.auto_shard_policy = \
                    o.experimental_distribute.auto_shard_policy
            for key in ("deterministic", "experimental_optimization", "threading"):
                if getattr(o, key) is not None:
                    setattr(merged, key, getattr(o, key))
        return merged


# -- iterator ----------------------------------------------------------------------------------

class Iterator:
    """What `iter(dataset)` returns: Python iteration, plus TF's `get_next()`."""

    def __init__(self, dataset):
        self._dataset = dataset
        self._it = dataset._iterate()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def get_next(self):
        try:
            return next(self._it)
        except StopIteration:
            raise OutOfRangeError(None, None, "End of sequence [Op:IteratorGetNext] "
                                  "name: ") from None

    def get_next_as_optional(self):
        try:
            return next(self._it)
        except StopIteration:
            return None

    @property
    def element_spec(self):
        return self._dataset.element_spec


# -- in-memory sources -------------------------------------------------------------------------

class _TensorSliceDataset(DatasetV2):
    """Slices of tensors along their first dimension (`from_tensor_slices`)."""

    _name = "TensorSlice"

    def __init__(self, tensors):
        element = structure.to_tensors(tensors)
        flat = nest.flatten(element)
        if not flat:
            raise ValueError("from_tensor_slices requires at least one tensor.")
        for t in flat:
            if t.ndim == 0:
                raise ValueError("Unbatching a tensor is only supported for rank >= 1")
        n = flat[0].shape[0]
        for t in flat[1:]:
            if t.shape[0] != n:
                raise ValueError(f"Dimensions {n} and {t.shape[0]} are not compatible")
        self._structure = element
        self._flat = flat
        self._n = n
        self._spec = structure.unbatched_spec(structure.spec_of(element))
        self._source = self

    def _cardinality(self):
        return self._n

    def _indices(self):
        return iter(range(self._n))

    def _iterate(self):
        return (self._gather_one(i) for i in range(self._n))

    def _gather_one(self, i):
        return nest.pack_sequence_as(self._structure, [structure._row(t, i) for t in self._flat])

    def _gather(self, index):
        """A batch: rows `index` (a list of ints) of every component."""
        if index and index[-1] - index[0] == len(index) - 1 and index == list(
                range(index[0], index[-1] + 1)):
            key = slice(index[0], index[-1] + 1)
        else:
            key = index
        out = []
        for t in self._flat:
            if t._dtype is dtypes.string:
                out.append(wrap_strings(t._t[key]))
            else:
                data = t._t[key] if isinstance(key, slice) else \
                    t._t.index_select(0, torch.as_tensor(key, device=t._t.device))
                out.append(wrap(data, t._dtype))
        return nest.pack_sequence_as(self._structure, out)


class _TensorDataset(DatasetV2):
    """A single element (`from_tensors`)."""

    _name = "Tensor"

    def __init__(self, tensors):
        self._element = structure.to_tensors(tensors)
        self._spec = structure.spec_of(self._element)

    def _cardinality(self):
        return 1

    def _iterate(self):
        yield self._element


class _RangeDataset(DatasetV2):
    _name = "Range"

    def __init__(self, *args, dtype=dtypes.int64):
        args = [int(a) for a in args]
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid arguments to RangeDataset: {args}")
        start, stop, step = (0, args[0], 1) if len(args) == 1 else \
            (args[0], args[1], args[2] if len(args) == 3 else 1)
        if step == 0:
            raise InvalidArgumentError(None, None, "step must be a non-zero integer.")
        self._range = range(start, stop, step)
        self._dtype = dtypes.as_dtype(dtype)
        self._spec = TensorSpec([], self._dtype)

    def _cardinality(self):
        return len(self._range)

    def _iterate(self):
        dtype = self._dtype
        for i in self._range:
            yield constant(i, dtype)


def cardinality(dataset):
    """`tf.data.experimental.cardinality`."""
    return dataset.cardinality()
