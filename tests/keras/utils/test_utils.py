"""keras.utils against real Keras."""
import numpy as np
import pytest

import tapeflow as tf

keras = tf.keras


@pytest.mark.parametrize("labels,num", [([0, 2, 1], None), ([[1], [2]], 3), ([[0, 1], [2, 0]], 4)])
def test_to_categorical_matches_keras(realtf, labels, num):
    ours = keras.utils.to_categorical(labels, num)
    theirs = realtf.keras.utils.to_categorical(labels, num)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_normalize_matches_keras(realtf):
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(keras.utils.normalize(x), realtf.keras.utils.normalize(x))


def test_set_random_seed_makes_initialisation_reproducible():
    keras.utils.set_random_seed(7)
    a = keras.layers.Dense(3)
    a.build((None, 2))
    keras.utils.set_random_seed(7)
    b = keras.layers.Dense(3)
    b.build((None, 2))
    np.testing.assert_array_equal(a.kernel.numpy(), b.kernel.numpy())


def test_keras_places_for_the_data_helpers(realtf, tmp_path):
    """keras.utils holds the directory datasets, pack/unpack and PyDataset (Keras's own
    places), besides tf.keras.preprocessing-era names."""
    from tapeflow.data import directory
    assert keras.utils.image_dataset_from_directory is directory.image_dataset_from_directory
    assert keras.utils.text_dataset_from_directory is directory.text_dataset_from_directory
    assert keras.utils.Sequence is keras.utils.PyDataset
    for name in ("image_dataset_from_directory", "text_dataset_from_directory", "PyDataset",
                 "Sequence", "pack_x_y_sample_weight", "unpack_x_y_sample_weight",
                 "pad_sequences"):
        assert hasattr(realtf.keras.utils, name) and hasattr(keras.utils, name)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "0.txt").write_text("hello")
    ds = keras.utils.text_dataset_from_directory(str(tmp_path), batch_size=1)
    assert [x.numpy().tolist() for x, _ in ds] == [[b"hello"]]


@pytest.mark.parametrize("data", [(np.ones(2),), (np.ones(2), np.zeros(2)),
                                  (np.ones(2), np.zeros(2), np.ones(2)), np.ones(2)])
def test_pack_and_unpack_match_keras(realtf, data):
    ours = keras.utils.unpack_x_y_sample_weight(data)
    theirs = realtf.keras.utils.unpack_x_y_sample_weight(data)
    assert [v is None for v in ours] == [v is None for v in theirs]
    packed = keras.utils.pack_x_y_sample_weight(*ours)
    packed_tf = realtf.keras.utils.pack_x_y_sample_weight(*theirs)
    assert type(packed) is type(packed_tf)
    assert (len(packed) if isinstance(packed, tuple) else 0) == (
        len(packed_tf) if isinstance(packed_tf, tuple) else 0)


PAD_CASES = [
    ([[1], [2, 3], [4, 5, 6]], {}),
    ([[1, 2, 3, 4], [5], []], dict(maxlen=2, padding="post", truncating="post", value=-1)),
    ([[1, 2, 3], [4]], dict(maxlen=5, dtype="float32", value=0.5)),
    ([np.ones((2, 3)), np.zeros((1, 3))], dict(truncating="pre")),
    ([["a", "b"], ["c"]], dict(dtype=object, value="")),
]


@pytest.mark.parametrize("sequences,kwargs", PAD_CASES)
def test_pad_sequences_matches_keras(realtf, sequences, kwargs):
    ours = keras.utils.pad_sequences(sequences, **kwargs)
    theirs = realtf.keras.utils.pad_sequences(sequences, **kwargs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("sequences,kwargs", [
    ([[1, 2]], dict(padding="middle")), ([[1, 2]], dict(truncating="mid", maxlen=1)),
    ([[1], 2], {}), ([["a"]], dict(value="x"))])
def test_pad_sequences_errors_match_keras(realtf, sequences, kwargs):
    with pytest.raises(ValueError) as ours:
        keras.utils.pad_sequences(sequences, **kwargs)
    with pytest.raises(ValueError) as theirs:
        realtf.keras.utils.pad_sequences(sequences, **kwargs)
    assert str(ours.value) == str(theirs.value)
