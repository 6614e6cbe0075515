"""`keras.losses`: loss functions and classes, and `get` / `serialize` / `deserialize`
(strings like 'mse' or 'sparse_categorical_crossentropy' name the functions)."""
from tapeflow.keras._objects import deserialize_object, get_object, serialize_object
from tapeflow.keras.losses.loss import Loss, Reduction, reduce_weighted_values  # noqa: F401
from tapeflow.keras.losses.classes import (  # noqa: F401
    BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    CategoricalFocalCrossentropy, CategoricalHinge, CosineSimilarity, Hinge,
    Huber, KLDivergence, LogCosh, LossFunctionWrapper, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError, Poisson,
    SparseCategoricalCrossentropy, SquaredHinge)
from tapeflow.keras.losses.functions import (  # noqa: F401
    BCE, KLD, MAE, MAPE, MSE, MSLE, bce, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_focal_crossentropy,
    categorical_hinge, cosine_similarity, hinge, huber, kl_divergence, kld,
    kullback_leibler_divergence, log_cosh, logcosh, mae, mape, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, mse,
    msle, poisson, sparse_categorical_crossentropy, squared_hinge)

_CLASSES = (Loss, LossFunctionWrapper, KLDivergence, Poisson, BinaryCrossentropy,
            CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredError,
            MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
            CosineSimilarity, LogCosh, Huber, Hinge, SquaredHinge, CategoricalHinge,
            BinaryFocalCrossentropy, CategoricalFocalCrossentropy)
_FUNCTIONS = (kl_divergence, poisson, binary_crossentropy, categorical_crossentropy,
              sparse_categorical_crossentropy, mean_squared_error, mean_absolute_error,
              mean_absolute_percentage_error, mean_squared_logarithmic_error,
              cosine_similarity, log_cosh, huber, hinge, squared_hinge, categorical_hinge,
              binary_focal_crossentropy, categorical_focal_crossentropy)

ALL_OBJECTS_DICT = {obj.__name__: obj for obj in _CLASSES + _FUNCTIONS}
ALL_OBJECTS_DICT.update({"bce": bce, "BCE": bce, "kld": kld, "KLD": kld, "mae": mae,
                         "MAE": mae, "mse": mse, "MSE": mse, "mape": mape, "MAPE": mape,
                         "msle": msle, "MSLE": msle})


def serialize(loss):
    """A loss object's config dict, or a loss function's name."""
    return serialize_object(loss, "keras.losses")


def deserialize(name, custom_objects=None):
    """A loss object or function from its serialized form."""
    return deserialize_object(name, ALL_OBJECTS_DICT, custom_objects, "loss")


def get(identifier):
    """A loss from a name ('mse', 'categorical_crossentropy', 'Huber'), a config dict, a
    class, an instance or a function."""
    return get_object(identifier, ALL_OBJECTS_DICT, deserialize, "loss")
