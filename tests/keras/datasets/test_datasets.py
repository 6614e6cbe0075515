"""keras.datasets against real Keras 3: both read the same small files, written here in the
formats of the real ones, from the same Keras cache, and must return the same arrays (dtype,
shape, values) or raise the same error; the files each asks for and the hashes each would
check must be the same too."""
import os

import numpy as np
import pytest

from tapeflow import keras
from tests.keras.datasets import formats
from tests.parity import error_of

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "shared", "data",
                      "fashion-mnist")


def assert_same_data(ours, theirs):
    """Same nesting, and arrays of the same dtype, shape and values (object arrays: the same
    Python lists)."""
    if isinstance(theirs, (tuple, list)) and not isinstance(theirs, np.ndarray):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same_data(a, b)
        return
    assert isinstance(ours, np.ndarray) and isinstance(theirs, np.ndarray)
    assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape)
    if theirs.dtype == object:
        assert ours.tolist() == theirs.tolist()
    else:
        np.testing.assert_array_equal(ours, theirs)


def compare(load_ours, load_theirs):
    """The same arrays, or the same error class and message. Returns whether both loaded."""
    ours_error, theirs_error = error_of(load_ours), error_of(load_theirs)
    assert ours_error == theirs_error
    if theirs_error is None:
        assert_same_data(load_ours(), load_theirs())
    return theirs_error is None


def assert_same_files_and_hashes(requests_seen, keras_hash_checks):
    """Keras hash-checks every cached file it was given a hash for: tapeflow asks for the same
    paths with the same hashes (which it checks on download)."""
    ours = {(r.path, r.file_hash) for r in requests_seen if r.file_hash is not None}
    assert ours == set(keras_hash_checks) and ours


# -- the files -----------------------------------------------------------------------------------
def write_mnist(home, rng):
    formats.write_npz(home / "datasets" / "mnist.npz",
                      x_train=rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
                      y_train=rng.integers(0, 10, 6, dtype=np.uint8),
                      x_test=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
                      y_test=rng.integers(0, 10, 3, dtype=np.uint8))


def write_imdb(home, rng):
    formats.write_npz(home / "datasets" / "imdb.npz",
                      x_train=formats.ragged(rng, 9, 20), y_train=rng.integers(0, 2, 9),
                      x_test=formats.ragged(rng, 7, 20), y_test=rng.integers(0, 2, 7))
    formats.write_json(home / "datasets" / "imdb_word_index.json",
                       {"the": 1, "and": 2, "film": 19})


def write_reuters(home, rng):
    formats.write_npz(home / "datasets" / "reuters.npz", x=formats.ragged(rng, 15, 25),
                      y=rng.integers(0, 46, 15))
    formats.write_json(home / "datasets" / "reuters_word_index.json", {"the": 1, "said": 4})


def write_housing(name, features):
    def write(home, rng):
        formats.write_npz(home / "datasets" / f"{name}.npz",
                          x=rng.standard_normal((23, features)), y=rng.uniform(5, 50, 23))
    return write


def write_cifar100(home, rng):
    keys, classes = ("fine_labels", "coarse_labels"), (100, 20)
    formats.write_tar_gz(home / "datasets" / "cifar-100-python-target_archive", {
        "cifar-100-python/train": formats.cifar_batch(rng, 5, keys, classes),
        "cifar-100-python/test": formats.cifar_batch(rng, 3, keys, classes),
        "cifar-100-python/meta": {b"fine_label_names": [b"apple"] * 100}})


WRITERS = {"mnist": write_mnist, "imdb": write_imdb, "reuters": write_reuters,
           "boston_housing": write_housing("boston_housing", 13),
           "california_housing": write_housing("california_housing", 8),
           "cifar100": write_cifar100}

