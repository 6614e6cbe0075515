"""`keras.models`: the model classes (saving and loading come with the saving issue)."""
from tapeflow.keras.engine.functional import Functional  # noqa: F401
from tapeflow.keras.engine.model import Model  # noqa: F401
from tapeflow.keras.engine.sequential import Sequential  # noqa: F401
