"""Datasets split over the workers of a job: `DistributedDataset` and `DistributedIterator`
(what `strategy.experimental_distribute_dataset` returns), with TF's auto-sharding.

With W workers, the dataset yields global batches of G rows, and each step every worker gets
its share, as TF 2.21 does (checked against its MultiWorkerMirroredStrategy on 127.0.0.1):
- DATA: every worker reads the whole pipeline and takes its rows of each global batch (an
  even split);
- FILE: the pipeline is rebuilt with the worker's share of the input files (TextLineDataset
  files, or the file list feeding an `interleave`), and each local batch is cut into pieces
  of G/W rows (TF's `batch_sizes_for_worker`), one piece a step;
- OFF: every worker reads everything, cut into pieces the same way;
- AUTO: FILE when the pipeline reads at least W files, else DATA (HINT reads as DATA).
Workers may then run out at different steps (FILE): each step they agree whether any still
has data (one small all-reduce); one that has none gets an empty batch, the rest go on.
Datasets and their elements stay tapeflow's; a worker's one replica gets plain tensors.
"""
import copy

import torch

from tapeflow._core import dtypes, nest
from tapeflow._core.errors import InvalidArgumentError, NotFoundError, OutOfRangeError
from tapeflow._core.shape import TensorShape
from tapeflow._core.spec import TensorSpec
from tapeflow._core.tensor import wrap, wrap_strings
from tapeflow.data.dataset import UNKNOWN_CARDINALITY, AutoShardPolicy, DatasetV2
from tapeflow.distribute_lib import batch_rows, even_sizes, split_rows


def _chain(dataset):
    """The dataset and its inputs, top first, through one-input transformations."""
    nodes = [dataset]
    while getattr(nodes[-1], "_input", None) is not None:
        nodes.append(nodes[-1]._input)
    return nodes


def global_batch_size(dataset):
    """The `batch_size` of the nearest `batch` upstream (None for an unbatched dataset)."""
    from tapeflow.data.batching import BatchDataset, UnbatchDataset  # loaded on first use
    for node in _chain(dataset):
        if isinstance(node, UnbatchDataset):
            return None
        if isinstance(node, BatchDataset):
            return node._batch_size
    return None


def _file_source(dataset):
    """(index in the chain, number of files) of what FILE sharding would split, or None."""
    from tapeflow.data.sources import TextLineDataset
    from tapeflow.data.transforms import InterleaveDataset
    for i, node in enumerate(_chain(dataset)):
        if isinstance(node, TextLineDataset):
            return i, len(node._files)
        if isinstance(node, InterleaveDataset):
            spec = node._input.element_spec
            if isinstance(spec, TensorSpec) and spec.dtype is dtypes.string:
                n = node._input._cardinality()
                return i, (n if n >= 0 else None)
    return None


def shard_files(dataset, num_workers, index):
    """The pipeline rebuilt with this worker's files (every `num_workers`-th, from
    `index`)."""
    nodes = _chain(dataset)
    at, _ = _file_source(dataset)
    source = copy.copy(nodes[at])
    if hasattr(source, "_files"):  # a TextLineDataset
        source._files = source._files[index::num_workers]
    else:
        source._input = source._input.shard(num_workers, index)
    rebuilt = source
    for node in reversed(nodes[:at]):
        node = copy.copy(node)
        node._input = rebuilt
        if hasattr(node, "_source"):
            node._source = getattr(rebuilt, "_source", None)
        rebuilt = node
    return rebuilt


def _resolved_policy(dataset, num_workers):
    policy = dataset.options().experimental_distribute.auto_shard_policy
    if policy is AutoShardPolicy.OFF:
        return policy
    found = _file_source(dataset)
    if policy is AutoShardPolicy.FILE:
        if found is None:
            raise NotFoundError(None, None, f"Found an unshardable source dataset: {dataset!r}"
                                " (FILE sharding needs a pipeline that reads files: "
                                "TextLineDataset, or interleave over a list of file names)")
        if found[1] is not None and found[1] < num_workers:
            raise InvalidArgumentError(
                None, None, f"Could not apply FILE based sharding: the dataset only has "
                f"{found[1]} file(s), which is not enough for the required {num_workers} "
                "shards/workers. If you are using datasets with distribution strategy, "
                "consider setting the auto sharding policy to either DATA or OFF using the "
                "`experimental_distribute.auto_shard_policy` option of `tf.data.Options()`. "
                "Or, split your input files into a larger number of small files such that "
                "number of files is greater than number of shards/workers.")
        return policy
    if policy is AutoShardPolicy.AUTO and found is not None and \
            (found[1] is None or found[1] >= num_workers):
        return AutoShardPolicy.FILE
    return AutoShardPolicy.DATA


def piece_sizes(batch_size, num_workers, worker_index):
    """TF's `batch_sizes_for_worker` for one replica a worker: G rows in W pieces differing
    by at most one, the larger first, rotated by the worker's index."""
    sizes = even_sizes(batch_size, num_workers)
    return sizes[worker_index:] + sizes[:worker_index]


