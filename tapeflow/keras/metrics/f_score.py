"""`FBetaScore` and `F1Score`: the F-beta score of multi-class or multi-label predictions,
per class or averaged ('micro', 'macro', 'weighted'), as Keras 3 computes it."""
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.ops import (array as array_ops, comparison as comparison_ops,
                          elementwise as elementwise_ops, reduction as reduction_ops)
from tapeflow.keras.metrics.metric import Metric

EPSILON = 1e-7


class FBetaScore(Metric):
    """`(1 + beta^2) * precision * recall / (beta^2 * precision + recall)`.

    Args:
        average: None (one score per class), 'micro', 'macro' or 'weighted'.
        beta: weight of recall relative to precision (> 0).
        threshold: predictions above it are positive; None takes each row's maximum.

    Example:
    >>> m = keras.metrics.FBetaScore(beta=2.0, threshold=0.5)
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, "
                             f"'micro', 'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: "
                             f"beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError("Invalid `threshold` argument value. It should be a Python "
                                 f"float. Received: threshold={threshold} of type "
                                 f"'{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value. It should verify 0 < "
                                 f"threshold <= 1. Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError("FBetaScore expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape={y_pred_shape}"
                             f" and y_true.shape={y_true_shape}.")
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives",
                     "intermediate_weights"):
            setattr(self, name, self.add_variable(shape=shape, initializer="zeros", name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        dtype = self._dtype
        y_true = elementwise_ops.cast(convert_to_tensor(y_true), dtype)
        y_pred = elementwise_ops.cast(convert_to_tensor(y_pred), dtype)
        if not self._built:
            self._build(tuple(y_true.shape), tuple(y_pred.shape))
        if self.threshold is None:
            top = reduction_ops.reduce_max(y_pred, axis=-1, keepdims=True)
            y_pred = comparison_ops.logical_and(y_pred >= top, elementwise_ops.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = elementwise_ops.cast(y_pred, dtype)
        if sample_weight is not None:
            sample_weight = array_ops.expand_dims(
                elementwise_ops.cast(convert_to_tensor(sample_weight), dtype), 1)

        def weighted_sum(value):
            if sample_weight is not None:
                value = value * sample_weight
            return reduction_ops.reduce_sum(value, axis=self.axis)

        self.true_positives.assign_add(weighted_sum(y_pred * y_true))
        self.false_positives.assign_add(weighted_sum(y_pred * (1 - y_true)))
        self.false_negatives.assign_add(weighted_sum((1 - y_pred) * y_true))
        self.intermediate_weights.assign_add(weighted_sum(y_true))

    def result(self):
        tp = self.true_positives.value()
        precision = tp / (tp + self.false_positives.value() + EPSILON)
        recall = tp / (tp + self.false_negatives.value() + EPSILON)
        beta2 = self.beta ** 2
        score = (precision * recall) / (beta2 * precision + recall + EPSILON) * (1 + beta2)
        if self.average == "weighted":
            w = self.intermediate_weights.value()
            return reduction_ops.reduce_sum(score * (w / (reduction_ops.reduce_sum(w) + EPSILON)))
        if self.average is not None:
            return reduction_ops.reduce_mean(score)
        return score

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F-beta score with beta = 1: the harmonic mean of precision and recall.

    Example:
    >>> m = keras.metrics.F1Score(threshold=0.5)
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name,
                         dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
