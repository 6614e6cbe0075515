"""`keras.callbacks`: objects called at points of `fit`/`evaluate`/`predict`. Re-exports."""
from tapeflow.keras.callbacks.base import (Callback, CallbackList, History,  # noqa: F401
                                           LambdaCallback, ProgbarLogger, TerminateOnNaN)
from tapeflow.keras.callbacks.checkpointing import BackupAndRestore, ModelCheckpoint  # noqa: F401
from tapeflow.keras.callbacks.monitoring import (CSVLogger, EarlyStopping,  # noqa: F401
                                                 LearningRateScheduler, ReduceLROnPlateau)
from tapeflow.keras.callbacks.tensorboard import TensorBoard  # noqa: F401
