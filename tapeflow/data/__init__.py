"""`tf.data`: input pipelines (re-exports only; see dataset.py, transforms.py, sources.py)."""
from tapeflow.data import experimental  # noqa: F401
from tapeflow.data.dataset import (AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY,  # noqa: F401
                                   Dataset, DatasetV2, Iterator, Options)
from tapeflow.data.sources import TextLineDataset  # noqa: F401
from tapeflow.data.files import TFRecordDataset  # noqa: F401
