"""The `tf.distribute` API that Keras and user code program against, below Keras in the import
order: `Strategy` (scope, run, reduce, gather, local results), `StrategyExtended`,
`ReplicaContext` (all_reduce, all_gather, merge_call), the default strategy, `ReduceOp`,
`InputContext`, `PerReplica`, and the accessors (`get_strategy`, `has_strategy`,
`get_replica_context`, `in_cross_replica_context`).

A strategy here is a job of one or more workers (processes), one replica each, joined by a
*communicator* (the duck type `tapeflow/ops/collective.py` describes) that
`tapeflow.distribute` builds on torch.distributed above Keras. With no communicator (the
default strategy, `OneDeviceStrategy`, `MirroredStrategy` on one device) every collective is
the identity, as with TF's one replica. Which strategy is current is kept, per thread, in
`_core/distribute_context.py`.
"""
import contextlib
import enum

import numpy as np

from tapeflow._core import distribute_context, dtypes, nest
from tapeflow._core.device import device
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import Tensor, constant, convert_to_tensor, wrap, wrap_strings
from tapeflow._core.variable import VariableAggregation
from tapeflow.ops import collective
from tapeflow.ops.array import shape as shape_op
from tapeflow.ops.elementwise import cast
from tapeflow.ops.math import divide
from tapeflow.ops.reduction import reduce_sum


class ReduceOp(enum.Enum):
    """How values of the replicas are combined: `SUM` or `MEAN`."""
    SUM = "SUM"
    MEAN = "MEAN"

    @staticmethod
    def from_variable_aggregation(aggregation):
        table = {VariableAggregation.SUM: ReduceOp.SUM, VariableAggregation.MEAN: ReduceOp.MEAN}
        if aggregation not in table:
            raise ValueError(f"Could not convert from `tf.VariableAggregation` {aggregation} "
                             "to`tf.distribute.ReduceOp` type")
        return table[aggregation]


def _reduce_op(reduce_op):
    return ReduceOp(reduce_op.upper()) if isinstance(reduce_op, str) else ReduceOp(reduce_op)


class InputContext:
    """What `distribute_datasets_from_function` tells the dataset function: how many input
    pipelines (workers) there are, which one this is, and the replicas in sync."""

    def __init__(self, num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=1):
        self._num_input_pipelines = num_input_pipelines
        self._input_pipeline_id = input_pipeline_id
        self._num_replicas_in_sync = num_replicas_in_sync

    @property
    def num_replicas_in_sync(self):
        return self._num_replicas_in_sync

    @property
    def input_pipeline_id(self):
        return self._input_pipeline_id

    @property
    def num_input_pipelines(self):
        return self._num_input_pipelines

    def get_per_replica_batch_size(self, global_batch_size):
        if global_batch_size % self._num_replicas_in_sync != 0:
            raise ValueError(f"The `global_batch_size` {global_batch_size} is not divisible by "
                             f"`num_replicas_in_sync` {self._num_replicas_in_sync} ")
        return global_batch_size // self._num_replicas_in_sync

    def __str__(self):
        return (f"tf.distribute.InputContext(input pipeline id {self._input_pipeline_id}, "
                f"total: {self._num_input_pipelines})")


class ValueContext:
    """What `experimental_distribute_values_from_function` tells the value function."""

    def __init__(self, replica_id_in_sync_group=0, num_replicas_in_sync=1):
        self._replica_id_in_sync_group = replica_id_in_sync_group
        self._num_replicas_in_sync = num_replicas_in_sync

    @property
    def replica_id_in_sync_group(self):
        return self._replica_id_in_sync_group

    @property
    def num_replicas_in_sync(self):
        return self._num_replicas_in_sync


class DistributedValues:
    """Values of the local replicas (`tf.distribute.DistributedValues`)."""

    _kind = "DistributedValues"

    def __init__(self, values):
        self._values = tuple(values)

    @property
    def values(self):
        return self._values

    def __repr__(self):
        items = ",\n".join(f"  {i}: {v!r}" for i, v in enumerate(self._values))
        return f"{self._kind}:{{\n{items}\n}}"

    def __str__(self):
        items = ",\n".join(f"  {i}: {str(v)}" for i, v in enumerate(self._values))
        return f"{self._kind}:{{\n{items}\n}}"


class PerReplica(DistributedValues):
    """One value per replica, possibly different."""
    _kind = "PerReplica"


class Mirrored(DistributedValues):
    """One value per replica, the same on every replica."""
    _kind = "Mirrored"


