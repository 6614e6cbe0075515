"""`keras.utils`: data and file helpers. This file only re-exports."""
from tapeflow.keras.engine.progbar import Progbar  # noqa: F401
from tapeflow.keras.utils.file_utils import get_file, validate_file  # noqa: F401
from tapeflow.keras.utils.numerical_utils import normalize, to_categorical  # noqa: F401
from tapeflow.keras.utils.random_utils import set_random_seed  # noqa: F401
from tapeflow.keras.saving.serialization import (custom_object_scope,  # noqa: F401,E402
                                                 deserialize_keras_object,
                                                 get_custom_objects, get_registered_name,
                                                 get_registered_object,
                                                 register_keras_serializable,
                                                 serialize_keras_object)
from tapeflow.keras.utils.model_visualization import model_to_dot, plot_model  # noqa: F401,E402
# -- engine (issue 18): Keras's own places for the data helpers fit uses ------------------------
from tapeflow.data.directory import (image_dataset_from_directory,  # noqa: F401,E402
                                     text_dataset_from_directory)
from tapeflow.keras.engine.data_adapter import (pack_x_y_sample_weight,  # noqa: F401,E402
                                                unpack_x_y_sample_weight)
from tapeflow.keras.utils.py_dataset import PyDataset, Sequence  # noqa: F401,E402
from tapeflow.keras.utils.sequence_utils import pad_sequences  # noqa: F401,E402
