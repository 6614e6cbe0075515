"""`tf.distribute.cluster_resolver` (re-exports; see tapeflow/distribute/cluster.py)."""
from tapeflow.distribute.cluster import (ClusterResolver, SimpleClusterResolver,  # noqa: F401
                                         TFConfigClusterResolver)
