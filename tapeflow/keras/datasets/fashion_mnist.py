"""`keras.datasets.fashion_mnist`: Zalando's Fashion-MNIST, from the four IDX `.gz` files in
`$KERAS_HOME/datasets/fashion-mnist/`."""
import os

from tapeflow.keras.datasets._idx import read_idx_images, read_idx_labels
from tapeflow.keras.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILES = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]


def load_data():
    """`(x_train, y_train), (x_test, y_test)`: uint8 images (60000, 28, 28) and
    (10000, 28, 28), uint8 labels 0-9 (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal,
    Shirt, Sneaker, Bag, Ankle boot)."""
    dirname = os.path.join("datasets", "fashion-mnist")
    paths = [get_file(fname, origin=ORIGIN + fname, cache_subdir=dirname) for fname in FILES]
    y_train = read_idx_labels(paths[0])
    x_train = read_idx_images(paths[1], len(y_train))
    y_test = read_idx_labels(paths[2])
    x_test = read_idx_images(paths[3], len(y_test))
    return (x_train, y_train), (x_test, y_test)