def _pieces(batch, sizes):
    """A local batch cut greedily into pieces of `sizes` (a short batch gives fewer)."""
    n = batch_rows(batch) or 0
    cut, left = [], n
    for size in sizes:
        if left <= 0:
            break
        cut.append(min(size, left))
        left -= cut[-1]
    return split_rows(batch, cut) if len(cut) > 1 else [batch]


def _empty_like(spec):
    """A batch of no rows shaped by the element spec (unknown dimensions as 0)."""
    def empty(s):
        shape = [0] + [d if d is not None else 0 for d in s.shape.as_list()[1:]]
        if s.dtype is dtypes.string:
            import numpy as np
            return wrap_strings(np.empty(shape, dtype=object))
        return wrap(torch.zeros(shape, dtype=s.dtype.torch), s.dtype)
    return nest.map_structure(empty, spec)


class DistributedDataset:
    """A dataset split over the workers (see the module docstring); iterate it, or pass its
    elements to `strategy.run`."""

    def __init__(self, strategy, dataset, options=None):
        if not isinstance(dataset, DatasetV2):
            raise ValueError("`experimental_distribute_dataset` expects a `tf.data.Dataset`; "
                             f"received {type(dataset).__name__}.")
        self._strategy = strategy
        self._dataset = dataset
        self._options = options
        extended = strategy.extended
        self._num_workers = extended._num_workers
        self._index = extended._worker_index
        self._batch_size = global_batch_size(dataset)
        self._policy = None if self._num_workers == 1 else \
            _resolved_policy(dataset, self._num_workers)
        if self._policy is AutoShardPolicy.FILE:
            self._local = shard_files(dataset, self._num_workers, self._index)
        elif self._policy is AutoShardPolicy.DATA and self._batch_size is None:
            self._local = dataset.shard(self._num_workers, self._index)
        else:
            self._local = dataset

    def __iter__(self):
        return DistributedIterator(self)

    @property
    def element_spec(self):
        spec = self._dataset.element_spec
        if self._num_workers == 1 or self._batch_size is None:
            return spec
        return nest.map_structure(
            lambda s: TensorSpec(TensorShape([None]).concatenate(s.shape[1:]), s.dtype)
            if s.shape.rank else s, spec)

    @property
    def cardinality(self):
        """Steps per pass over the data: the dataset's own for DATA, unknown otherwise."""
        if self._num_workers == 1 or (self._policy is AutoShardPolicy.DATA and
                                      self._batch_size is not None):
            return self._dataset._cardinality()
        return UNKNOWN_CARDINALITY

    def _cardinality(self):
        return self.cardinality

    def _local_steps(self):
        """This worker's parts of the data, one per step, before the workers agree."""
        if self._num_workers == 1:
            yield from self._dataset
            return
        if self._policy is AutoShardPolicy.DATA:
            for batch in self._local:
                yield self._strategy._local_part(batch) if self._batch_size else batch
            return
        if self._batch_size is None:
            yield from self._local
            return
        sizes = piece_sizes(self._batch_size, self._num_workers, self._index)
        for batch in self._local:
            yield from _pieces(batch, sizes)

    def __repr__(self):
        return f"<tapeflow.distribute.DistributedDataset of {self._dataset!r}>"


class DistributedDatasetsFromFunction(DistributedDataset):
    """What `distribute_datasets_from_function` returns: the dataset the function made for
    this worker, fed as it is (the function shards and batches it)."""

    def __init__(self, strategy, dataset, options=None):
        if not isinstance(dataset, DatasetV2):
            raise ValueError("The `dataset_fn` given to `distribute_datasets_from_function` "
                             "must return a `tf.data.Dataset`; it returned "
                             f"{type(dataset).__name__}.")
        self._strategy = strategy
        self._dataset = self._local = dataset
        self._options = options
        self._num_workers = strategy.extended._num_workers
        self._index = strategy.extended._worker_index
        self._batch_size = None
        self._policy = None

    @property
    def cardinality(self):
        return self._dataset._cardinality() if self._num_workers == 1 else UNKNOWN_CARDINALITY

    def _local_steps(self):
        return iter(self._dataset)


class DistributedIterator:
    """What iterating a `DistributedDataset` gives: each worker's part of every step."""

    def __init__(self, dataset):
        self._dataset = dataset
        self._it = dataset._local_steps()
        self._done = False
        communicator = dataset._strategy.extended._communicator
        self._communicator = communicator if dataset._num_workers > 1 else None

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        element = next(self._it, None)
        if self._communicator is not None:
            flag = torch.tensor([0 if element is None else 1], dtype=torch.int64)
            if int(self._communicator.all_reduce([flag], "sum")[0]) == 0:
                self._done = True
                raise StopIteration
            if element is None:
                return _empty_like(self._dataset._dataset.element_spec)
        elif element is None:
            self._done = True
            raise StopIteration
        return element

    def get_next(self):
        try:
            return next(self)
        except StopIteration:
            raise OutOfRangeError(None, None, "End of sequence") from None

    def get_next_as_optional(self):
        try:
            return next(self)
        except StopIteration:
            return None

    @property
    def element_spec(self):
        return self._dataset.element_spec
