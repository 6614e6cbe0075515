"""`tf.distribute`: strategies on torch.distributed (re-exports only; see strategies.py,
communicator.py, input_lib.py, cluster_resolver.py and, below Keras, distribute_lib.py)."""
from tapeflow.distribute import cluster_resolver, experimental  # noqa: F401
from tapeflow.distribute.input_lib import DistributedDataset, DistributedIterator  # noqa: F401
from tapeflow.distribute.strategies import (MirroredStrategy,  # noqa: F401
                                            MultiWorkerMirroredStrategy, OneDeviceStrategy)
from tapeflow.distribute_lib import (DistributedValues, InputContext, ReduceOp,  # noqa: F401
                                     ReplicaContext, Strategy, StrategyExtended,
                                     get_replica_context, get_strategy, has_strategy,
                                     in_cross_replica_context)
