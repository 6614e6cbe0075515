"""`tf.data.experimental`."""
from tapeflow.data.dataset import (AUTOTUNE, INFINITE_CARDINALITY,  # noqa: F401
                                   UNKNOWN_CARDINALITY, cardinality)
from tapeflow.data.dataset import AutoShardPolicy, DistributeOptions  # noqa: F401,E402
from tapeflow.data.files import TFRecordWriter  # noqa: F401,E402
