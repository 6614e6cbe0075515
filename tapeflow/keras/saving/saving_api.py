"""`keras.saving.save_model` / `load_model` and the weights-only files: `.keras` archives
(keras_zip.py) and `.weights.h5` files (h5_weights.py), both written atomically."""
import io
import os
import zipfile

from tapeflow.keras.saving import atomic, h5_weights, keras_zip


def _check_overwrite(filepath, overwrite):
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"The file '{filepath}' exists and `overwrite=False`.")


def save_model(model, filepath, overwrite=True, zipped=None, include_optimizer=True,
               **kwargs):
    """Saves `model` (architecture, weights, compile config, optimizer state) as `.keras`."""
    filepath = os.fspath(filepath)
    if kwargs.get("save_format") is not None:
        raise ValueError("The `save_format` argument is deprecated in Keras 3. Please remove "
                         "this argument and pass a file path with either `.keras` or `.h5` "
                         f"extension.Received: save_format={kwargs['save_format']}")
    if filepath.endswith((".h5", ".hdf5")):
        raise NotImplementedError(f"Cannot save '{filepath}': tapeflow does not write Keras's "
                                  "legacy HDF5 model format. Save as `.keras` (full model) or "
                                  "`.weights.h5` (`model.save_weights`).")
    if not str(filepath).endswith(".keras"):
        raise ValueError("Invalid filepath extension for saving. Please add either a `.keras` "
                         "extension for the native Keras format (recommended) or a `.h5` "
                         "extension. Use `model.export(filepath)` if you want to export a "
                         "SavedModel for use with TFLite/TFServing/etc. "
                         f"Received: filepath={filepath}.")
    _check_overwrite(filepath, overwrite)
    keras_zip.save_model(model, filepath, include_optimizer=include_optimizer)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved as `.keras` (by tapeflow or by Keras 3)."""
    filepath = os.fspath(filepath)
    if filepath.endswith((".h5", ".hdf5")) and not filepath.endswith(".weights.h5"):
        raise NotImplementedError(f"Cannot load '{filepath}': tapeflow does not read Keras's "
                                  "legacy HDF5 model format; re-save the model as `.keras`.")
    if os.path.isdir(filepath) or not (filepath.endswith(".keras") or
                                       (os.path.isfile(filepath) and
                                        zipfile.is_zipfile(filepath))):
        raise ValueError(f"File format not supported: filepath={filepath}. Keras 3 only "
                         "supports V3 `.keras` files and legacy H5 format files (`.h5` "
                         "extension). Note that the legacy SavedModel format is not supported "
                         "by `load_model()` in Keras 3.")
    if not os.path.exists(filepath):
        raise ValueError(f"File not found: filepath={filepath}. Please ensure the file is an "
                         "accessible `.keras` zip file.")
    return keras_zip.load_model(filepath, custom_objects=custom_objects, compile=compile,
                                safe_mode=safe_mode)


def save_weights(model, filepath, overwrite=True, max_shard_size=None):
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError("The filename must end in `.weights.h5`. "
                         f"Received: filepath={filepath}")
    _check_overwrite(filepath, overwrite)
    atomic.write_bytes(filepath, h5_weights.h5_bytes(model))


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    filepath = os.fspath(filepath)
    if filepath.endswith(".keras"):
        _, weights = keras_zip._read_zip(filepath)
        source, name = io.BytesIO(weights), filepath
    elif filepath.endswith(".weights.h5") or filepath.endswith(".weights.json"):
        if not os.path.exists(filepath):
            raise FileNotFoundError(f"No such file: '{filepath}'")
        source, name = filepath, filepath
    else:
        raise ValueError("File format not supported: "
                         f"filepath={filepath}. Keras 3 only supports V3 `.keras` and "
                         "`.weights.h5` files, or legacy V1/V2 `.h5` files.")
    h5_weights.load_h5_into(model, source, name)
