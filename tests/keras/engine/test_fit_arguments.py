"""fit/evaluate/predict arguments as the Keras docs describe them, against real Keras: how
batches reach the step functions, steps_per_epoch and steps_per_execution, PyDataset,
generators, class and sample weights, validation_freq, and the errors for bad combinations."""
import math
import warnings

import numpy as np
import pytest

import tapeflow as tf

keras = tf.keras
RNG = np.random.default_rng(11)
X = RNG.uniform(size=(40, 4)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5], [1.5]], "float32")).astype("float32")


def _tf(k):
    import tensorflow
    return tf if k is keras else tensorflow


def _model(k, loss="mse", metrics=("mae",), **compile_kw):
    model = k.Sequential([k.Input((4,)), k.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(k.optimizers.SGD(0.05), loss, metrics=list(metrics), **compile_kw)
    return model


def _close(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=2e-4, atol=2e-5, err_msg=key)


def _structure(data):
    if isinstance(data, (tuple, list)):
        return type(data).__name__ + "(" + ",".join(_structure(v) for v in data) + ")"
    if isinstance(data, dict):
        return "{" + ",".join(f"{k}:{_structure(v)}" for k, v in sorted(data.items())) + "}"
    return "T"


def test_step_functions_receive_batches_packed_as_keras_packs_them(realtf):
    seen = []
    for k in (keras, realtf.keras):
        structures = []
        seen.append(structures)

        class Probe(k.Model):
            def __init__(self):
                super().__init__()
                self.dense = k.layers.Dense(1)

            def train_step(self, data):
                structures.append(("train", _structure(data)))
                return {"n": _tf(k).constant(1.0)}

            def predict_step(self, data):
                structures.append(("predict", _structure(data)))
                return self.dense(_tf(k).zeros((2, 3)))

        model = Probe()
        model.compile("sgd")
        for args in [(X,), ((X, X),), ({"a": X},), (X, Y), ([X, X], Y)]:
            model.fit(*args, batch_size=40, verbose=0)
        model.fit(X, Y, sample_weight=np.ones(40), batch_size=40, verbose=0)
        model.fit(_tf(k).data.Dataset.from_tensor_slices(X).batch(40), verbose=0,
                  shuffle=False)
        model.predict(X, batch_size=40, verbose=0)
    # each structure once, in order (the two libraries retrace for different reasons)
    ours, theirs = (list(dict.fromkeys(structures)) for structures in seen)
    assert ours == theirs  # fit(x) hands the step x itself, not (x,)


def test_steps_per_epoch_continues_one_iterator_across_epochs(realtf):
    histories, caught = [], []
    for k in (keras, realtf.keras):
        dataset = _tf(k).data.Dataset.from_tensor_slices((X, Y)).batch(8)  # 5 batches
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            histories.append(_model(k).fit(dataset, epochs=3, steps_per_epoch=2,
                                           verbose=0, shuffle=False).history)
            histories.append(_model(k).fit(X, Y, batch_size=8, epochs=2, steps_per_epoch=7,
                                           verbose=0, shuffle=False).history)
            unknown = dataset.filter(lambda a, b: True)
            histories.append(_model(k).fit(unknown, epochs=2, verbose=0).history)
        caught.append([str(w.message)[:30] for w in ws if "ran out" in str(w.message)])
    for ours, theirs in zip(histories[:3], histories[3:]):
        _close(ours, theirs)
    assert caught[0] == caught[1] and len(caught[0]) == 5


def test_steps_per_execution_calls_batch_hooks_once_per_execution(realtf):
    ends, histories = [], []
    for k in (keras, realtf.keras):
        model = _model(k, steps_per_execution=2)
        record = k.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs: ends.append((batch, sorted(logs))))
        histories.append(model.fit(X, Y, batch_size=8, epochs=1, verbose=0, shuffle=False,
                                   callbacks=[record]).history)
        assert model.predict(X, batch_size=8, verbose=0).shape == (40, 1)
    assert ends[:3] == ends[3:] and [b for b, _ in ends[:3]] == [1, 3, 5]
    _close(*histories)


def test_pydataset_batches_and_epoch_hooks_match_keras(realtf):
    histories, calls = [], []
    for k in (keras, realtf.keras):
        class Batches(k.utils.PyDataset):
            def __init__(self, x, y, batch_size, **kwargs):
                super().__init__(**kwargs)
                self.x, self.y, self.batch_size = x, y, batch_size

            def __len__(self):
                return math.ceil(len(self.x) / self.batch_size)

            def __getitem__(self, idx):
                low = idx * self.batch_size
                return self.x[low:low + self.batch_size], self.y[low:low + self.batch_size]

            def on_epoch_end(self):
                calls.append(k)

        train, val = Batches(X, Y, 16), Batches(X[:20], Y[:20], 20)
        histories.append(_model(k).fit(train, epochs=2, verbose=0, shuffle=False,
                                       validation_data=val).history)
    _close(*histories)
    assert calls.count(keras) == calls.count(realtf.keras)


def test_shuffled_pydataset_and_threads_see_every_batch_once():
    order = []

    class Batches(keras.utils.Sequence):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def __len__(self):
            return 5

        def __getitem__(self, idx):
            order.append(idx)
            return X[idx * 8:(idx + 1) * 8], Y[idx * 8:(idx + 1) * 8]

    _model(keras).fit(Batches(), epochs=1, verbose=0, shuffle=True)
    assert sorted(order) == [0, 1, 2, 3, 4]
    order.clear()
    _model(keras).fit(Batches(workers=3, max_queue_size=2), epochs=1, verbose=0)
    assert sorted(order) == [0, 1, 2, 3, 4]


def test_class_weight_and_sample_weight_rules_match_keras(realtf):
    labels = (Y[:, 0] > np.median(Y)).astype("int64") + (Y[:, 0] > np.max(Y) - 0.3)
    histories = []
    for k in (keras, realtf.keras):
        model = _model(k, loss=k.losses.SparseCategoricalCrossentropy(from_logits=True),
                       metrics=["accuracy"])
        model.pop()
        model.add(k.layers.Dense(3, kernel_initializer="zeros"))
        fit_kw = dict(epochs=1, batch_size=8, verbose=0, shuffle=False)
        histories.append(model.fit(X, labels, class_weight={1: 3.0}, **fit_kw).history)
        onehot = np.eye(3, dtype="float32")[labels]
        model.compile(k.optimizers.SGD(0.05), "categorical_crossentropy",
                      weighted_metrics=["accuracy"])
        histories.append(model.fit(X, onehot, class_weight={0: 0.5, 2: 2.0},
                                   **fit_kw).history)
    _close(histories[0], histories[2])
    _close(histories[1], histories[3])


def test_validation_freq_and_initial_epoch_match_keras(realtf):
    histories = []
    for k in (keras, realtf.keras):
        fit_kw = dict(batch_size=16, verbose=0, shuffle=False, validation_data=(X, Y))
        histories.append(_model(k).fit(X, Y, epochs=4, validation_freq=[1, 4],
                                       **fit_kw).history)
        histories.append(_model(k).fit(X, Y, epochs=4, initial_epoch=1, validation_freq=2,
                                       **fit_kw).history)
    _close(histories[0], histories[2])
    _close(histories[1], histories[3])


def _bad_calls(k):
    dataset = _tf(k).data.Dataset.from_tensor_slices((X, Y)).batch(8)

    def generator():
        yield X

    return {
        "y with a dataset": lambda m: m.fit(dataset, Y, verbose=0),
        "sample_weight with a dataset": lambda m: m.fit(dataset, sample_weight=Y, verbose=0),
        "class and sample weights": lambda m: m.fit(X, Y, class_weight={0: 1.0},
                                                    sample_weight=np.ones(40), verbose=0),
        "validation_split on a dataset": lambda m: m.fit(dataset, validation_split=0.2,
                                                         verbose=0),
        "validation_freq of a bad type": lambda m: m.fit(X, Y, validation_data=(X, Y),
                                                         validation_freq="2", verbose=0),
        "a generator yielding arrays": lambda m: m.fit(generator(), verbose=0),
        "unknown evaluate arguments": lambda m: m.evaluate(X, Y, verbose=0, workers=2),
        "too little data to split": lambda m: m.fit(X[:1], Y[:1], validation_split=0.5,
                                                    verbose=0),
    }


@pytest.mark.parametrize("case", list(_bad_calls(keras)))
def test_bad_fit_arguments_raise_what_keras_raises(realtf, case):
    errors = []
    for k in (keras, realtf.keras):
        with pytest.raises(ValueError) as info:
            _bad_calls(k)[case](_model(k))
        errors.append(str(info.value).split(" Received: ")[0].split("<class")[0])
    assert errors[0] == errors[1]
