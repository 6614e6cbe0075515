"""`keras.datasets.fashion_mnist`: Zalando's Fashion-MNIST, from the four IDX `.gz` files in
`$KERAS_HOME/datasets/fashion-mnist/`."""
import os

from tapeflow.keras.datasets._prepare import ORIGIN
from tapeflow.keras.datasets._readers import read_idx_images, read_idx_labels
from tapeflow.keras.utils.file_utils import get_files

FILES = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]


def load_data():
    """Loads Fashion-MNIST: 60,000 training and 10,000 test grey-scale 28x28 images of
    clothing in 10 classes (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt,
    Sneaker, Bag, Ankle boot).

    The four files are read from `$KERAS_HOME/datasets/fashion-mnist/` (default
    `~/.keras/datasets/fashion-mnist/`) and downloaded only when missing; offline, the error
    lists every missing one.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images (60000, 28, 28) and
        (10000, 28, 28), uint8 labels 0-9.
    """
    folder = os.path.join("datasets", "fashion-mnist")
    paths = get_files([dict(fname=name, origin=ORIGIN + name, cache_subdir=folder)
                       for name in FILES])
    y_train = read_idx_labels(paths[0])
    x_train = read_idx_images(paths[1], len(y_train))
    y_test = read_idx_labels(paths[2])
    x_test = read_idx_images(paths[3], len(y_test))
    return (x_train, y_train), (x_test, y_test)
