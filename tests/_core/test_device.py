"""tf.device, tf.DeviceSpec and tf.config against real TensorFlow: device-string grammar, scope
merging, soft placement, device lists and the runtime switches (TF32, threads)."""
import threading

import pytest
import torch

import tapeflow as tf
from tapeflow._core import context

SPECS = ["/CPU:0", "cpu:0", "/device:CPU:0", "/job:localhost/replica:0/task:0/device:CPU:0",
         "/GPU:0", "/device:GPU:0", "/gpu:1", "GPU:0", "GPU", "gpu", "/GPU", "CPU", "/cpu",
         "/CPU:5", "/TPU:0", "", None, "/device:CPU:*", "/cpu:*", "/device:cpu:0",
         "/job:localhost", "/task:0", "foo", "/physical_device:CPU:0", "/CPU:x",
         "/CPU:0/GPU:0", "device:CPU", "XLA_CPU:0", "CPU:0:1", 5,
         "/job:foo/CPU:0", "/replica:1", "/job:worker/task:1"]


def _placed(m, spec):
    try:
        with m.device(spec) as entered:
            x = m.constant([1.0])
            return "ok", x.device, entered
    except Exception as e:  # noqa: BLE001 - compared with what TF raises
        return "error", type(e).__name__, str(e)


@pytest.mark.parametrize("spec", SPECS, ids=[repr(s) for s in SPECS])
def test_device_strings_match_tf(realtf, spec):
    if torch.cuda.is_available() and "GPU" in str(spec).upper():
        pytest.skip("TF here is CPU-only; GPU placement is checked in the GPU tests below")
    assert _placed(tf, spec) == _placed(realtf, spec)


@pytest.fixture
def strict_placement(realtf):
    tf.config.set_soft_device_placement(False)
    realtf.config.set_soft_device_placement(False)
    yield
    tf.config.set_soft_device_placement(True)
    realtf.config.set_soft_device_placement(True)


@pytest.mark.parametrize("spec", ["/GPU:0", "/CPU:1", "/TPU:0"])
def test_strict_placement_error_matches_tf(realtf, strict_placement, spec):
    if torch.cuda.is_available() and spec == "/GPU:0":
        pytest.skip("a GPU is present")
    ours, theirs = _placed(tf, spec), _placed(realtf, spec)
    assert ours[:2] == theirs[:2]
    assert ours[2] in theirs[2]  # TF raises it from the first op, with the op's name after


def test_soft_placement_flag_round_trips(realtf):
    assert tf.config.get_soft_device_placement() is realtf.config.get_soft_device_placement()


def test_nested_scopes_merge_and_none_resets(realtf):
    for m in (tf, realtf):
        with m.device("/job:localhost"):
            with m.device("/CPU:0"):
                assert m.constant(1.0).device.endswith("device:CPU:0")
        with m.device("/CPU:0"):
            with m.device(None):
                inner = m.constant(1.0).device
    assert inner == tf.constant(1.0).device


def test_scope_is_restored_and_thread_local():
    outer = context.current_device()
    seen = []
    with tf.device("/CPU:0"):
        assert context.current_device() == torch.device("cpu")
        t = threading.Thread(target=lambda: seen.append(len(context.state.device_stack)))
        t.start()
        t.join()
    assert seen == [0]
    assert context.current_device() == outer
    assert context.state.device_stack == [] and context.state.device_specs == []


def test_exiting_out_of_order_raises():
    a, b = tf.device("/CPU:0"), tf.device("/cpu:0")
    a.__enter__()
    b.__enter__()
    with pytest.raises(RuntimeError, match="proper scope nesting"):
        a.__exit__(None, None, None)
    b.__exit__(None, None, None)
    a.__exit__(None, None, None)
    assert context.state.device_stack == []


def test_device_accepts_specs_and_logical_devices():
    with tf.device(tf.DeviceSpec(device_type="CPU", device_index=0)):
        assert tf.constant(1).device.endswith("CPU:0")
    with tf.device(tf.config.list_logical_devices("CPU")[0]):
        assert tf.constant(1).device.endswith("CPU:0")


@pytest.mark.parametrize("spec", ["/GPU:0", "/job:a/task:2/cpu:*", "/replica:3", "CPU",
                                  "/job:localhost/replica:0/task:0/device:GPU:1"])
def test_device_spec_to_string_matches_tf(realtf, spec):
    ours, theirs = tf.DeviceSpec.from_string(spec), realtf.DeviceSpec.from_string(spec)
    assert ours.to_string() == theirs.to_string()
    assert (ours.job, ours.replica, ours.task, ours.device_type, ours.device_index) == \
        (theirs.job, theirs.replica, theirs.task, theirs.device_type, theirs.device_index)
    merged = tf.DeviceSpec.from_string("/job:x/CPU:0").make_merged_spec(ours)
    theirs_merged = realtf.DeviceSpec.from_string("/job:x/CPU:0").make_merged_spec(theirs)
    assert merged.to_string() == theirs_merged.to_string()


