"""Keras 3's image preprocessing layers against real Keras: Resizing and CenterCrop values
and dtypes; the affine augmentations with a fixed factor (a deterministic transform, so
values compare); random ones for what they promise; configs; tracing inside fit."""
import numpy as np
import pytest

import tapeflow as tf

keras = tf.keras
RNG = np.random.default_rng(3)
X = RNG.random((2, 8, 10, 3)).astype(np.float32)
U8 = (X * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def realkeras(realtf):
    return pytest.importorskip("keras")


DETERMINISTIC = {
    "resize": (lambda L: L.Resizing(4, 5), X),
    "resize_uint8": (lambda L: L.Resizing(5, 3, interpolation="bicubic"), U8),
    "resize_nearest": (lambda L: L.Resizing(16, 4, interpolation="nearest"), U8),
    "resize_crop": (lambda L: L.Resizing(4, 4, crop_to_aspect_ratio=True), X),
    "resize_pad": (lambda L: L.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=0.5), X),
    "resize_antialias": (lambda L: L.Resizing(3, 3, antialias=True), X[0]),
    "resize_channels_first": (lambda L: L.Resizing(4, 2, data_format="channels_first"),
                              X.transpose(0, 3, 1, 2)),
    "center_crop": (lambda L: L.CenterCrop(4, 6), U8),
    "center_crop_up": (lambda L: L.CenterCrop(12, 5), X),
    "center_crop_single": (lambda L: L.CenterCrop(3, 3), X[1]),
    "rotation_90": (lambda L: L.RandomRotation((0.25, 0.25)), X),
    "rotation_constant": (lambda L: L.RandomRotation((0.1, 0.1), fill_mode="constant",
                                                     fill_value=0.3), X),
    "rotation_nearest": (lambda L: L.RandomRotation((-0.05, -0.05), interpolation="nearest",
                                                    fill_mode="wrap"), U8),
    "zoom_in": (lambda L: L.RandomZoom((-0.5, -0.5)), X),
    "zoom_out": (lambda L: L.RandomZoom((0.3, 0.3), (0.2, 0.2), fill_mode="nearest"), X),
    "translation": (lambda L: L.RandomTranslation((0.25, 0.25), (-0.1, -0.1)), X),
    "crop_to_smaller": (lambda L: L.RandomCrop(8, 10), X),
    "crop_up": (lambda L: L.RandomCrop(9, 12), X),
}


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_deterministic_cases_match_keras(name, realkeras):
    make, x = DETERMINISTIC[name]
    ours, theirs = make(keras.layers)(x), make(realkeras.layers)(x)
    assert ours.dtype.name == theirs.dtype.name and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(np.asarray(ours.numpy(), np.float64),
                               np.asarray(np.asarray(theirs), np.float64), rtol=1e-5, atol=1e-4)


AUGMENTATIONS = {
    "flip": lambda L: L.RandomFlip(),
    "crop": lambda L: L.RandomCrop(4, 6),
    "rotation": lambda L: L.RandomRotation(0.2),
    "zoom": lambda L: L.RandomZoom(0.2),
    "translation": lambda L: L.RandomTranslation(0.1, 0.2),
}


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_inference_passes_images_through_as_floats(name, realkeras):
    ours = AUGMENTATIONS[name](keras.layers)(U8, training=False)
    theirs = AUGMENTATIONS[name](realkeras.layers)(U8, training=False)
    assert ours.dtype.name == theirs.dtype.name and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), np.asarray(theirs))


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_training_shapes_and_configs_match_keras(name, realkeras):
    ours, theirs = AUGMENTATIONS[name](keras.layers), AUGMENTATIONS[name](realkeras.layers)
    assert tuple(ours(X).shape) == tuple(theirs(X).shape)
    a, b = ours.get_config(), theirs.get_config()
    a.pop("name"), b.pop("name")
    if name == "crop":  # an unseeded RandomCrop draws its seed
        assert isinstance(a.pop("seed"), int) and isinstance(b.pop("seed"), int)
    assert a == b


def test_resizing_and_center_crop_configs(realkeras):
    for make in (lambda L: L.Resizing(3, 4, crop_to_aspect_ratio=True),
                 lambda L: L.CenterCrop(2, 3)):
        a, b = make(keras.layers).get_config(), make(realkeras.layers).get_config()
        a.pop("name"), b.pop("name")
        assert a == b


@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip_flips_each_image_or_keeps_it(mode):
    layer = keras.layers.RandomFlip(mode)
    outcomes = set()
    for _ in range(12):
        out = layer(X).numpy()
        for o, x in zip(out, X):
            candidates = {"none": x, "horizontal": x[:, ::-1], "vertical": x[::-1],
                          "horizontal_and_vertical": x[::-1, ::-1]}
            hit = [k for k, v in candidates.items() if np.array_equal(o, v)]
            assert hit in (["none"], [mode])
            outcomes.add(hit[0])
    assert outcomes == {"none", mode}


def test_random_crop_takes_windows_of_the_batch():
    out = keras.layers.RandomCrop(5, 7)(X).numpy()
    windows = [(r, c) for r in range(4) for c in range(4)
               if np.array_equal(out, X[:, r:r + 5, c:c + 7])]
    assert len(windows) == 1


def test_rotations_vary_and_stay_in_the_value_range():
    layer = keras.layers.RandomRotation(0.5, fill_mode="constant")
    a, b = layer(X).numpy(), layer(X).numpy()
    assert not np.array_equal(a, b)
    assert a.min() >= 0.0 and a.max() <= 1.0


def test_bad_arguments_raise_as_keras(realkeras):
    for make in (lambda L: L.RandomRotation(2), lambda L: L.RandomZoom(-1.5),
                 lambda L: L.RandomRotation(0.1, fill_mode="x")):
        with pytest.raises(Exception) as theirs:
            make(realkeras.layers)
        with pytest.raises(type(theirs.value)) as ours:
            make(keras.layers)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="Invalid value for argument `interpolation`"):
        keras.layers.Resizing(2, 2, interpolation="x")(X)


def test_augmentation_model_trains_in_a_traced_fit(caplog):
    layers = keras.layers
    model = keras.Sequential([keras.Input((8, 10, 3)), layers.RandomFlip(),
                              layers.RandomRotation(0.1), layers.RandomZoom(0.1),
                              layers.RandomTranslation(0.1, 0.1), layers.RandomCrop(6, 8),
                              layers.Resizing(4, 5), layers.Flatten(), layers.Dense(2)])
    model.compile("adam", "mse")
    with caplog.at_level("WARNING"):
        history = model.fit(X, np.zeros((2, 2), np.float32), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert "cannot be traced" not in caplog.text
    assert model.predict(X, verbose=0).shape == (2, 2)


def test_saved_model_loads_in_real_keras(tmp_path, realkeras):
    layers = keras.layers
    model = keras.Sequential([keras.Input((8, 10, 3)), layers.RandomFlip("horizontal"),
                              layers.RandomRotation(0.1), layers.Resizing(4, 5),
                              layers.CenterCrop(3, 3), layers.Flatten(), layers.Dense(2)])
    path = str(tmp_path / "augment.keras")
    model.save(path)
    theirs = realkeras.models.load_model(path)
    assert [type(layer).__name__ for layer in theirs.layers] == \
        [type(layer).__name__ for layer in model.layers]
    np.testing.assert_allclose(model.predict(X, verbose=0), theirs.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-6)
