"""image_dataset_from_directory / text_dataset_from_directory against Keras's."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.data.directory import image_dataset_from_directory, text_dataset_from_directory

Image = pytest.importorskip("PIL.Image")


@pytest.fixture
def image_dir(tmp_path):
    rng = np.random.default_rng(0)
    for cls, size, ext in (("cats", (9, 7), "png"), ("dogs", (6, 10), "png"),
                           ("owls", (5, 5), "png")):
        (tmp_path / cls).mkdir()
        for i in range(3):
            pixels = rng.integers(0, 255, size + (3,), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / cls / f"{i}.{ext}")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    return tmp_path


@pytest.fixture
def text_dir(tmp_path):
    for cls in ("neg", "pos"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            (tmp_path / cls / f"{i}.txt").write_text(f"{cls} review number {i}")
    return tmp_path


def _all(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("color_mode,label_mode", [("rgb", "int"), ("grayscale", "categorical"),
                                                   ("rgba", "int")])
def test_images_match_keras(realtf, image_dir, capsys, color_mode, label_mode):
    kwargs = dict(image_size=(4, 6), batch_size=4, shuffle=False, color_mode=color_mode,
                  label_mode=label_mode)
    ours = image_dataset_from_directory(str(image_dir), **kwargs)
    ours_out = capsys.readouterr().out
    theirs = realtf.keras.utils.image_dataset_from_directory(str(image_dir), **kwargs)
    assert capsys.readouterr().out == ours_out == "Found 9 files belonging to 3 classes.\n"
    assert ours.class_names == theirs.class_names == ["cats", "dogs", "owls"]
    assert repr(ours.element_spec) == repr(theirs.element_spec)
    (xo, yo), (xt, yt) = _all(ours), _all(theirs)
    np.testing.assert_array_equal(yo, yt)
    # bilinear resize with half-pixel centres; grey levels may round differently by one
    np.testing.assert_allclose(xo, xt, atol=1.01 if color_mode == "grayscale" else 0.01)


def test_text_matches_keras(realtf, text_dir):
    ours = text_dataset_from_directory(str(text_dir), batch_size=2, shuffle=False)
    theirs = realtf.keras.utils.text_dataset_from_directory(str(text_dir), batch_size=2,
                                                            shuffle=False)
    assert repr(ours.element_spec) == repr(theirs.element_spec)
    (xo, yo), (xt, yt) = _all(ours), _all(theirs)
    assert xo.tolist() == xt.tolist() and yo.tolist() == yt.tolist()


def test_validation_split_partitions_the_files(text_dir, capsys):
    train, val = text_dataset_from_directory(str(text_dir), batch_size=None, seed=7,
                                             validation_split=0.5, subset="both")
    assert "Using 3 files for training." in capsys.readouterr().out
    a = sorted(x.numpy() for x, _ in train)
    b = sorted(x.numpy() for x, _ in val)
    assert len(a) == len(b) == 3 and not set(a) & set(b)


@pytest.mark.parametrize("kwargs,match", [
    (dict(validation_split=0.2, subset="training", shuffle=True), "provide a `seed`"),
    (dict(subset="training"), "validation_split"),
    (dict(label_mode="binary"), "exactly 2"),
    (dict(label_mode="sparse"), "label_mode"),
    (dict(color_mode="cmyk"), "color_mode"),
])
def test_bad_arguments(image_dir, kwargs, match):
    with pytest.raises(ValueError, match=match):
        image_dataset_from_directory(str(image_dir), **kwargs)


def test_missing_directory():
    with pytest.raises(ValueError, match="Could not find directory"):
        tf.data.Dataset  # noqa: B018 - tf imported for the namespace only
        text_dataset_from_directory("/no/such/dir")
