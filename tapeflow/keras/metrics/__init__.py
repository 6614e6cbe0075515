"""`keras.metrics`: stateful metrics (their state in non-trainable variables), the metric
functions, and `get` / `serialize` / `deserialize` ('accuracy', 'mse', 'auc', 'AUC'...)."""
from tapeflow.keras._objects import deserialize_object, get_object, serialize_object
from tapeflow.keras.engine.naming import to_snake_case
from tapeflow.keras.metrics.metric import Mean, MeanMetricWrapper, Metric, Sum
from tapeflow.keras.metrics.accuracy import (  # noqa: F401
    Accuracy, BinaryAccuracy, BinaryCrossentropy, CategoricalAccuracy, CategoricalCrossentropy,
    CategoricalHinge, CosineSimilarity, Hinge, KLDivergence, LogCoshError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError, Poisson,
    RootMeanSquaredError, SparseCategoricalAccuracy, SparseCategoricalCrossentropy,
    SparseTopKCategoricalAccuracy, SquaredHinge, TopKCategoricalAccuracy, accuracy,
    binary_accuracy, categorical_accuracy, in_top_k, sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from tapeflow.keras.metrics.confusion import (  # noqa: F401
    AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives)
from tapeflow.keras.metrics.f_score import F1Score, FBetaScore
from tapeflow.keras.losses.functions import (  # noqa: F401
    binary_crossentropy, categorical_crossentropy, categorical_hinge, hinge, huber, kld,
    kl_divergence, kullback_leibler_divergence, log_cosh, logcosh, mae, mape,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, mse, msle, poisson, sparse_categorical_crossentropy,
    squared_hinge)

MSE, MAE, MAPE, MSLE, KLD = (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
                             MeanSquaredLogarithmicError, KLDivergence)

_CLASSES = (Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy,
            CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
            SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
            MeanAbsolutePercentageError, MeanSquaredLogarithmicError, RootMeanSquaredError,
            CosineSimilarity, LogCoshError, KLDivergence, Poisson, Hinge, SquaredHinge,
            CategoricalHinge, BinaryCrossentropy, CategoricalCrossentropy,
            SparseCategoricalCrossentropy, TruePositives, FalsePositives, TrueNegatives,
            FalseNegatives, Precision, Recall, AUC, FBetaScore, F1Score)

ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update({"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
                         "mse": MeanSquaredError, "MSE": MeanSquaredError,
                         "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
                         "mape": MeanAbsolutePercentageError,
                         "MAPE": MeanAbsolutePercentageError,
                         "msle": MeanSquaredLogarithmicError,
                         "MSLE": MeanSquaredLogarithmicError})


def serialize(metric):
    return serialize_object(metric, "keras.metrics")


def deserialize(config, custom_objects=None):
    return deserialize_object(config, ALL_OBJECTS_DICT, custom_objects, "metric")


def get(identifier):
    """A metric from a name ('accuracy', 'mse', 'AUC'), a config dict, a class, an instance
    or a function `(y_true, y_pred) -> values`."""
    return get_object(identifier, ALL_OBJECTS_DICT, deserialize, "metric")
