"""Atomic file writes for saving: the one implementation lives in tapeflow/io/file_io.py
(`atomic_write`: a temporary file beside the target, flushed, then `os.replace`d over it)."""
from tapeflow.io.file_io import atomic_write  # noqa: F401


def write_bytes(path, data):
    with atomic_write(path) as f:
        f.write(data)
