"""Running one case under tapeflow and real TensorFlow and comparing what comes out: values,
dtypes and shapes, or the error class and (optionally) its text."""
from tests.parity import assert_same


def outcome(fn):
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001 - compared with what TF raises
        # TF appends " name: " to some eager errors depending on its call path; not semantics.
        return "error", type(e).__name__, str(e).removesuffix(" name: ")


def check(fn, ours_module, tf_module, text=True, rtol=1e-6, atol=1e-6):
    """fn(module) under both: the same result, or the same error class (and text)."""
    ours, theirs = outcome(lambda: fn(ours_module)), outcome(lambda: fn(tf_module))
    assert ours[0] == theirs[0], f"tapeflow: {ours}, TensorFlow: {theirs}"
    if ours[0] == "error":
        assert ours[1] == theirs[1], f"tapeflow raised {ours[1:]}, TensorFlow {theirs[1:]}"
        if text:
            assert ours[2] == theirs[2], f"\ntapeflow:   {ours[2]}\nTensorFlow: {theirs[2]}"
    else:
        same(ours[1], theirs[1], rtol, atol)


def same(a, b, rtol=1e-6, atol=1e-6):
    """Equal results: tensors (dtype, shape, values), dicts, tuples, sparse values, Python."""
    if isinstance(b, dict):
        assert list(a) == list(b), f"keys {list(a)} != {list(b)}"
        for k in b:
            same(a[k], b[k], rtol, atol)
    elif isinstance(b, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y, rtol, atol)
    elif type(b).__name__ == "SparseTensor":
        for part in ("indices", "values", "dense_shape"):
            assert_same(getattr(a, part), getattr(b, part), rtol, atol)
    elif hasattr(b, "numpy"):
        assert_same(a, b, rtol, atol)
    else:
        assert a == b
