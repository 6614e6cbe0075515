"""`tf.train.list_variables` / `load_variable` / `load_checkpoint`: reading a checkpoint's
values by key without building the objects."""
import os

from tapeflow.train import checkpoint as _checkpoint
from tapeflow.train import checkpoint_management


def _prefix(ckpt_dir_or_file):
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = checkpoint_management.latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given "
                             f"directory {path}")
        return latest
    return path


class CheckpointReader:
    def __init__(self, prefix):
        self._values = _checkpoint.read_checkpoint(prefix)

    def get_variable_to_shape_map(self):
        return {k: list(v.shape) for k, v in self._values.items()}

    def has_tensor(self, key):
        return key in self._values

    def get_tensor(self, key):
        if key not in self._values:
            raise KeyError(f"Key {key} not found in checkpoint")
        return self._values[key]


def load_checkpoint(ckpt_dir_or_file):
    return CheckpointReader(_prefix(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file):
    """[(key, shape)] of a checkpoint, sorted by key."""
    reader = load_checkpoint(ckpt_dir_or_file)
    return sorted(reader.get_variable_to_shape_map().items())


def load_variable(ckpt_dir_or_file, name):
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)
