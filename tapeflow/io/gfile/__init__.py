"""`tf.io.gfile`: file system access (re-exports of tapeflow/io/file_io.py)."""
from tapeflow.io.file_io import (GFile, copy, exists, get_registered_schemes, glob, isdir,  # noqa: F401,A004
                                 join, listdir, makedirs, mkdir, remove, rename, rmtree, stat,
                                 walk)
