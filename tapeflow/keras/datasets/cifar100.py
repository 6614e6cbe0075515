"""`keras.datasets.cifar100`: 60,000 32x32 colour images in 100 classes grouped into 20
superclasses (CIFAR-100), from the Toronto archive, cached and extracted under
`$KERAS_HOME/datasets/` as Keras does."""
import os

from tapeflow.keras.datasets import _cifar

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode="fine"):
    """Loads CIFAR-100: 50,000 training and 10,000 test images.

    Args:
        label_mode: "fine" (the 100 classes) or "coarse" (the 20 superclasses).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images (50000, 32, 32, 3) and
        (10000, 32, 32, 3) (channels first if `image_data_format()` says so), int64 labels of
        shapes (50000, 1) and (10000, 1).
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode}.")
    folder = _cifar.fetch("cifar-100-python-target", ORIGIN, SHA256, "cifar-100-python")
    key = f"{label_mode}_labels"
    return (_cifar.read([os.path.join(folder, "train")], key),
            _cifar.read([os.path.join(folder, "test")], key))
