"""Helpers to compare tapeflow with real TensorFlow: values, dtypes, shapes, error classes."""
import numpy as np


def to_numpy(x):
    if isinstance(x, (list, tuple)):
        return [to_numpy(v) for v in x]
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def assert_same(ours, theirs, rtol=1e-5, atol=1e-6):
    """Same dtype name, same shape, same values (to tolerance) for tensors or lists of them."""
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)), f"expected a sequence, got {type(ours)}"
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b, rtol, atol)
        return
    if hasattr(theirs, "dtype") and hasattr(theirs.dtype, "name"):
        assert ours.dtype.name == theirs.dtype.name, f"dtype {ours.dtype.name} != {theirs.dtype.name}"
        assert tuple(ours.shape) == tuple(theirs.shape), f"shape {ours.shape} != {theirs.shape}"
    a, b = to_numpy(ours), to_numpy(theirs)
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        np.testing.assert_allclose(a.astype(np.float64) if a.dtype.kind == "f" else a,
                                   b.astype(np.float64) if b.dtype.kind == "f" else b,
                                   rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(a, b)


def outcome(fn):
    """('ok', value) or ('error', exception class name) for calling fn."""
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001 - we compare whatever TF raises
        return "error", type(e).__name__


def error_of(fn):
    """(exception class name, message) for what calling fn raises, or None if it returns."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - we compare whatever TF raises
        return type(e).__name__, str(e)
    return None


def assert_same_outcome(ours_fn, theirs_fn, rtol=1e-5, atol=1e-6):
    """Both succeed with the same result, or both raise an error of the same class name."""
    o, t = outcome(ours_fn), outcome(theirs_fn)
    assert o[0] == t[0], f"tapeflow: {o}, TensorFlow: {t}"
    if o[0] == "error":
        assert o[1] == t[1], f"tapeflow raised {o[1]}, TensorFlow raised {t[1]}"
    else:
        assert_same(o[1], t[1], rtol, atol)


def assert_same_op_error_text(ours_fn, theirs_fn, value_errors=False):
    """When both raise: an op error (`[Op:...]`) must carry TF's text (the trailing " name: "
    aside), and with `value_errors` so must a ValueError."""
    ours, theirs = error_of(ours_fn), error_of(theirs_fn)
    if ours is None or theirs is None:
        return
    if "[Op:" in theirs[1] and "Op<name=" not in theirs[1]:  # op errors; not signature dumps
        assert ours[1].removesuffix(" name: ") == theirs[1].removesuffix(" name: ")
    elif value_errors and ours[0] == "ValueError":
        assert ours[1] == theirs[1]
