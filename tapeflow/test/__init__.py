"""`tf.test`: the device queries (tapeflow/_core/device.py)."""
from tapeflow._core.device import (gpu_device_name, is_built_with_cuda,  # noqa: F401
                                   is_built_with_gpu_support, is_gpu_available)
