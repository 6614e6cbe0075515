"""`tf.test`: the device queries (tapeflow/_core/device.py)."""
from tapeflow._core.device import (gpu_device_name, is_built_with_cuda,  # noqa: F401
                                   is_built_with_gpu_support, is_built_with_rocm,
                                   is_built_with_xla, is_cpu_target_available, is_gpu_available)
