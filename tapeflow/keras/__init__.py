"""`tf.keras`: layers, models, training, optimizers, losses, metrics. This file only
re-exports; the logic lives in the modules named beside each import."""
from tapeflow.keras import optimizers  # noqa: F401
