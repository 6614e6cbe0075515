"""tf.image.resize and resize_with_pad against real TensorFlow: values of every method (with
and without antialias) on random images, up, down and mixed sizes, input dtypes, output
dtypes, errors, gradients against TF's grad kernels, inside tf.function; and the gradient
cases of the resize ops."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.ops import image_resize as R
from tapeflow.ops._op import execute
from tests.gradcheck import GradCase
from tests.io._compare import check

RNG = np.random.default_rng(11)
METHODS = ["bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
           "mitchellcubic"]
SIZES = [((6, 9), (13, 4)), ((16, 16), (5, 7)), ((3, 1), (7, 7)), ((9, 6), (9, 6)),
         ((20, 13), (2, 1))]


def _image(shape, dtype=np.float32):
    x = RNG.random(shape)
    return (x * 255).astype(dtype) if np.dtype(dtype).kind in "iu" else x.astype(dtype)


@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("method", METHODS)
def test_values_match_tensorflow(method, antialias, realtf):
    for (h, w), size in SIZES:
        x = _image((2, h, w, 3))
        ours = tf.image.resize(x, size, method, antialias=antialias)
        theirs = realtf.image.resize(x, size, method, antialias=antialias)
        assert ours.dtype.name == theirs.dtype.name and ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["uint8", "int32", "float16", "float64", "bfloat16"])
@pytest.mark.parametrize("method", ["bilinear", "nearest", "bicubic", "area", "lanczos3"])
def test_input_dtypes(method, dtype, realtf):
    x = _image((1, 5, 6, 2), np.float32 if dtype == "bfloat16" else dtype)
    ours = tf.image.resize(tf.cast(tf.constant(x), getattr(tf, dtype)), (7, 3), method)
    theirs = realtf.image.resize(realtf.cast(realtf.constant(x), getattr(realtf, dtype)),
                                 (7, 3), method)
    assert ours.dtype.name == theirs.dtype.name
    np.testing.assert_allclose(ours.numpy().astype(np.float64),
                               theirs.numpy().astype(np.float64), rtol=2e-3, atol=1e-3)


CASES = {
    "single_image": lambda m: m.image.resize(_FIXED[0], [5, 3]),
    "aspect_ratio": lambda m: m.image.resize(_FIXED, (3, 7), preserve_aspect_ratio=True),
    "aspect_ratio_up": lambda m: m.image.resize(_FIXED, (30, 17), "bicubic",
                                                preserve_aspect_ratio=True),
    "size_tensor": lambda m: m.image.resize(_FIXED, m.constant([2, 3])),
    "method_enum": lambda m: m.image.resize(_FIXED, [3, 2], m.image.ResizeMethod.MITCHELLCUBIC),
    "zero_size": lambda m: m.image.resize(_FIXED, [0, 3]),
    "negative_size": lambda m: m.image.resize(_FIXED, [-1, 3], "area"),
    "three_sizes": lambda m: m.image.resize(_FIXED, [2, 3, 4]),
    "float_size": lambda m: m.image.resize(_FIXED, [2.5, 3]),
    "rank_2": lambda m: m.image.resize(_FIXED[0, 0], [2, 3]),
    "bad_method": lambda m: m.image.resize(_FIXED, [2, 3], method="foo"),
    "empty_image": lambda m: m.image.resize(np.zeros([1, 0, 5, 2], np.float32), [2, 3],
                                            "lanczos5"),
    "no_channels": lambda m: m.image.resize(np.zeros([1, 4, 5, 0], np.float32), [2, 3],
                                            "nearest"),
    "empty_batch": lambda m: m.image.resize(np.zeros([0, 4, 5, 2], np.float32), [2, 3]),
    "bool": lambda m: m.image.resize(m.constant(_FIXED > 0.5), [2, 3], "nearest"),
    "pad": lambda m: m.image.resize_with_pad(_FIXED, 7, 3),
    "pad_single": lambda m: m.image.resize_with_pad(_FIXED[0], 3, 11, "bicubic",
                                                    antialias=True),
    "pad_zero": lambda m: m.image.resize_with_pad(_FIXED, 0, 3),
}
_FIXED = _image((2, 4, 5, 3))
_SIGNATURE_DUMPS = {"bool"}  # TF's text is a signature dump: class only


@pytest.mark.parametrize("name", sorted(CASES))
def test_cases_match_tensorflow(name, realtf):
    check(CASES[name], tf, realtf, text=name not in _SIGNATURE_DUMPS, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("method", METHODS)
def test_gradients_match_tensorflow(method, antialias, realtf):
    """Our transposed weights against TF's own gradient kernels (ResizeBilinearGrad, ...)."""
    x = _image((1, 6, 5, 2))
    weights = RNG.standard_normal((1, 4, 8, 2)).astype(np.float32)

    def grad(m):
        v = m.constant(x)
        with m.GradientTape() as tape:
            tape.watch(v)
            y = m.reduce_sum(m.image.resize(v, (4, 8), method, antialias=antialias) * weights)
        return tape.gradient(y, v)
    if method == "area":  # TF has no gradient for ResizeArea
        with pytest.raises(LookupError):
            grad(realtf)
        return
    np.testing.assert_allclose(grad(tf).numpy(), grad(realtf).numpy(), rtol=1e-4, atol=1e-5)


