"""Flips, rotations, crops, pads and extract_patches against real TensorFlow: values,
shapes, dtypes and TF's ValueError texts; the random forms' seed rules (tapeflow's numbers
are not TF's, so those are checked for what they promise); patch gradients against TF."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.ops import image_geometry as G
from tapeflow.ops._op import execute
from tests.gradcheck import GradCase
from tests.io._compare import check

RNG = np.random.default_rng(5)
X = RNG.random((4, 5, 3)).astype(np.float32)
B = RNG.random((2, 4, 5, 3)).astype(np.float32)
U8 = (RNG.random((3, 4, 2)) * 255).astype(np.uint8)

CASES = {
    "flip_lr": lambda m: m.image.flip_left_right(X),
    "flip_lr_batch": lambda m: m.image.flip_left_right(B),
    "flip_ud": lambda m: m.image.flip_up_down(U8),
    "flip_ud_batch": lambda m: m.image.flip_up_down(B),
    "flip_rank_2": lambda m: m.image.flip_left_right(X[0]),
    "flip_rank_5": lambda m: m.image.flip_up_down(B[None]),
    "flip_empty": lambda m: m.image.flip_up_down(np.zeros([0, 3, 3])),
    "random_flip_rank_5": lambda m: m.image.random_flip_left_right(B[None]),
    "random_flip_rank_2": lambda m: m.image.random_flip_up_down(X[0]),
    "rot90": lambda m: m.image.rot90(X),
    "rot180": lambda m: m.image.rot90(U8, 2),
    "rot270_batch": lambda m: m.image.rot90(B, k=3),
    "rot_negative": lambda m: m.image.rot90(B, k=-1),
    "rot_tensor_k": lambda m: m.image.rot90(X, k=m.constant(5)),
    "rot_vector_k": lambda m: m.image.rot90(X, k=[1]),
    "rot_float_k": lambda m: m.image.rot90(X, k=1.5),
    "transpose": lambda m: m.image.transpose(X),
    "transpose_batch": lambda m: m.image.transpose(B),
    "transpose_rank_5": lambda m: m.image.transpose(B[None]),
    "central_crop": lambda m: m.image.central_crop(X, 0.33),
    "central_crop_batch": lambda m: m.image.central_crop(B, 0.5),
    "central_crop_all": lambda m: m.image.central_crop(X, 1.0),
    "central_crop_zero": lambda m: m.image.central_crop(X, 0.0),
    "central_crop_big": lambda m: m.image.central_crop(X, 1.5),
    "central_crop_rank_2": lambda m: m.image.central_crop(X[0], 0.5),
    "crop": lambda m: m.image.crop_to_bounding_box(X, 1, 2, 2, 3),
    "crop_batch": lambda m: m.image.crop_to_bounding_box(B, 0, 1, 4, 2),
    "crop_tensor_args": lambda m: m.image.crop_to_bounding_box(X, m.constant(1), 0, 3,
                                                               m.constant(2)),
    "crop_too_far": lambda m: m.image.crop_to_bounding_box(X, 3, 0, 2, 2),
    "crop_too_wide": lambda m: m.image.crop_to_bounding_box(X, 0, 4, 2, 2),
    "crop_negative": lambda m: m.image.crop_to_bounding_box(X, -1, -1, 2, 2),
    "crop_zero_height": lambda m: m.image.crop_to_bounding_box(X, 0, 0, 0, 2),
    "crop_rank_2": lambda m: m.image.crop_to_bounding_box(X[0], 0, 0, 2, 2),
    "pad": lambda m: m.image.pad_to_bounding_box(X, 1, 2, 7, 8),
    "pad_batch_u8": lambda m: m.image.pad_to_bounding_box(U8[None], 0, 1, 3, 6),
    "pad_too_small": lambda m: m.image.pad_to_bounding_box(X, 0, 0, 3, 6),
    "pad_negative": lambda m: m.image.pad_to_bounding_box(X, 0, -1, 6, 6),
    "pad_empty": lambda m: m.image.pad_to_bounding_box(np.zeros([0, 3, 3]), 0, 0, 6, 3),
    "crop_or_pad": lambda m: m.image.resize_with_crop_or_pad(X, 7, 2),
    "crop_or_pad_batch": lambda m: m.image.resize_with_crop_or_pad(B, 3, 9),
    "crop_or_pad_zero": lambda m: m.image.resize_with_crop_or_pad(X, 0, 3),
    "random_crop_full": lambda m: m.image.random_crop(X, [4, 5, 3]),
    "random_crop_too_big": lambda m: m.image.random_crop(X, [5, 2, 3]),
    "random_crop_rank": lambda m: m.image.random_crop(X, [2, 2]),
    "patches_valid": lambda m: m.image.extract_patches(B, [1, 3, 3, 1], [1, 2, 2, 1],
                                                       [1, 1, 1, 1], "VALID"),
    "patches_same_rates": lambda m: m.image.extract_patches(B, [1, 2, 3, 1], [1, 3, 1, 1],
                                                            [1, 2, 1, 1], "SAME"),
    "patches_int": lambda m: m.image.extract_patches(U8[None].astype(np.int32), [1, 2, 2, 1],
                                                     [1, 1, 1, 1], [1, 1, 1, 1], "SAME"),
    "patches_too_big": lambda m: m.image.extract_patches(B, [1, 9, 3, 1], [1, 2, 2, 1],
                                                         [1, 1, 1, 1], "VALID"),
    "patches_short_sizes": lambda m: m.image.extract_patches(B, [1, 3, 3], [1, 2, 2, 1],
                                                             [1, 1, 1, 1], "VALID"),
    "patches_batch_size": lambda m: m.image.extract_patches(B, [2, 3, 3, 1], [1, 2, 2, 1],
                                                            [1, 1, 1, 1], "VALID"),
    "patches_bad_padding": lambda m: m.image.extract_patches(B, [1, 3, 3, 1], [1, 2, 2, 1],
                                                             [1, 1, 1, 1], "FOO"),
    "patches_rank_3": lambda m: m.image.extract_patches(X, [1, 3, 3, 1], [1, 2, 2, 1],
                                                        [1, 1, 1, 1], "VALID"),
}
_CLASS_ONLY = {"patches_short_sizes", "patches_bad_padding"}  # signature dumps


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tensorflow(name, realtf):
    check(CASES[name], tf, realtf, text=name not in _CLASS_ONLY)


@pytest.mark.parametrize("fn", ["random_flip_left_right", "random_flip_up_down"])
@pytest.mark.parametrize("images", [X, B], ids=["single", "batch"])
def test_random_flips_flip_or_keep_each_image(fn, images):
    axis = {"random_flip_left_right": 1, "random_flip_up_down": 0}[fn] + (images.ndim == 4)
    seen = set()
    for _ in range(20):
        out = getattr(tf.image, fn)(images).numpy()
        for o, i in zip(out, images) if images.ndim == 4 else [(out, images)]:
            flipped = np.array_equal(o, np.flip(i, axis - (images.ndim == 4)))
            assert flipped or np.array_equal(o, i)
            seen.add(flipped)
    assert seen == {True, False}


@pytest.mark.parametrize("fn", ["stateless_random_flip_left_right",
                                "stateless_random_flip_up_down"])
def test_stateless_flips_depend_only_on_the_seed(fn):
    a = getattr(tf.image, fn)(B, seed=(1, 2)).numpy()
    assert np.array_equal(a, getattr(tf.image, fn)(B, seed=(1, 2)).numpy())
    outcomes = {getattr(tf.image, fn)(X, seed=(s, 0)).numpy().tobytes() for s in range(12)}
    assert len(outcomes) == 2  # both outcomes occur


def test_seeded_random_ops_repeat_after_set_seed():
    tf.random.set_seed(3)
    first = [tf.image.random_flip_left_right(B, seed=1).numpy(),
             tf.image.random_crop(X, [2, 3, 3], seed=2).numpy()]
    tf.random.set_seed(3)
    again = [tf.image.random_flip_left_right(B, seed=1).numpy(),
             tf.image.random_crop(X, [2, 3, 3], seed=2).numpy()]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_random_crop_windows_are_slices_and_cover_every_offset():
    offsets = set()
    for i in range(60):
        out = tf.image.stateless_random_crop(X, [2, 4, 3], seed=(i, 7)).numpy()
        matches = [(r, c) for r in range(3) for c in range(2)
                   if np.array_equal(out, X[r:r + 2, c:c + 4])]
        assert len(matches) == 1
        offsets.add(matches[0])
    assert len(offsets) == 6


def test_patch_gradient_matches_tensorflow(realtf):
    weights = RNG.standard_normal((2, 2, 5, 18)).astype(np.float32)

    def grad(m):
        v = m.constant(B)
        with m.GradientTape() as tape:
            tape.watch(v)
            y = m.reduce_sum(m.image.extract_patches(v, [1, 3, 2, 1], [1, 2, 1, 1],
                                                     [1, 1, 1, 1], "SAME") * weights)
        return tape.gradient(y, v)
    np.testing.assert_allclose(grad(tf).numpy(), grad(realtf).numpy(), rtol=1e-5, atol=1e-6)


def test_geometry_gradients_flow_through_flips_and_crops():
    v = tf.constant(B.astype(np.float64))
    with tf.GradientTape() as tape:
        tape.watch(v)
        y = tf.reduce_sum(tf.image.crop_to_bounding_box(tf.image.rot90(
            tf.image.flip_left_right(v)), 1, 1, 2, 2))
    g = tape.gradient(y, v).numpy()
    assert g.shape == B.shape and g.sum() == 2 * 2 * 2 * 3


_PATCH_ATTRS = ((2, 2), (1, 2), (1, 1), "SAME")
GRAD_CASES = [
    GradCase("ExtractImagePatches", lambda x: tf.image.extract_patches(
        x, [1, 2, 2, 1], [1, 1, 2, 1], [1, 2, 1, 1], "SAME"), [RNG.random((1, 4, 3, 2))]),
    GradCase("ExtractImagePatchesGrad", lambda g: execute(
        G.EXTRACT_PATCHES_GRAD, G._patches_grad_kernel, (g,), ((1, 3, 3, 1),) + _PATCH_ATTRS),
        [RNG.random((1, 3, 2, 4))]),
]
