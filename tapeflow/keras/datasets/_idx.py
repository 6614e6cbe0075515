"""Readers shared by the image datasets: gzip-compressed IDX files (MNIST's original format)."""
import gzip

import numpy as np


def read_idx_labels(path):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=8)


def read_idx_images(path, count):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=16).reshape(count, 28, 28)
