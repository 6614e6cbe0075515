"""keras.datasets: reading the Keras cache ($KERAS_HOME/datasets), and the offline error."""
import gzip
import os
import urllib.error

import numpy as np
import pytest

import tapeflow as tf

keras = tf.keras
SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "shared", "data",
                      "fashion-mnist")


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network here")
    monkeypatch.setattr("urllib.request.urlopen", refuse)


def test_mnist_reads_the_cached_npz(keras_home, offline):
    (keras_home / "datasets").mkdir()
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 255, (6, 28, 28), dtype=np.uint8),
              "y_train": np.arange(6, dtype=np.uint8),
              "x_test": rng.integers(0, 255, (2, 28, 28), dtype=np.uint8),
              "y_test": np.array([7, 9], dtype=np.uint8)}
    np.savez(keras_home / "datasets" / "mnist.npz", **arrays)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    for got, key in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"),
                     (y_test, "y_test")):
        np.testing.assert_array_equal(got, arrays[key])
        assert got.dtype == np.uint8


def test_missing_file_offline_says_where_to_put_it(keras_home, offline):
    with pytest.raises(Exception, match="mnist.npz") as info:
        keras.datasets.mnist.load_data()
    assert str(keras_home / "datasets" / "mnist.npz") in str(info.value)
    assert "URL fetch failure" in str(info.value)
    assert not any(p.suffix == ".part" for p in (keras_home / "datasets").iterdir())


def _write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def test_fashion_mnist_reads_the_four_idx_files(keras_home, offline):
    folder = keras_home / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    images = np.arange(3 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(3, 28, 28)
    labels = np.array([1, 5, 9], np.uint8)
    for prefix in ("train", "t10k"):
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images, 2051)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels, 2049)
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, images)
    np.testing.assert_array_equal(y_test, labels)


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="shared Fashion-MNIST not present")
def test_fashion_mnist_real_data(keras_home, offline):
    folder = keras_home / "datasets" / "fashion-mnist"
    folder.parent.mkdir()
    os.symlink(os.path.abspath(SHARED), folder)
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert abs(float(x_train.mean()) - 72.94) < 0.01
