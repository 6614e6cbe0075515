"""`tf.distribute.experimental` (re-exports; see communicator.py and strategies.py)."""
from tapeflow.distribute.communicator import (CommunicationImplementation,  # noqa: F401
                                              CommunicationOptions)
from tapeflow.distribute.strategies import (  # noqa: F401
    _ExperimentalMultiWorkerMirroredStrategy as MultiWorkerMirroredStrategy)
from tapeflow.distribute_lib import ValueContext  # noqa: F401
