"""total_variation, image_gradients, sobel_edges, psnr, ssim and ssim_multiscale against
real TensorFlow, and their gradients."""
import numpy as np
import pytest

import tapeflow as tf
from tests.io._compare import check

GRAD_CASES = []  # compositions of registered ops

RNG = np.random.default_rng(2)
X = RNG.random((2, 16, 14, 3)).astype(np.float32)
Y = np.clip(X + RNG.normal(0, 0.1, X.shape), 0, 1).astype(np.float32)
XU, YU = (X * 255).astype(np.uint8), (Y * 255).astype(np.uint8)
BIG = [np.random.default_rng(s).random((1, 70, 67, 3)).astype(np.float32) for s in (0, 1)]

CASES = {
    "tv_single": lambda m: m.image.total_variation(m.constant(X[0])),
    "tv_batch": lambda m: m.image.total_variation(m.constant(X)),
    "tv_rank_2": lambda m: m.image.total_variation(m.constant(X[0, 0])),
    "gradients": lambda m: m.image.image_gradients(m.constant(X)),
    "gradients_rank_3": lambda m: m.image.image_gradients(m.constant(X[0])),
    "sobel": lambda m: m.image.sobel_edges(m.constant(X)),
    "psnr": lambda m: m.image.psnr(X, Y, 1.0),
    "psnr_u8": lambda m: m.image.psnr(XU, YU, 255),
    "psnr_mismatch": lambda m: m.image.psnr(X, X[:, :5], 1.0),
    "ssim": lambda m: m.image.ssim(X, Y, 1.0),
    "ssim_u8": lambda m: m.image.ssim(XU, YU, 255),
    "ssim_window": lambda m: m.image.ssim(X, Y, 1.0, filter_size=5, filter_sigma=0.8),
    "ssim_map": lambda m: m.image.ssim(X, Y, 1.0, return_index_map=True),
    "ssim_too_small": lambda m: m.image.ssim(X[:, :7], Y[:, :7], 1.0),
    "ssim_channels": lambda m: m.image.ssim(X, Y[..., :2], 1.0),
    "ms_ssim": lambda m: m.image.ssim_multiscale(BIG[0], BIG[1], 1.0, filter_size=3),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tensorflow(name, realtf):
    check(CASES[name], tf, realtf, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("metric", ["ssim", "psnr", "total_variation"])
def test_gradients_match_tensorflow(metric, realtf):
    def grad(m):
        v = m.constant(X)
        with m.GradientTape() as tape:
            tape.watch(v)
            if metric == "total_variation":
                y = m.reduce_sum(m.image.total_variation(v))
            else:
                y = m.reduce_sum(getattr(m.image, metric)(v, Y, 1.0))
        return tape.gradient(y, v)
    np.testing.assert_allclose(grad(tf).numpy(), grad(realtf).numpy(), rtol=1e-4, atol=1e-5)