def test_resize_traces_in_tf_function():
    x = tf.constant(_image((2, 6, 7, 3)))

    @tf.function
    def f(images):
        return tf.image.resize(images, [3, 9], "bicubic", antialias=True)
    np.testing.assert_allclose(f(x).numpy(), tf.image.resize(x, [3, 9], "bicubic",
                                                             antialias=True).numpy(),
                               rtol=1e-6)
    assert f.experimental_get_tracing_count() == 1


def _linear(kind, antialias=False, out=(3, 5)):
    return lambda x: R.resample(x, out[0], out[1], kind, antialias)


def _linear_grad(kind, shape, antialias=False):
    op = R._linear_ops(kind)[1]
    return lambda g: execute(op, R._resample_grad_kernel, (g,),
                             (kind, shape[1], shape[2], antialias))


GRAD_CASES = [
    GradCase("ResizeBilinear", _linear("bilinear"), [RNG.random((1, 4, 3, 2))]),
    GradCase("ResizeBicubic", _linear("bicubic", out=(6, 2)), [RNG.random((1, 4, 3, 1))]),
    GradCase("ResizeArea", _linear("area", out=(3, 2)), [RNG.random((1, 5, 4, 1))]),
    GradCase("ScaleAndTranslate", _linear("lanczos3", True, (2, 5)), [RNG.random((1, 5, 3, 1))]),
    GradCase("ResizeNearestNeighbor", lambda x: R.resize_nearest(x, 5, 2),
             [RNG.random((1, 3, 4, 2))]),
    GradCase("ResizeBilinearGrad", _linear_grad("bilinear", (1, 4, 3, 2)),
             [RNG.random((1, 3, 5, 2))]),
    GradCase("ResizeBicubicGrad", _linear_grad("bicubic", (1, 4, 3, 1)),
             [RNG.random((1, 6, 2, 1))]),
    GradCase("ResizeAreaGrad", _linear_grad("area", (1, 5, 4, 1)), [RNG.random((1, 3, 2, 1))]),
    GradCase("ScaleAndTranslateGrad", _linear_grad("gaussian", (1, 5, 3, 1), True),
             [RNG.random((1, 2, 5, 1))]),
    GradCase("ResizeNearestNeighborGrad",
             lambda g: execute(R.RESIZE_NEAREST_GRAD, R._nearest_grad_kernel, (g,), (3, 4)),
             [RNG.random((1, 5, 2, 2))]),
]
