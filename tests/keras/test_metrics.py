"""Metrics against real Keras 3: results after several (weighted) updates, reset, state
variables and configs, the metric functions, and `get`."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow import keras
from tests.parity import assert_same

R = np.random.default_rng(3)
N, C = 8, 4


def _batch(kind):
    if kind == "sparse":
        return R.integers(0, C, N).astype(np.int32), R.dirichlet(np.ones(C), N).astype(
            np.float32)
    if kind == "onehot":
        return (np.eye(C, dtype=np.float32)[R.integers(0, C, N)],
                R.dirichlet(np.ones(C), N).astype(np.float32))
    if kind == "binary":
        return R.integers(0, 2, (N, 1)).astype(np.float32), R.random((N, 1)).astype(
            np.float32)
    if kind == "multilabel":
        return R.integers(0, 2, (N, C)).astype(np.float32), R.random((N, C)).astype(
            np.float32)
    if kind == "equal":
        a = R.integers(0, 3, N).astype(np.float32)
        b = a.copy()
        b[::3] += 1
        return a, b
    return R.standard_normal((N, C)).astype(np.float32), R.standard_normal((N, C)).astype(
        np.float32)


CASES = [
    ("Accuracy", {}, "equal"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.7}, "binary"),
    ("CategoricalAccuracy", {}, "onehot"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse"),
    ("MeanSquaredError", {}, "real"),
    ("MeanAbsoluteError", {}, "real"),
    ("RootMeanSquaredError", {}, "real"),
    ("CosineSimilarity", {}, "real"),
    ("LogCoshError", {}, "real"),
    ("BinaryCrossentropy", {}, "binary"),
    ("CategoricalCrossentropy", {}, "onehot"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("KLDivergence", {}, "onehot"),
    ("Hinge", {}, "binary"),
    ("Precision", {}, "binary"),
    ("Recall", {}, "binary"),
    ("Precision", {"thresholds": [0.3, 0.6]}, "binary"),
    ("Recall", {"top_k": 2}, "multilabel"),
    ("Precision", {"class_id": 1}, "multilabel"),
    ("TruePositives", {}, "binary"),
    ("FalsePositives", {"thresholds": [0.2, 0.8]}, "binary"),
    ("TrueNegatives", {}, "binary"),
    ("FalseNegatives", {}, "binary"),
    ("AUC", {}, "binary"),
    ("AUC", {"curve": "PR"}, "binary"),
    ("AUC", {"num_thresholds": 7, "summation_method": "minoring"}, "binary"),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, "binary"),
    ("AUC", {"thresholds": [0.25, 0.5, 0.75]}, "binary"),
    ("AUC", {"multi_label": True}, "multilabel"),
    ("AUC", {"from_logits": True}, "real_binary"),
    ("F1Score", {}, "onehot"),
    ("F1Score", {"average": "macro", "threshold": 0.3}, "multilabel"),
    ("FBetaScore", {"beta": 2.0, "average": "weighted"}, "onehot"),
    ("FBetaScore", {"average": "micro", "threshold": 0.5}, "multilabel"),
]


@pytest.mark.parametrize("name,kwargs,kind", CASES,
                         ids=[f"{n}-{k}-{i}" for i, (n, k, _) in enumerate(CASES)])
def test_metric_classes_match_keras(realtf, name, kwargs, kind):
    ours = getattr(keras.metrics, name)(**kwargs)
    theirs = getattr(realtf.keras.metrics, name)(**kwargs)
    for step in range(3):
        if kind == "real_binary":
            y_true, y_pred = R.integers(0, 2, (N, 1)).astype(np.float32), \
                R.standard_normal((N, 1)).astype(np.float32)
        else:
            y_true, y_pred = _batch(kind)
        sw = R.random(N).astype(np.float32) if step == 1 else None
        ours.update_state(y_true, y_pred, sample_weight=sw)
        theirs.update_state(y_true, y_pred, sample_weight=sw)
        assert_same(ours.result(), theirs.result(), rtol=1e-5, atol=1e-6)
    assert len(ours.variables) == len(theirs.variables)
    for a, b in zip(ours.variables, theirs.variables):
        assert_same(a.numpy(), np.asarray(b.numpy()), rtol=1e-5, atol=1e-5)
    ours.reset_state()
    theirs.reset_state()
    assert_same(ours.result(), theirs.result())
    assert ours.get_config() == theirs.get_config()


@pytest.mark.parametrize("weights", [None, [1.0, 0.0, 2.0, 1.0]])
def test_mean_and_sum(realtf, weights):
    for name in ("Mean", "Sum"):
        ours, theirs = getattr(keras.metrics, name)(), getattr(realtf.keras.metrics, name)()
        for values in ([1.0, 3.0, 5.0, 7.0], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]):
            ours.update_state(values, sample_weight=weights)
            theirs.update_state(values, sample_weight=weights)
        assert_same(ours.result(), theirs.result())
        ours.update_state(2.0)
        theirs.update_state(2.0)
        assert_same(ours.result(), theirs.result())
        assert ours.name == theirs.name and ours.get_config() == theirs.get_config()


FUNCTIONS = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
             "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"]


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_metric_functions_match_keras(realtf, fn):
    import keras as real_keras
    kind = {"binary_accuracy": "binary", "sparse_categorical_accuracy": "sparse",
            "sparse_top_k_categorical_accuracy": "sparse"}.get(fn, "onehot")
    y_true, y_pred = _batch(kind)
    kwargs = {"k": 2} if "top_k" in fn else {}
    assert_same(getattr(keras.metrics, fn)(tf.constant(y_true), tf.constant(y_pred), **kwargs),
                getattr(real_keras.metrics, fn)(realtf.constant(y_true),
                                                realtf.constant(y_pred), **kwargs))


def test_in_top_k_ties_count_as_in(realtf):
    preds = np.array([[0.1, 0.3, 0.3, 0.3], [0.4, 0.1, 0.2, 0.3]], np.float32)
    targets = np.array([3, 1], np.int32)
    for k in (1, 2):
        assert_same(keras.metrics.in_top_k(targets, preds, k),
                    realtf.math.in_top_k(targets, preds, k))


def test_get_and_serialize():
    assert isinstance(keras.metrics.get("accuracy"), keras.metrics.Accuracy)
    assert isinstance(keras.metrics.get("mse"), keras.metrics.MeanSquaredError)
    assert isinstance(keras.metrics.get("auc"), keras.metrics.AUC)
    assert isinstance(keras.metrics.get("AUC"), keras.metrics.AUC)
    assert keras.metrics.get(keras.metrics.binary_accuracy) is keras.metrics.binary_accuracy
    cfg = keras.metrics.serialize(keras.metrics.Precision(thresholds=0.3))
    again = keras.metrics.deserialize(cfg)
    assert isinstance(again, keras.metrics.Precision) and again.thresholds == [0.3]
    with pytest.raises(ValueError, match="Could not interpret metric identifier: nope"):
        keras.metrics.get("nope")
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        keras.metrics.Precision(thresholds=[1.5])


def test_state_lives_in_non_trainable_variables():
    m = keras.metrics.SparseCategoricalAccuracy()
    assert all(isinstance(v, tf.Variable) and not v.trainable for v in m.variables)
    assert [v.name for v in m.variables] == ["total", "count"]
    assert [v.path for v in m.variables] == [f"{m.name}/total", f"{m.name}/count"]
    m.update_state([1], [[0.2, 0.8]])
    assert float(m.result()) == 1.0
    m.reset_state()
    assert float(m.result()) == 0.0


def test_custom_metric_subclass():
    class Count(keras.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.n = self.add_weight(name="n", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.n.assign_add(tf.cast(tf.size(y_true), tf.float32))

        def result(self):
            return tf.identity(self.n)

    m = Count(name="count")
    m.update_state([1, 2, 3], [1, 2, 3])
    assert float(m.result()) == 3.0 and m.name == "count"
    m.reset_state()
    assert float(m.result()) == 0.0


def test_a_metric_holding_metrics_tracks_and_resets_their_state(realtf):
    """A composite metric (an F1 made of Precision and Recall attributes) lists their
    variables and `reset_state` zeroes them, as Keras's tracking does."""
    results = []
    for k in (keras, realtf.keras):
        class F1(k.metrics.Metric):
            def __init__(self, name="f1", **kwargs):
                super().__init__(name=name, **kwargs)
                self.precision = k.metrics.Precision()
                self.recall = k.metrics.Recall()

            def update_state(self, y_true, y_pred, sample_weight=None):
                self.precision.update_state(y_true, y_pred, sample_weight)
                self.recall.update_state(y_true, y_pred, sample_weight)

            def result(self):
                p, r = self.precision.result(), self.recall.result()
                return 2 * p * r / (p + r + 1e-7)

        m = F1()
        m.update_state([1, 0, 1], [0.9, 0.2, 0.3])
        before = float(m.result())
        m.reset_state()
        results.append(([v.name for v in m.variables], before, float(m.result())))
    assert results[0][0] == results[1][0]
    np.testing.assert_allclose(results[0][1:], results[1][1:], rtol=1e-6)
