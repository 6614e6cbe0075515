"""ImageProjectiveTransformV3 (the kernel of Keras's affine augmentations) against TF's:
every fill mode and interpolation, random affine and projective transforms, integer images."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.ops import image_transform

GRAD_CASES = []  # not differentiable here (TF's gradient is an inverse-transform stand-in)

RNG = np.random.default_rng(4)
X = RNG.random((3, 7, 9, 2)).astype(np.float32)


def _transforms(projective):
    t = np.concatenate([RNG.normal(1, 0.4, (3, 2)), RNG.normal(0, 4, (3, 1)),
                        RNG.normal(0, 0.4, (3, 1)), RNG.normal(1, 0.4, (3, 1)),
                        RNG.normal(0, 4, (3, 1)), RNG.normal(0, 0.02, (3, 2)) * projective], 1)
    return t.astype(np.float32)


@pytest.mark.parametrize("interpolation", ["NEAREST", "BILINEAR"])
@pytest.mark.parametrize("mode", ["REFLECT", "WRAP", "CONSTANT", "NEAREST"])
@pytest.mark.parametrize("projective", [0, 1])
def test_matches_tensorflow(mode, interpolation, projective, realtf):
    for images in (X, (X * 255).astype(np.uint8)):
        t = _transforms(projective)
        ours = image_transform.projective_transform(images, t, [6, 10], 0.5, interpolation,
                                                    mode)
        theirs = realtf.raw_ops.ImageProjectiveTransformV3(
            images=images, transforms=t, output_shape=[6, 10], fill_value=0.5,
            interpolation=interpolation, fill_mode=mode)
        assert ours.dtype.name == theirs.dtype.name and ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)


def test_one_transform_for_the_whole_batch_and_errors():
    t = np.array([[1, 0, 1, 0, 1, 0, 0, 0]], np.float32)
    out = image_transform.projective_transform(X, t, fill_mode="NEAREST").numpy()
    np.testing.assert_array_equal(out[:, :, :-1], X[:, :, 1:])  # reads one pixel right
    with pytest.raises(ValueError):
        image_transform.projective_transform(X, np.zeros((2, 8), np.float32))
    with pytest.raises(ValueError):
        image_transform.projective_transform(X, t, fill_mode="MIRROR")


BOXES = np.array([[0.1, 0.2, 0.8, 0.9], [0.5, 0.5, 0.5, 0.5], [-0.2, 0.3, 1.3, 0.7],
                  [0.9, 0.8, 0.1, 0.05]], np.float32)
IMAGES = RNG.random((2, 5, 6, 3)).astype(np.float32)
CROPS = {
    "bilinear": lambda m: m.image.crop_and_resize(IMAGES, BOXES, [0, 1, 1, 0], [3, 4]),
    "bilinear_extrapolate": lambda m: m.image.crop_and_resize(IMAGES, BOXES, [0, 1, 1, 0],
                                                              [7, 2], extrapolation_value=0.25),
    "one_pixel": lambda m: m.image.crop_and_resize(IMAGES, BOXES, [1, 1, 0, 0], [1, 1]),
    "nearest": lambda m: m.image.crop_and_resize(IMAGES, BOXES, [0, 1, 1, 0], [3, 5],
                                                 "nearest"),
    "integer_image": lambda m: m.image.crop_and_resize((IMAGES * 9).astype(np.int32), BOXES,
                                                       [0, 0, 1, 1], [2, 3]),
    "bad_index": lambda m: m.image.crop_and_resize(IMAGES, BOXES, [0, 2, 0, 0], [3, 4]),
    "index_shape": lambda m: m.image.crop_and_resize(IMAGES, BOXES, [0], [3, 4]),
    "three_columns": lambda m: m.image.crop_and_resize(IMAGES, BOXES[:, :3], [0, 1, 1, 0],
                                                       [3, 4]),
    "zero_crop": lambda m: m.image.crop_and_resize(IMAGES, BOXES, [0, 1, 1, 0], [0, 4]),
    "rank_3": lambda m: m.image.crop_and_resize(IMAGES[0], BOXES, [0, 1, 1, 0], [3, 4]),
    "bad_method": lambda m: m.image.crop_and_resize(IMAGES, BOXES, [0, 1, 1, 0], [3, 4],
                                                    method="foo"),
}


@pytest.mark.parametrize("name", sorted(CROPS))
def test_crop_and_resize_matches_tensorflow(name, realtf):
    from tests.io._compare import check
    check(CROPS[name], tf, realtf, text=name != "bad_method", rtol=1e-5, atol=2e-6)


def test_crop_and_resize_gradients_match_tensorflow(realtf):
    weights = RNG.standard_normal((4, 3, 4, 3)).astype(np.float32)

    def grads(m):
        images, boxes = m.constant(IMAGES), m.constant(BOXES)
        with m.GradientTape() as tape:
            tape.watch([images, boxes])
            y = m.reduce_sum(m.image.crop_and_resize(images, boxes, [0, 1, 1, 0], [3, 4]) *
                             weights)
        return tape.gradient(y, [images, boxes])
    for ours, theirs in zip(grads(tf), grads(realtf)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-5)
