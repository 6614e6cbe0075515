"""The strategies: `MirroredStrategy` and `OneDeviceStrategy` (one process, one replica),
and `MultiWorkerMirroredStrategy` (one replica in each of several processes, on several
machines, joined by torch.distributed; see communicator.py).

Each is a `distribute_lib.Strategy` configured with its devices and, for several workers, the
job's communicator; what they do (scope, run, reduce, gather, mirrored variables) lives there,
and the input splitting in input_lib.py. tapeflow runs one replica per process: for several
GPUs, start one worker per GPU (`examples/distributed_mnist.py --gpus`), each seeing its GPU
as GPU:0, and NCCL carries the all-reduces.
"""
from tapeflow._core import context
from tapeflow._core.device import DeviceSpec
from tapeflow._core.logs import warn
from tapeflow.distribute import cluster as cluster_lib
from tapeflow.distribute.communicator import CommunicationOptions, communicator_for
from tapeflow.distribute.input_lib import DistributedDataset, DistributedDatasetsFromFunction
from tapeflow.distribute_lib import InputContext, Strategy, StrategyExtended


def _local_name(device):
    """`'/job:localhost/replica:0/task:0/device:GPU:0'` for '/gpu:0', 'GPU:0', ..."""
    spec = DeviceSpec.from_string(device if device.startswith("/") or ":" not in device
                                  else "/" + device)
    kind = (spec.device_type or "CPU").upper()
    return f"/job:localhost/replica:0/task:0/device:{kind}:{spec.device_index or 0}"


def _default_local_device():
    return "GPU:0" if context.default_device().type == "cuda" else "CPU:0"


class _InputStrategy(Strategy):
    """Input distribution shared by the strategies of this module."""

    def experimental_distribute_dataset(self, dataset, options=None):
        """`dataset` (global batches) split over the workers: each worker's iteration gives
        its part of every global batch, auto-sharded as `tf.data.Options` says."""
        return DistributedDataset(self, dataset, options)

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        """Calls `dataset_fn(InputContext)` once on each worker; the dataset it returns
        (sharded and batched per replica by the function) feeds this worker's replica."""
        extended = self._extended
        context_ = InputContext(extended._num_workers, extended._worker_index,
                                self.num_replicas_in_sync)
        return DistributedDatasetsFromFunction(self, dataset_fn(context_), options)


class MirroredStrategy(_InputStrategy):
    """Synchronous training on the devices of one machine (`tf.distribute.MirroredStrategy`).

    On a machine without GPUs it has one replica on the CPU, as TF's. tapeflow runs one
    replica per process: given several devices it refuses, and with `devices=None` on a
    several-GPU machine it uses GPU:0 (and warns); for several GPUs start one worker per GPU
    under `MultiWorkerMirroredStrategy`.

    Args:
        devices: the devices to mirror over (default: all GPUs, else the CPU).
        cross_device_ops: accepted for compatibility (one device needs none).
    """

    def __init__(self, devices=None, cross_device_ops=None):
        if devices is None:
            gpus = context.visible_gpus()
            if len(gpus) > 1:
                warn("tapeflow's MirroredStrategy runs one replica per process: using GPU:0 "
                     "of %d GPUs. Start one worker per GPU with MultiWorkerMirroredStrategy "
                     "to train on all of them.", len(gpus))
            devices = [_default_local_device()]
        devices = list(devices)
        if not devices:
            raise ValueError("Got an empty `devices` list. Please make sure the `devices` you "
                             "pass in is not empty.")
        names = [_local_name(d) for d in devices]
        if len(set(names)) != len(names):
            raise ValueError(f"No duplicates allowed in `devices` argument: {devices}")
        if len(names) > 1:
            raise NotImplementedError(
                f"tapeflow's MirroredStrategy runs one replica per process; got devices="
                f"{devices}. Start one worker process per device with "
                "MultiWorkerMirroredStrategy (see examples/distributed_mnist.py).")
        super().__init__(StrategyExtended(self, names, placement=names[0]))


class OneDeviceStrategy(_InputStrategy):
    """Runs everything on one device (`tf.distribute.OneDeviceStrategy`): variables created
    in its scope and the replica function's ops are placed there."""

    def __init__(self, device):
        name = _local_name(device)
        super().__init__(StrategyExtended(self, [name], placement=name))

    def experimental_distribute_dataset(self, dataset, options=None):
        return dataset


class MultiWorkerMirroredStrategy(_InputStrategy):
    """Synchronous training on several workers (processes, possibly on several machines), one
    replica each (`tf.distribute.MultiWorkerMirroredStrategy`).

    The cluster and this task come from `TF_CONFIG` (or `cluster_resolver`); worker 0 (or the
    task of the 'chief' job) is the chief. Creating the strategy joins the job: it returns
    once every worker has connected, or raises `tf.errors.UnavailableError` naming the tasks
    that did not within `communication_options.timeout_seconds`. Without a cluster it is one
    local replica, as TF's.

    Args:
        communication_options: a `tf.distribute.experimental.CommunicationOptions`
            (implementation AUTO/RING/NCCL and the collective timeout).
        cluster_resolver: a `tf.distribute.cluster_resolver.ClusterResolver` (default: a
            `TFConfigClusterResolver`).

    Example:
    >>> # TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:23456"]},
    >>> #             "task": {"type": "worker", "index": 0}}'
    >>> strategy = tf.distribute.MultiWorkerMirroredStrategy()
    >>> with strategy.scope():
    ...     model = make_model()  # built and compiled here, then model.fit(...)
    """

    def __init__(self, communication_options=None, cluster_resolver=None):
        if communication_options is None:
            communication_options = CommunicationOptions()
        if cluster_resolver is None:
            cluster_resolver = cluster_lib.TFConfigClusterResolver()
        self._cluster_resolver = cluster_resolver
        self._communication_options = communication_options
        tasks, me = cluster_lib.ranked_tasks(cluster_resolver)
        kind = _default_local_device().split(":")[0]
        if me is None:
            devices = [f"/job:localhost/replica:0/task:0/device:{kind}:0"]
            communicator = None
        else:
            devices = [f"{me.name}/device:{kind}:0"]
            communicator = communicator_for(tasks, me, communication_options) \
                if len(tasks) > 1 else None
        super().__init__(StrategyExtended(self, devices, communicator, between_graph=True))

    @property
    def cluster_resolver(self):
        return self._cluster_resolver


class _ExperimentalMultiWorkerMirroredStrategy(MultiWorkerMirroredStrategy):
    """`tf.distribute.experimental.MultiWorkerMirroredStrategy` (deprecated in TF): its
    `communication` argument is the implementation."""

    def __init__(self, communication=None, cluster_resolver=None, communication_options=None):
        if communication_options is None:
            from tapeflow.distribute.communicator import CommunicationImplementation
            communication_options = CommunicationOptions(
                implementation=communication or CommunicationImplementation.AUTO)
        super().__init__(communication_options, cluster_resolver)
