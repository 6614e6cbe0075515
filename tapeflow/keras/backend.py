"""`keras.backend`: global settings and session reset. Re-exports."""
from tapeflow.keras.engine.config import (backend, clear_session, epsilon,  # noqa: F401
                                          floatx, image_data_format, set_epsilon, set_floatx,
                                          set_image_data_format)