def _local_value(value):
    """The value of this worker's one replica."""
    return value.values[0] if isinstance(value, DistributedValues) else value


# -- contexts ------------------------------------------------------------------------------------

class ReplicaContext:
    """The context of one replica while `strategy.run` calls the replica function:
    collectives across the replicas in sync, and `merge_call` back to the cross-replica
    context."""

    def __init__(self, strategy, replica_id_in_sync_group):
        self._strategy = strategy
        self._replica_id = replica_id_in_sync_group

    def __enter__(self):
        distribute_context.push(self._strategy, self)
        return self

    def __exit__(self, *exc):
        distribute_context.pop()

    @property
    def strategy(self):
        return self._strategy

    @property
    def num_replicas_in_sync(self):
        return self._strategy.num_replicas_in_sync

    @property
    def replica_id_in_sync_group(self):
        return constant(self._replica_id, dtypes.int32)

    @property
    def devices(self):
        return self._strategy.extended.worker_devices

    def all_reduce(self, reduce_op, value, options=None):
        """`value` (a nested structure of tensors) summed or averaged over the replicas; one
        packed collective carries the whole structure."""
        reduce_op = _reduce_op(reduce_op)
        flat = [convert_to_tensor(v) for v in nest.flatten(value)]
        communicator = self._strategy.extended._communicator
        if communicator is None:
            out = flat
        else:
            out = collective.all_reduce(flat, communicator, reduce_op.value.lower())
        return nest.pack_sequence_as(value, out)

    def all_gather(self, value, axis, options=None):
        """Each tensor of `value` concatenated along `axis` over the replicas."""
        communicator = self._strategy.extended._communicator
        return nest.map_structure(
            lambda t: convert_to_tensor(t) if communicator is None else
            collective.all_gather(t, communicator, axis), value)

    def merge_call(self, merge_fn, args=(), kwargs=None):
        """Calls `merge_fn(strategy, *args, **kwargs)` in the cross-replica context."""
        distribute_context.push(self._strategy, None)
        try:
            return merge_fn(self._strategy, *args, **(kwargs or {}))
        finally:
            distribute_context.pop()


class StrategyExtended:
    """`strategy.extended`: the devices, the worker's role, and the job's communicator."""

    def __init__(self, container_strategy, devices, communicator=None, between_graph=False,
                 placement=None):
        self._container_strategy = container_strategy
        self._devices = tuple(devices)
        self._communicator = communicator
        self._between_graph = between_graph
        self._placement = placement  # a local device name the replica runs on, or None

    def _placed(self):
        """A `tf.device` scope for the replica's device (none when it is the default)."""
        if self._placement is None:
            return contextlib.nullcontext()
        return device(self._placement)

    @property
    def _num_workers(self):
        return 1 if self._communicator is None else self._communicator.num_replicas

    @property
    def _worker_index(self):
        return 0 if self._communicator is None else self._communicator.rank

    def _in_multi_worker_mode(self):
        return self._num_workers > 1

    @property
    def worker_devices(self):
        return self._devices

    @property
    def parameter_devices(self):
        return self._devices

    @property
    def experimental_between_graph(self):
        return self._between_graph

    @property
    def should_checkpoint(self):
        """Whether this worker writes checkpoints: the chief only."""
        return self._worker_index == 0

    should_save_summary = should_checkpoint

    @property
    def experimental_should_init(self):
        return True

    def colocate_vars_with(self, colocate_with_variable):
        return contextlib.nullcontext()

    def update(self, var, fn, args=(), kwargs=None, group=True):
        return fn(var, *args, **(kwargs or {}))

    def value_container(self, value):
        return value

    def reduce_to(self, reduce_op, value, destinations, options=None):
        return self._container_strategy.reduce(reduce_op, value, axis=None)

    def batch_reduce_to(self, reduce_op, value_destination_pairs, options=None):
        return [self.reduce_to(reduce_op, v, d) for v, d in value_destination_pairs]


