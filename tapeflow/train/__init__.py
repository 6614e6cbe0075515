"""`tf.train`: checkpoints for custom training loops. This file only re-exports."""
from tapeflow.train.checkpoint import (Checkpoint, CheckpointLoadStatus,  # noqa: F401
                                       read_checkpoint)
from tapeflow.train.checkpoint_management import (CheckpointManager,  # noqa: F401
                                                  CheckpointState, checkpoint_exists,
                                                  get_checkpoint_state, latest_checkpoint,
                                                  update_checkpoint_state)
from tapeflow.train.checkpoint_utils import (list_variables, load_checkpoint,  # noqa: F401
                                            load_variable)
from tapeflow.distribute.cluster import ClusterSpec  # noqa: F401,E402  (tf.train.ClusterSpec)
from tapeflow.io.protos import (BytesList, Example, Feature, FeatureList,  # noqa: F401,E402
                                FeatureLists, Features, FloatList, Int64List, SequenceExample)
