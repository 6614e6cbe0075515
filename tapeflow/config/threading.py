"""`tf.config.threading`: op parallelism, mapped to torch's thread pools
(tapeflow/_core/device.py)."""
from tapeflow._core.device import (get_inter_op_parallelism_threads,  # noqa: F401
                                   get_intra_op_parallelism_threads,
                                   set_inter_op_parallelism_threads,
                                   set_intra_op_parallelism_threads)
