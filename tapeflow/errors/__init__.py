"""`tf.errors`: TensorFlow's error classes and codes."""
from tapeflow._core.errors import *  # noqa: F401,F403
from tapeflow._core.errors import (OpError, CancelledError, UnknownError,  # noqa: F401
                                   InvalidArgumentError, DeadlineExceededError, NotFoundError,
                                   AlreadyExistsError, PermissionDeniedError,
                                   ResourceExhaustedError, FailedPreconditionError, AbortedError,
                                   OutOfRangeError, UnimplementedError, InternalError,
                                   UnavailableError, DataLossError, UnauthenticatedError)