CASES = [
    ("mnist", {}),
    ("imdb", {}),
    ("imdb", {"num_words": 10, "skip_top": 5}),
    ("imdb", {"maxlen": 8, "seed": 3}),
    ("imdb", {"start_char": None, "oov_char": None, "index_from": 0, "num_words": 12}),
    ("imdb", {"start_char": 4, "oov_char": 0, "index_from": 1, "nb_words": 3}),
    ("imdb", {"maxlen": 1}),  # nothing kept: Keras's ValueError
    ("reuters", {}),
    ("reuters", {"num_words": 10, "skip_top": 3, "test_split": 0.5}),
    ("reuters", {"maxlen": 7, "oov_char": None, "seed": 1}),
    ("reuters", {"start_char": None, "index_from": 0}),
    ("boston_housing", {}),
    ("boston_housing", {"test_split": 0.3, "seed": 5}),
    ("boston_housing", {"test_split": 1.0}),
    ("california_housing", {}),
    ("california_housing", {"version": "small", "test_split": 0.0}),
    ("california_housing", {"version": "medium"}),
    ("cifar100", {}),
    ("cifar100", {"label_mode": "coarse"}),
    ("cifar100", {"label_mode": "middling"}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_load_data_matches_keras(realkeras, keras_hash_checks, keras_home, offline, requests_seen,
                                 name, kwargs):
    WRITERS[name](keras_home, np.random.default_rng(len(name)))
    if compare(lambda: getattr(keras.datasets, name).load_data(**kwargs),
               lambda: getattr(realkeras.datasets, name).load_data(**kwargs)):
        assert_same_files_and_hashes(requests_seen, keras_hash_checks)


@pytest.mark.parametrize("name", ["imdb", "reuters"])
def test_get_word_index_matches_keras(realkeras, keras_hash_checks, keras_home, offline,
                                      requests_seen, name):
    WRITERS[name](keras_home, np.random.default_rng(0))
    module, theirs = getattr(keras.datasets, name), getattr(realkeras.datasets, name)
    assert module.get_word_index() == theirs.get_word_index()
    assert_same_files_and_hashes(requests_seen, keras_hash_checks)
    if name == "reuters":
        assert module.get_label_names() == theirs.get_label_names()


def test_cifar_channels_first_matches_keras(realkeras, keras_hash_checks, keras_home, offline):
    write_cifar100(keras_home, np.random.default_rng(1))
    keras.backend.set_image_data_format("channels_first")
    realkeras.backend.set_image_data_format("channels_first")
    try:
        compare(keras.datasets.cifar100.load_data, realkeras.datasets.cifar100.load_data)
        assert keras.datasets.cifar100.load_data()[0][0].shape == (5, 3, 32, 32)
    finally:
        keras.backend.set_image_data_format("channels_last")
        realkeras.backend.set_image_data_format("channels_last")


def test_cifar10_assembles_the_batches_as_keras(realkeras, keras_home, offline, requests_seen):
    """Keras's loader fills arrays sized for the real 5 x 10,000 training images, so it cannot
    read small files: tapeflow's result is checked against Keras's own batch reader and the
    steps Keras documents (batches in order, labels (n, 1), channels last, uint8)."""
    from keras.src.datasets.cifar import load_batch
    rng = np.random.default_rng(2)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    formats.write_tar_gz(keras_home / "datasets" / "cifar-10-batches-py-target_archive",
                         {f"cifar-10-batches-py/{n}": formats.cifar_batch(rng, 2 + i)
                          for i, n in enumerate(names)})
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    folder = keras_home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    batches = [load_batch(str(folder / n)) for n in names]
    expect_x = [np.concatenate([d for d, _ in batches[:5]]), batches[5][0]]
    expect_y = [np.concatenate([lab for _, lab in batches[:5]]), np.array(batches[5][1])]
    for got_x, got_y, want_x, want_y in zip((x_train, x_test), (y_train, y_test),
                                            expect_x, expect_y):
        assert_same_data(got_x, want_x.transpose(0, 2, 3, 1).astype("uint8"))
        assert_same_data(got_y, want_y.reshape(-1, 1).astype("uint8"))
    assert x_train.shape == (20, 32, 32, 3) and y_test.shape == (7, 1)
    assert [(r.path, r.file_hash) for r in requests_seen] == [(
        str(keras_home / "datasets" / "cifar-10-batches-py-target_archive"),
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")]


def test_fashion_mnist_matches_keras(realkeras, keras_home, offline):
    folder = keras_home / "datasets" / "fashion-mnist"
    rng = np.random.default_rng(3)
    for prefix, count in (("train", 4), ("t10k", 2)):
        formats.write_idx(folder / f"{prefix}-images-idx3-ubyte.gz",
                          rng.integers(0, 256, (count, 28, 28), dtype=np.uint8), 2051)
        formats.write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz",
                          rng.integers(0, 10, count, dtype=np.uint8), 2049)
    compare(keras.datasets.fashion_mnist.load_data, realkeras.datasets.fashion_mnist.load_data)


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="shared Fashion-MNIST not present")
def test_fashion_mnist_real_data(keras_home, offline):
    (keras_home / "datasets").mkdir()
    os.symlink(os.path.abspath(SHARED), keras_home / "datasets" / "fashion-mnist")
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert abs(float(x_train.mean()) - 72.94) < 0.01


class _RunsCode:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.parametrize("name", ["imdb", "cifar100"])
def test_a_tampered_pickle_is_refused_as_keras_refuses_it(realkeras, keras_hash_checks,
                                                          keras_home, offline, capsys, name):
    evil = np.empty(2, dtype=object)
    evil[0], evil[1] = [1, 2], _RunsCode()
    if name == "imdb":
        formats.write_npz(keras_home / "datasets" / "imdb.npz", x_train=evil,
                          y_train=np.zeros(2, int), x_test=evil, y_test=np.zeros(2, int))
    else:
        formats.write_tar_gz(keras_home / "datasets" / "cifar-100-python-target_archive", {
            f"cifar-100-python/{part}": {b"data": np.zeros((1, 3072), np.uint8),
                                         b"fine_labels": evil} for part in ("train", "test")})
    ours = error_of(getattr(keras.datasets, name).load_data)
    assert ours == error_of(getattr(realkeras.datasets, name).load_data)
    assert ours[0] == "UnpicklingError" and "builtins.print" in ours[1]
    assert "this must never run" not in capsys.readouterr().out


def test_write_your_own_mnist_npz_to_use_it_offline(keras_home, offline):
    """A small mnist.npz in the cache is read as it is: the hash is checked on download only."""
    write_mnist(keras_home, np.random.default_rng(4))
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    assert x_train.shape == (6, 28, 28) and y_test.shape == (3,) and x_train.dtype == np.uint8
    with np.load(keras_home / "datasets" / "mnist.npz") as f:
        np.testing.assert_array_equal(x_test, f["x_test"])