class Strategy:
    """A way to run a computation on several replicas (`tf.distribute.Strategy`).

    Variables created in `scope()` start with the chief's value on every worker;
    `run(fn, args)` calls `fn` as this worker's replica; `reduce` and `gather` combine the
    replicas' results.

    Example:
    >>> strategy = tf.distribute.MirroredStrategy()
    >>> with strategy.scope():
    ...     v = tf.Variable(1.0)
    >>> strategy.reduce("SUM", strategy.run(lambda: v * 2.0), axis=None)
    """

    def __init__(self, extended):
        self._extended = extended

    @property
    def extended(self):
        return self._extended

    @property
    def num_replicas_in_sync(self):
        return self._extended._num_workers

    @property
    def cluster_resolver(self):
        return None

    # -- scope -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def scope(self):
        """Makes this the current strategy: variables created inside are mirrored, Keras
        models and optimizers built inside train under it."""
        current = distribute_context.current_strategy()
        if current is not None and current is not self:
            raise RuntimeError(f"Mixing different tf.distribute.Strategy objects: {self} is not "
                               f"{current}")
        distribute_context.push(self, None)
        try:
            with self._extended._placed():
                yield self
        finally:
            distribute_context.pop()

    def _variable_created(self, variable):
        communicator = self._extended._communicator
        if communicator is not None and variable._dtype is not dtypes.string:
            variable._t = communicator.broadcast(variable._t)

    # -- running ---------------------------------------------------------------------------------
    def run(self, fn, args=(), kwargs=None, options=None):
        """Calls `fn(*args, **kwargs)` as this worker's replica and returns its result."""
        args = nest.map_structure(_local_value, tuple(args))
        kwargs = nest.map_structure(_local_value, dict(kwargs or {}))
        with ReplicaContext(self, self._extended._worker_index), self._extended._placed():
            return fn(*args, **kwargs)

    def _require_cross_replica_context(self):
        if distribute_context.current_replica_context() is not None:
            raise RuntimeError("Method requires being in cross-replica context, use "
                               "get_replica_context().merge_call()")

    def reduce(self, reduce_op, value, axis):
        """The replicas' `value`s summed or averaged (along `axis` too, when it is given)."""
        self._require_cross_replica_context()
        reduce_op = _reduce_op(reduce_op)
        communicator = self._extended._communicator
        return nest.map_structure(
            lambda v: _reduce(reduce_op, convert_to_tensor(_local_value(v)), axis,
                              communicator), value)

    def gather(self, value, axis):
        """The replicas' `value`s concatenated along `axis` (replica order)."""
        self._require_cross_replica_context()
        communicator = self._extended._communicator
        return nest.map_structure(
            lambda v: _gather(convert_to_tensor(_local_value(v)), axis, communicator), value)

    def experimental_local_results(self, value):
        return value.values if isinstance(value, DistributedValues) else (value,)

    def experimental_distribute_values_from_function(self, value_fn):
        return value_fn(ValueContext(self._extended._worker_index, self.num_replicas_in_sync))

    # -- input -----------------------------------------------------------------------------------
    def experimental_distribute_dataset(self, dataset, options=None):
        """A dataset whose batches are split over the replicas (one replica: the dataset)."""
        return dataset

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        return dataset_fn(InputContext(self._extended._num_workers,
                                       self._extended._worker_index,
                                       self.num_replicas_in_sync))

    # -- what Keras and the callbacks ask (private to tapeflow) ----------------------------------
    def _local_part(self, batch):
        """This worker's rows of a global batch that every worker holds alike (TF's DATA
        sharding of a batch: an even split, earlier workers taking one row more)."""
        workers = self._extended._num_workers
        if workers == 1:
            return batch
        n = batch_rows(batch)
        if n is None:
            return batch
        return split_rows(batch, even_sizes(n, workers))[self._extended._worker_index]

    def _shared_seed(self):
        """A seed every worker agrees on (drawn by the chief), or None with one worker."""
        communicator = self._extended._communicator
        if communicator is None or communicator.num_replicas == 1:
            return None
        return communicator.broadcast_object(int(np.random.randint(0, 2 ** 31 - 1)))

    @contextlib.contextmanager
    def _aggregated_reads(self, variables):
        """Inside, each variable holds its value aggregated over the workers (its
        `aggregation`: sum or mean; the chief's for ONLY_FIRST_REPLICA), as TF reads an
        ON_READ variable in the cross-replica context; the local values come back after."""
        communicator = self._extended._communicator
        if communicator is None or communicator.num_replicas == 1 or not variables:
            yield
            return
        saved = [v._t for v in variables]
        groups = {"sum": [], "mean": [], "first": []}
        for v in variables:
            agg = v.aggregation
            key = "mean" if agg is VariableAggregation.MEAN else \
                "first" if agg is VariableAggregation.ONLY_FIRST_REPLICA else "sum"
            groups[key].append(v)
        for key, group in groups.items():
            if not group:
                continue
            if key == "first":
                values = [communicator.broadcast(v._t) for v in group]
            else:
                values = communicator.all_reduce([v._t for v in group], key)
            for v, t in zip(group, values):
                v._t = t
        try:
            yield
        finally:
            for v, t in zip(variables, saved):
                v._t = t


