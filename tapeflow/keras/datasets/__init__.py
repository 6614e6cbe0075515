"""`keras.datasets`: small standard data sets, read from the Keras cache. Re-exports."""
from tapeflow.keras.datasets import (boston_housing, california_housing, cifar10,  # noqa: F401
                                     cifar100, fashion_mnist, imdb, mnist, reuters)
