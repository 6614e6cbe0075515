"""`keras.callbacks`: objects called at points of `fit`/`evaluate`/`predict`. Re-exports."""
from tapeflow.keras.callbacks.base import (Callback, CallbackList, History,  # noqa: F401
                                           LambdaCallback, ProgbarLogger, TerminateOnNaN)
from tapeflow.keras.callbacks.checkpointing import (BackupAndRestore,  # noqa: F401
                                                    ModelCheckpoint, TensorBoard)
from tapeflow.keras.callbacks.monitoring import (CSVLogger, EarlyStopping,  # noqa: F401
                                                 LearningRateScheduler, ReduceLROnPlateau)
