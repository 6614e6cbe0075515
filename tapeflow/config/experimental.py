"""`tf.config.experimental`: memory growth, TF32, determinism and device details
(tapeflow/_core/device.py)."""
from tapeflow._core.device import (LogicalDeviceConfiguration as VirtualDeviceConfiguration,  # noqa: F401
                                   enable_op_determinism, enable_tensor_float_32_execution,
                                   get_device_details, get_device_policy, get_memory_growth,
                                   get_memory_info, get_memory_usage, get_synchronous_execution,
                                   get_logical_device_configuration as
                                   get_virtual_device_configuration,
                                   get_visible_devices, list_logical_devices,
                                   list_physical_devices, reset_memory_stats,
                                   set_logical_device_configuration as
                                   set_virtual_device_configuration,
                                   set_device_policy, set_memory_growth,
                                   set_synchronous_execution, set_visible_devices,
                                   tensor_float_32_execution_enabled)
