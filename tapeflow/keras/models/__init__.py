"""`keras.models`: the model classes (saving and loading come with the saving issue)."""
from tapeflow.keras.engine.functional import Functional  # noqa: F401
from tapeflow.keras.engine.model import Model  # noqa: F401
from tapeflow.keras.engine.sequential import Sequential  # noqa: F401
from tapeflow.keras.saving.saving_api import load_model, save_model  # noqa: F401,E402
from tapeflow.keras.saving.model_config import model_from_json  # noqa: F401,E402
