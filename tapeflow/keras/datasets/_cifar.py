"""What CIFAR-10 and CIFAR-100 share: fetching their archive into the Keras cache, as Keras
does (`cifar-10-batches-py-target_archive`, extracted into `cifar-10-batches-py-target/`), and
turning batches into arrays in the data format `keras.backend.image_data_format()` names."""
import os

import numpy as np

from tapeflow.keras.datasets._readers import read_cifar_batch
from tapeflow.keras.engine.config import image_data_format
from tapeflow.keras.utils.file_utils import get_file


def fetch(name, origin, sha256, inner):
    """The folder holding the extracted batches: `<cache>/datasets/<name>/<inner>/`."""
    return os.path.join(get_file(fname=name, origin=origin, extract=True, file_hash=sha256),
                        inner)


def read(paths, label_key="labels"):
    """`(images, labels)` of the batches at `paths` together: images (n, 3, 32, 32) and
    labels (n, 1), laid out channels-last unless the data format says otherwise."""
    batches = [read_cifar_batch(path, label_key) for path in paths]
    images = np.concatenate([data for data, _ in batches])
    labels = np.reshape([label for _, labels in batches for label in labels], (-1, 1))
    if image_data_format() == "channels_last":
        images = images.transpose(0, 2, 3, 1)
    return images, labels
