"""`tf.keras`: layers, models, training, optimizers, losses, metrics. This file only
re-exports; the logic lives in the modules named beside each import."""
# -- optimizers, losses, metrics, initializers, activations, regularizers (H8) ---------------
from tapeflow.keras import (activations, constraints, initializers, losses,  # noqa: F401
                            metrics, optimizers, regularizers)
# -- engine, layers, models, callbacks, datasets, utils (H7) ---------------------------------
from tapeflow.keras import backend, callbacks, datasets, layers, models, utils  # noqa: F401,E402
from tapeflow.keras.engine.functional import Input  # noqa: F401,E402
from tapeflow.keras.engine.layer import Layer, KerasVariable as Variable  # noqa: F401,E402
from tapeflow.keras.engine.model import Model  # noqa: F401,E402
from tapeflow.keras.engine.sequential import Sequential  # noqa: F401,E402
# -- saving: .keras / .weights.h5 files, serialization (H11) ----------------------------------
from tapeflow.keras import saving  # noqa: F401,E402
