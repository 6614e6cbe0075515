"""AutoGraph against TensorFlow's: every function of programs.py runs under real TF and under
tapeflow (both converting the same source), and returns the same values or raises the same
error class with the same message (its last line: TF's frames name the same file and line)."""
import pathlib
import runpy

import numpy as np
import pytest

import tapeflow
from tests.parity import assert_same

PROGRAMS = pathlib.Path(__file__).with_name("programs.py")
NAMES = list(runpy.run_path(str(PROGRAMS), init_globals={"tf": tapeflow})["CASES"])


@pytest.fixture(scope="module")
def programs(realtf):
    return (runpy.run_path(str(PROGRAMS), init_globals={"tf": tapeflow})["CASES"],
            runpy.run_path(str(PROGRAMS), init_globals={"tf": realtf})["CASES"])


def _run(entry):
    fn, make_args = entry
    try:
        return "ok", fn(*[make() for make in make_args])
    except Exception as e:  # noqa: BLE001 - compared with what TF raises
        # the cause's first line (after TF's "in user code:" frames, which name one file)
        name = type(e).__name__
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        cause = [ln for ln in lines if ln.startswith(name + ":")]
        return "error", (name, cause[-1] if cause else lines[-1] if lines else "")


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flat(item)]
    return [x]


@pytest.mark.parametrize("name", NAMES)
def test_same_result_as_tensorflow(programs, name):
    ours, theirs = (_run(cases[name]) for cases in programs)
    assert ours[0] == theirs[0], f"tapeflow: {ours}, TensorFlow: {theirs}"
    if ours[0] == "error":
        assert ours[1] == theirs[1]
        return
    a, b = _flat(ours[1]), _flat(theirs[1])
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if hasattr(x, "dtype") and hasattr(y, "dtype"):
            assert_same(x, y)
        else:  # TF's tf.function returns Python numbers as tensors (tf_function.py: not yet)
            assert np.asarray(x).tolist() == np.asarray(y).tolist()


ERRORS = ["undefined_in_else", "missing_return_in_branch", "branch_dtypes_differ",
          "loop_dtype_changes", "loop_shape_changes", "return_in_tensor_loop",
          "tensor_break_in_python_loop",
          "non_bool_condition", "error_in_called_function"]


@pytest.mark.parametrize("name", ERRORS)
def test_error_names_the_user_lines_as_tensorflow_does(programs, name):
    """The whole message: "in user code:", each converted frame's file, line, function and
    source line, then the cause."""
    texts = []
    for cases in programs:
        fn, make_args = cases[name]
        with pytest.raises(Exception) as info:
            fn(*[make() for make in make_args])
        texts.append((type(info.value).__name__, str(info.value)))
    assert texts[0] == texts[1]