def _reduce(reduce_op, value, axis, communicator):
    if axis is not None:
        total = reduce_sum(value, axis)
        if reduce_op is ReduceOp.SUM:
            return total if communicator is None else \
                collective.all_reduce([total], communicator, "sum")[0]
        count = cast(shape_op(value)[axis], total.dtype)
        if communicator is not None:
            total, count = collective.all_reduce([total, count], communicator, "sum")
        return divide(total, count)
    if communicator is None:
        return value
    return collective.all_reduce([value], communicator, reduce_op.value.lower())[0]


def _gather(value, axis, communicator):
    if communicator is None:
        return value
    if value.ndim == 0:  # TF concatenates the replicas' values, which scalars cannot be
        raise InvalidArgumentError(None, None, "ConcatOp : Can't concatenate scalars (use "
                                   "tf.stack instead) [Op:ConcatV2] name: concat")
    return collective.all_gather(value, communicator, axis)


def even_sizes(n, parts):
    """`n` rows in `parts` pieces differing by at most one, the larger first."""
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def batch_rows(batch):
    """The number of rows (first dimension) of a batch's tensors; None for scalars only."""
    for leaf in nest.flatten(batch):
        if hasattr(leaf, "shape") and len(leaf.shape):
            return int(leaf.shape[0])
    return None


def split_rows(batch, sizes):
    """`batch` cut along its first dimension into pieces of `sizes` rows (views, no copy)."""
    pieces, start = [], 0
    for size in sizes:
        stop = start + size
        pieces.append(nest.map_structure(lambda t, a=start, b=stop: _rows(t, a, b), batch))
        start = stop
    return pieces


def _rows(t, start, stop):
    if not isinstance(t, Tensor) or not t.ndim:
        return t
    if t._dtype is dtypes.string:
        return wrap_strings(t._t[start:stop])
    return wrap(t._t[start:stop], t._dtype)


class _DefaultDistributionStrategy(Strategy):
    """The strategy in effect when no other is: one replica, the current device; its scope
    changes nothing."""

    def __init__(self):
        super().__init__(_DefaultExtended(self, ()))

    def run(self, fn, args=(), kwargs=None, options=None):
        return fn(*args, **(kwargs or {}))

    @contextlib.contextmanager
    def scope(self):
        current = distribute_context.current_strategy()
        if current is not None and current is not self:
            raise RuntimeError(f"Mixing different tf.distribute.Strategy objects: {self} is not "
                               f"{current}")
        yield self


class _DefaultExtended(StrategyExtended):
    @property
    def worker_devices(self):
        raise RuntimeError("worker_devices() method unsupported by default "
                           "tf.distribute.Strategy.")

    parameter_devices = worker_devices


class _DefaultReplicaContext(ReplicaContext):
    """The replica context when no strategy is active."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


_DEFAULT_STRATEGY = _DefaultDistributionStrategy()
_DEFAULT_REPLICA_CONTEXT = _DefaultReplicaContext(_DEFAULT_STRATEGY, 0)


def all_reduce_sum_gradients(grads):
    """`grads` summed over the replicas in sync when a replica context with several replicas
    is current (an optimizer's gradients inside `strategy.run`), else `grads` as they are."""
    context = distribute_context.current_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return grads
    return context.all_reduce(ReduceOp.SUM, list(grads))


# -- accessors ---------------------------------------------------------------------------------

def get_strategy():
    """The current strategy: the innermost `scope()` or replica function's, else the default
    strategy."""
    strategy = distribute_context.current_strategy()
    return _DEFAULT_STRATEGY if strategy is None else strategy


def has_strategy():
    """Whether a strategy other than the default is current."""
    return distribute_context.current_strategy() is not None


def in_cross_replica_context():
    """Inside a strategy's `scope()` but not inside `strategy.run`."""
    return distribute_context.in_cross_replica_context()


def get_replica_context():
    """The current `ReplicaContext`: the replica's inside `strategy.run`, None in a
    cross-replica context, the default one when no strategy is active."""
    if distribute_context.current_strategy() is None:
        return _DEFAULT_REPLICA_CONTEXT
    return distribute_context.current_replica_context()

