"""`keras.layers`: the layers, by family module. This file only re-exports."""
from tapeflow.keras.engine.functional import Input, InputLayer  # noqa: F401
from tapeflow.keras.engine.layer import Layer  # noqa: F401
from tapeflow.keras.layers.core import (Activation, Dense, Dropout, Flatten,  # noqa: F401
                                        Identity, Lambda, Reshape)
from tapeflow.keras.layers.merging import (Add, Average, Concatenate, Maximum,  # noqa: F401
                                           Minimum, Multiply, Subtract, add, average,
                                           concatenate, maximum, minimum, multiply, subtract)
from tapeflow.keras.layers.preprocessing import Normalization, Rescaling  # noqa: F401
from tapeflow.keras.layers.serialization import deserialize, serialize  # noqa: F401
