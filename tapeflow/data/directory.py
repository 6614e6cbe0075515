"""`keras.utils.image_dataset_from_directory` and `text_dataset_from_directory`: one
sub-folder per class, files read and decoded lazily as the dataset is iterated.

Images are decoded with Pillow (an optional dependency: `pip install pillow`) and resized with
torch's bilinear interpolation, which uses the same half-pixel-centre sampling as TF2's
`tf.image.resize`.
"""
import os

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.spec import TensorSpec
from tapeflow._core.tensor import wrap, wrap_strings
from tapeflow.data.dataset import DatasetV2

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
TEXT_FORMATS = (".txt",)
_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
_PIL_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def _index(directory, formats, labels, class_names, follow_links):
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError("`labels` argument should be a list/tuple of integer labels, of the "
                         "same size as the number of files in the target directory. If you "
                         "wish to infer the labels from the subdirectory names in the target "
                         f"directory, pass `labels=\"inferred\"`. Received: labels={labels}")
    if not os.path.isdir(directory):
        raise ValueError(f"Could not find directory {directory}")
    subdirs = sorted(d for d in os.listdir(directory)
                     if os.path.isdir(os.path.join(directory, d)))
    if labels == "inferred":
        if class_names is not None:
            if sorted(class_names) != subdirs and set(class_names) != set(subdirs):
                raise ValueError(f"The `class_names` passed did not match the names of the "
                                 f"subdirectories of the target directory. Expected: "
                                 f"{subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)
        folders = [(i, os.path.join(directory, d)) for i, d in enumerate(subdirs)]
    else:
        folders = [(None, directory)]
        subdirs = list(class_names or [])
    paths, found = [], []
    for label, folder in folders:
        for root, _, files in sorted(os.walk(folder, followlinks=follow_links)):
            for name in sorted(files):
                if name.lower().endswith(formats):
                    paths.append(os.path.join(root, name))
                    found.append(label)
    if labels not in ("inferred", None):
        if len(labels) != len(paths):
            raise ValueError(f"Expected the lengths of `labels` to match the number of files in "
                             f"the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(paths)} files in directory {directory}.")
        found = list(labels)
    if labels == "inferred":
        print(f"Found {len(paths)} files belonging to {len(subdirs)} classes.")
    else:
        print(f"Found {len(paths)} files.")
    return paths, found, subdirs


def _split(paths, labels, validation_split, subset, shuffle, seed):
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        rng = np.random.RandomState(seed)
        order = rng.permutation(len(paths))
        paths = [paths[i] for i in order]
        labels = [labels[i] for i in order]
    if not validation_split:
        return [(paths, labels)]
    n_val = int(validation_split * len(paths))
    train = (paths[:len(paths) - n_val], labels[:len(labels) - n_val])
    val = (paths[len(paths) - n_val:], labels[len(labels) - n_val:])
    if subset == "training":
        print(f"Using {len(train[0])} files for training.")
        return [train]
    if subset == "validation":
        print(f"Using {len(val[0])} files for validation.")
        return [val]
    print(f"Using {len(train[0])} files for training.")
    print(f"Using {len(val[0])} files for validation.")
    return [train, val]


def _check_split_args(validation_split, subset, shuffle, seed):
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split is None) != (subset is None):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between the "
                         "training and validation subset.")


class _FilesDataset(DatasetV2):
    """(decoded file, label) elements read on demand from a list of paths."""

    _name = "Prefetch"

    def __init__(self, paths, labels, load, value_spec, label_mode, num_classes):
        self._paths, self._labels = paths, labels
        self._load, self._label_mode, self._num_classes = load, label_mode, num_classes
        label_spec = {"int": TensorSpec([], dtypes.int32),
                      "categorical": TensorSpec([num_classes], dtypes.float32),
                      "binary": TensorSpec([1], dtypes.float32)}.get(label_mode)
        self._spec = value_spec if label_spec is None else (value_spec, label_spec)

    def _cardinality(self):
        return len(self._paths)

    def _label(self, label):
        if self._label_mode == "int":
            return wrap(torch.tensor(label, dtype=torch.int32), dtypes.int32)
        if self._label_mode == "binary":
            return wrap(torch.tensor([label], dtype=torch.float32), dtypes.float32)
        onehot = torch.zeros(self._num_classes)
        onehot[label] = 1.0
        return wrap(onehot, dtypes.float32)

    def _iterate(self):
        for path, label in zip(self._paths, self._labels):
            value = self._load(path)
            yield value if self._label_mode is None else (value, self._label(label))


def _finish(ds, batch_size, shuffle, seed, class_names):
    if shuffle:
        ds = ds.shuffle(buffer_size=(batch_size or 1) * 8, seed=seed)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    ds = ds.prefetch(-1)
    ds.class_names = class_names
    return ds


def _check_label_mode(label_mode, class_names):
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f'`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, format="tf",
                                 verbose=True):
    """A dataset of (image, label) batches from `directory/<class>/<image files>`."""
    if color_mode not in _CHANNELS:
        raise ValueError(f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. '
                         f"Received: color_mode={color_mode}")
    if interpolation not in ("bilinear", "nearest", "bicubic", "area"):
        raise ValueError(f"Unsupported `interpolation`: {interpolation}")
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("image_dataset_from_directory needs Pillow to decode images: "
                          "`pip install pillow`.") from None
    _check_split_args(validation_split, subset, shuffle, seed)
    paths, found, names = _index(directory, IMAGE_FORMATS, labels, class_names, follow_links)
    _check_label_mode(label_mode if labels is not None else None, names)
    height, width = int(image_size[0]), int(image_size[1])
    channels = _CHANNELS[color_mode]
    mode = {"bilinear": "bilinear", "nearest": "nearest", "bicubic": "bicubic",
            "area": "area"}[interpolation]

    def load(path):
        with Image.open(path) as img:
            array = np.asarray(img.convert(_PIL_MODES[color_mode]), dtype=np.float32)
        t = torch.from_numpy(array.reshape(array.shape[0], array.shape[1], channels).copy())
        t = t.permute(2, 0, 1).unsqueeze(0)
        kwargs = {} if mode in ("nearest", "area") else {"align_corners": False}
        t = torch.nn.functional.interpolate(t, size=(height, width), mode=mode, **kwargs)
        return wrap(t[0].permute(1, 2, 0).contiguous(), dtypes.float32)

    spec = TensorSpec([height, width, channels], dtypes.float32)
    mode_ = label_mode if labels is not None else None
    out = [_finish(_FilesDataset(p, l, load, spec, mode_, len(names)), batch_size, shuffle,
                   seed, names)
           for p, l in _split(paths, found, validation_split, subset, shuffle, seed)]
    return out if subset == "both" else out[0]


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None, shuffle=True,
                                seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """A dataset of (text, label) batches from `directory/<class>/<.txt files>`."""
    _check_split_args(validation_split, subset, shuffle, seed)
    paths, found, names = _index(directory, TEXT_FORMATS, labels, class_names, follow_links)
    _check_label_mode(label_mode if labels is not None else None, names)

    def load(path):
        with open(path, "rb") as f:
            data = f.read()
        if max_length is not None:
            data = data[:max_length]
        return wrap_strings(np.array(data, dtype=object))

    spec = TensorSpec([], dtypes.string)
    mode_ = label_mode if labels is not None else None
    out = [_finish(_FilesDataset(p, l, load, spec, mode_, len(names)), batch_size, shuffle,
                   seed, names)
           for p, l in _split(paths, found, validation_split, subset, shuffle, seed)]
    return out if subset == "both" else out[0]
