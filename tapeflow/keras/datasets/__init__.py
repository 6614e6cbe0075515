"""`keras.datasets`: small standard data sets, read from the Keras cache. Re-exports."""
from tapeflow.keras.datasets import fashion_mnist, mnist  # noqa: F401
