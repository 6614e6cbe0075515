"""`tf.config`: devices and runtime settings (tapeflow/_core/device.py).

`tf.config.run_functions_eagerly` belongs to tf.function and is added by it.
"""
from tapeflow._core.device import (LogicalDevice, LogicalDeviceConfiguration,  # noqa: F401
                                   PhysicalDevice, get_logical_device_configuration,
                                   get_soft_device_placement, get_visible_devices,
                                   list_logical_devices, list_physical_devices,
                                   set_logical_device_configuration,
                                   set_soft_device_placement, set_visible_devices)
from tapeflow.config import experimental, threading  # noqa: F401,E402
from tapeflow.function.tf_function import (functions_run_eagerly,  # noqa: F401,E402
                                           run_functions_eagerly)
