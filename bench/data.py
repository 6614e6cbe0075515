"""Fashion-MNIST for benchmarks, read straight from the IDX files (no framework's loader, so
every contender gets identical arrays)."""
import gzip
import os
import pathlib

import numpy as np

SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"
CANDIDATES = [SHARED, pathlib.Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() /
              "datasets" / "fashion-mnist", pathlib.Path("/usr/share/datasets/fashion-mnist")]


def _read(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def fashion_mnist(limit=None):
    """(x_train float32 (n, 784) in [0, 1], y_train int64), or None when the files are absent."""
    for folder in CANDIDATES:
        images = folder / "train-images-idx3-ubyte.gz"
        if images.exists():
            x = _read(images, 16).reshape(-1, 784).astype(np.float32) / 255.0
            y = _read(folder / "train-labels-idx1-ubyte.gz", 8).astype(np.int64)
            return (x[:limit], y[:limit]) if limit else (x, y)
    return None


def synthetic(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64)
