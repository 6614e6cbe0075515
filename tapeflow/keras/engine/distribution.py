"""How `fit`, `evaluate` and `predict` run under a `tf.distribute` strategy, as Keras 3's
TensorFlow trainer does it: inside the model's strategy scope; each global batch split over
the workers (every worker holds the same global batches: arrays are shuffled with a seed the
chief draws, datasets are auto-sharded by `strategy.experimental_distribute_dataset`); the
step run as the worker's replica (`strategy.run`), its logs averaged over the workers;
epoch-end metrics read with their state summed over the workers (TF's ON_READ variables);
predictions gathered from every worker in batch order. Losses are divided by the number of
replicas (losses/loss.py) and optimizers sum the gradients, so a step on W workers matches
one on the global batch. The strategy API comes from `distribute_lib`, below Keras.
"""
import functools

import numpy as np

from tapeflow import distribute_lib
from tapeflow._core import nest
from tapeflow._core.tensor import Tensor


def strategy_of(model):
    """The strategy the model trains under: the one current when it was created, else the
    current one (Keras's `model.distribute_strategy`)."""
    return getattr(model, "_distribute_strategy", None) or distribute_lib.get_strategy()


def _workers(strategy):
    return strategy.extended._num_workers


def is_distributed(model):
    """Whether the model trains over several workers."""
    return _workers(strategy_of(model)) > 1


def in_strategy_scope(method):
    """Runs a Trainer method (fit, evaluate, predict) inside the model's strategy scope."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with strategy_of(self).scope():
            return method(self, *args, **kwargs)
    return run


def distribute(batches, strategy):
    """`batches` (data_adapter's ArrayBatches or IterableBatches) yielding this worker's part
    of every global batch."""
    if _workers(strategy) == 1:
        return batches
    from tapeflow.data.dataset import DatasetV2
    from tapeflow.keras.engine.data_adapter import ArrayBatches
    if isinstance(batches, ArrayBatches):
        return _LocalArrayBatches(batches, strategy)
    if isinstance(batches.data, DatasetV2):
        batches.data = strategy.experimental_distribute_dataset(batches.data)
        if batches.data.cardinality < 0:
            batches.num_batches = None  # FILE sharding: each worker's number of steps is its own
        return batches
    return _LocalIterableBatches(batches, strategy)


class _LocalArrayBatches:
    """ArrayBatches whose global batches (shuffled alike on every worker) are cut to this
    worker's rows."""

    def __init__(self, batches, strategy):
        self._batches = batches
        self._strategy = strategy
        if batches.shuffle:
            # one permutation per epoch for the whole job, drawn from the chief's seed
            batches.permutation = lambda n: np.random.RandomState(
                strategy._shared_seed()).permutation(n)

    @property
    def num_batches(self):
        return self._batches.num_batches

    def on_epoch_begin(self):
        self._batches.on_epoch_begin()

    def on_epoch_end(self):
        self._batches.on_epoch_end()

    def epoch(self):
        for batch in self._batches.epoch():
            yield self._strategy._local_part(batch)


class _LocalIterableBatches(_LocalArrayBatches):
    """Batches from a generator or a list: every worker reads them all (TF's DATA sharding of
    a generator) and takes its rows of each."""

    def __init__(self, batches, strategy):
        self._batches = batches
        self._strategy = strategy


def distributed_step(step, strategy, reduce_logs=True):
    """`step(data)` run as this worker's replica; with `reduce_logs`, its tensor logs averaged
    over the workers in one collective (Keras's `reduce_per_replica(..., "mean")`)."""
    if strategy is distribute_lib.get_strategy() and not distribute_lib.has_strategy():
        return step

    def replica_step(data):
        logs = step(data)
        if not reduce_logs or _workers(strategy) == 1:
            return logs
        context = distribute_lib.get_replica_context()
        flat = nest.flatten(logs)
        at = [i for i, v in enumerate(flat) if isinstance(v, Tensor) and v.dtype.is_floating]
        means = context.all_reduce("MEAN", [flat[i] for i in at])
        for i, m in zip(at, means):
            flat[i] = m
        return nest.pack_sequence_as(logs, flat)

    @functools.wraps(step)
    def run(data):
        return strategy.run(replica_step, args=(data,))
    return run


def aggregated_metric_reads(model):
    """A context in which the model's metrics hold their state summed over the workers, for
    the results of an epoch (TF reads ON_READ metric variables so in the cross-replica
    context)."""
    strategy = strategy_of(model)
    variables = []
    if _workers(strategy) > 1:
        for m in model.metrics:
            variables.extend(m.variables)
    return strategy._aggregated_reads(variables)


def gather_outputs(outputs, strategy):
    """predict's outputs of this worker's rows, concatenated with every worker's in batch
    order (each worker had consecutive rows of the global batch)."""
    if _workers(strategy) == 1:
        return outputs
    return strategy.gather(outputs, axis=0)


def should_write(model):
    """Whether this worker writes checkpoints and backups: the chief only."""
    return strategy_of(model).extended.should_checkpoint


def from_chief(model, value, variables=()):
    """The chief's `value` (a Python object) and the chief's values of `variables`, on every
    worker: a backup read by the chief alone restores the whole job, with or without a
    shared filesystem."""
    strategy = strategy_of(model)
    communicator = strategy.extended._communicator
    if communicator is None or communicator.num_replicas == 1:
        return value
    value = communicator.broadcast_object(value)
    if value is not None:
        for v in variables:
            v._t = communicator.broadcast(v._t)
    return value