def test_tensor_device_strings(realtf):
    for value in (1.0, [1, 2], "s", ["a"]):
        assert tf.constant(value).device == realtf.constant(value).device
    if not torch.cuda.is_available():
        assert tf.Variable([1.0]).device == realtf.Variable([1.0]).device


@pytest.mark.parametrize("device_type", [None, "CPU", "GPU", "cpu", "TPU"])
def test_device_lists_match_tf(realtf, device_type):
    if torch.cuda.is_available():
        pytest.skip("TF here is CPU-only")
    assert tf.config.list_physical_devices(device_type) == \
        realtf.config.list_physical_devices(device_type)
    assert repr(tf.config.list_physical_devices(device_type)) == \
        repr(realtf.config.list_physical_devices(device_type))
    assert repr(tf.config.list_logical_devices(device_type)) == \
        repr(realtf.config.list_logical_devices(device_type))
    assert tf.config.get_visible_devices(device_type) == \
        realtf.config.get_visible_devices(device_type)
    assert tf.config.experimental.list_physical_devices(device_type) == \
        realtf.config.experimental.list_physical_devices(device_type)


def test_physical_device_is_a_named_tuple():
    cpu = tf.config.list_physical_devices("CPU")[0]
    assert cpu.name == "/physical_device:CPU:0" and cpu.device_type == "CPU"
    assert cpu == ("/physical_device:CPU:0", "CPU")


def test_memory_growth_on_cpu_raises_like_tf(realtf):
    with pytest.raises(ValueError) as ours:
        tf.config.experimental.set_memory_growth(tf.config.list_physical_devices("CPU")[0], True)
    with pytest.raises(ValueError) as theirs:
        realtf.config.experimental.set_memory_growth(
            realtf.config.list_physical_devices("CPU")[0], True)
    assert str(ours.value) == str(theirs.value)


def test_visible_devices_cannot_change_after_initialisation():
    tf.constant(1.0)  # the runtime (default device) is fixed from here on
    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_visible_devices(cpus + tf.config.list_physical_devices("GPU"))  # unchanged
    if torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="cannot be modified after being initialized"):
            tf.config.set_visible_devices(cpus)


def test_tensor_float_32_toggles_torch(realtf):
    assert tf.config.experimental.tensor_float_32_execution_enabled() is \
        realtf.config.experimental.tensor_float_32_execution_enabled()
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    try:
        tf.config.experimental.enable_tensor_float_32_execution(False)
        assert tf.config.experimental.tensor_float_32_execution_enabled() is False
        assert not torch.backends.cuda.matmul.allow_tf32
        assert not torch.backends.cudnn.allow_tf32
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(True)
    assert torch.backends.cuda.matmul.allow_tf32


def test_threading_maps_to_torch(realtf):
    assert tf.config.threading.get_intra_op_parallelism_threads() == \
        realtf.config.threading.get_intra_op_parallelism_threads()
    assert tf.config.threading.get_inter_op_parallelism_threads() == \
        realtf.config.threading.get_inter_op_parallelism_threads()
    before = torch.get_num_threads()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        assert tf.config.threading.get_intra_op_parallelism_threads() == 1
        assert torch.get_num_threads() == 1
    finally:
        tf.config.threading.set_intra_op_parallelism_threads(0)
    assert torch.get_num_threads() == before
    tf.config.threading.set_inter_op_parallelism_threads(2)
    assert tf.config.threading.get_inter_op_parallelism_threads() == 2
    tf.config.threading.set_inter_op_parallelism_threads(0)


def test_tf_test_queries_match_torch():
    assert tf.test.is_built_with_cuda() is (torch.version.cuda is not None)
    assert tf.test.is_gpu_available() is torch.cuda.is_available()
    assert tf.test.gpu_device_name() == ("/device:GPU:0" if torch.cuda.is_available() else "")


def test_logical_cpus_can_be_configured():
    cpu = tf.config.list_physical_devices("CPU")[0]
    before = tf.config.get_logical_device_configuration(cpu)
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
        assert [d.name for d in tf.config.list_logical_devices("CPU")] == \
            ["/device:CPU:0", "/device:CPU:1"]
        with tf.device("/CPU:1"):
            assert tf.constant(1.0)._t.device.type == "cpu"
    finally:
        tf.config.set_logical_device_configuration(cpu, before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_placement():
    assert tf.constant(1.0).device.endswith("device:GPU:0")
    with tf.device("/CPU:0"):
        x = tf.constant([1.0, 2.0])
    assert x.device.endswith("device:CPU:0")
    y = tf.constant([1.0, 2.0])
    assert (x + y).numpy().tolist() == [2.0, 4.0]  # inputs from two devices: copied, as TF
    assert tf.config.list_physical_devices("GPU")[0] == ("/physical_device:GPU:0", "GPU")
    with tf.device("/GPU:0"):
        assert tf.random.normal([2]).device.endswith("device:GPU:0")
