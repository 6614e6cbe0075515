"""keras.callbacks.TensorBoard against Keras 3 on TensorFlow: the same training (same weights,
unshuffled batches) writes the same runs, tags, steps and values, which TensorBoard's reader
reads back; the model's config draws as TensorBoard's conceptual graph."""
import os

import numpy as np
import pytest

import tapeflow as tf
from tests.summary.events import assert_same_summaries, event_files, summaries

keras = tf.keras
RNG = np.random.default_rng(3)
X = RNG.standard_normal((64, 4)).astype("float32")
Y = (X.sum(1) > 0).astype("int32")
RNG_WEIGHTS = np.random.default_rng(4)
# time-dependent values, and the model's JSON (our config is not Keras's byte for byte)
UNCOMPARABLE = {"epoch_steps_per_second", "batch_steps_per_second", "keras"}


def _model(k):
    inputs = k.Input((4,))
    hidden = k.layers.Dense(3, activation="relu", name="hidden")(inputs)
    outputs = k.layers.Dense(2, activation="softmax", name="out")(hidden)
    return k.Model(inputs, outputs, name="net")


def _fit(k, logdir, weights=None, **options):
    model = _model(k)
    if weights is not None:
        model.set_weights(weights)
    model.compile(k.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    board = k.callbacks.TensorBoard(str(logdir), **options)
    model.fit(X, Y, batch_size=16, epochs=2, validation_data=(X[:16], Y[:16]), shuffle=False,
              callbacks=[board], verbose=0)
    model.evaluate(X, Y, batch_size=16, callbacks=[board], verbose=0)
    return model


def _runs(logdir):
    return {run: summaries(os.path.join(logdir, run)) for run in sorted(os.listdir(logdir))}


@pytest.mark.parametrize("options", [
    {"histogram_freq": 1, "write_images": True, "write_steps_per_second": True},
    {"update_freq": 2, "write_steps_per_second": True},
], ids=["epoch", "every_2_batches"])
def test_same_event_files_as_keras(realtf, tmp_path, options):
    import keras as real_keras
    # fixed initial weights (not keras.utils.set_random_seed: TF's global seed would leak
    # into the error texts of later parity tests)
    weights = [RNG_WEIGHTS.standard_normal(w.shape).astype("float32") * 0.5
               for w in _model(real_keras).get_weights()]
    _fit(real_keras, tmp_path / "keras", weights, **options)
    _fit(keras, tmp_path / "ours", weights, **options)
    ours_runs, their_runs = _runs(str(tmp_path / "ours")), _runs(str(tmp_path / "keras"))
    assert sorted(ours_runs) == sorted(their_runs) == ["train", "validation"]
    for run, theirs_run in their_runs.items():
        ours = ours_runs[run]
        assert [(t, [(s, p) for s, p, _ in ours[t]]) for t in sorted(ours)] == \
            [(t, [(s, p) for s, p, _ in theirs_run[t]]) for t in sorted(theirs_run)], run
        assert_same_summaries({t: v for t, v in ours.items() if t not in UNCOMPARABLE},
                              {t: v for t, v in theirs_run.items() if t not in UNCOMPARABLE},
                              rtol=1e-4, atol_int=1)
    train = ours_runs["train"]
    if options.get("histogram_freq"):
        assert "hidden/kernel/histogram" in train and "out/bias/image" in train
        assert train["hidden/kernel/image"][0][2][2].shape == (3, 4)  # the long side across
    assert "evaluation_loss_vs_iterations" in ours_runs["validation"]


def test_model_config_draws_as_the_conceptual_graph(tmp_path):
    from tests.summary.test_trace import _graphs_plugin
    _fit(keras, tmp_path)
    plugin, ctx = _graphs_plugin(str(tmp_path))
    assert plugin.info_impl(ctx, experiment="")["train"]["tags"]["keras"]["conceptual_graph"]
    body, _ = plugin.graph_impl(ctx, "train", "keras", is_conceptual=True, experiment="")
    assert 'name: "net/hidden"' in body and 'input: "net/hidden"' in body
    assert body.count('s: "Dense"') == 2 and 's: "InputLayer"' in body


def test_profile_batch_writes_the_train_step_graph(tmp_path):
    from tests.summary.test_trace import _graphs_plugin
    _fit(keras, tmp_path, profile_batch=1, write_graph=False)
    plugin, ctx = _graphs_plugin(str(tmp_path))
    assert plugin.info_impl(ctx, experiment="")["train"]["tags"]["batch_1"]["op_graph"]
    body, _ = plugin.graph_impl(ctx, "train", "batch_1", is_conceptual=False, experiment="")
    assert 'op: "MatMul"' in body and 'op: "AssignVariableOp"' in body


def test_embeddings_projector_config_as_keras(realtf, tmp_path):
    import keras as real_keras
    texts = {}
    for k, name in ((keras, "ours"), (real_keras, "keras")):
        model = k.Sequential([k.Input((3,), dtype="int32"), k.layers.Embedding(10, 2, name="emb"),
                              k.layers.GlobalAveragePooling1D(), k.layers.Dense(1)])
        model.compile("sgd", "mse")
        board = k.callbacks.TensorBoard(str(tmp_path / name), embeddings_freq=1,
                                        embeddings_metadata={"emb": "meta.tsv"})
        model.fit(np.zeros((4, 3), "int32"), np.zeros((4, 1)), epochs=1, verbose=0,
                  callbacks=[board])
        with open(tmp_path / name / "projector_config.pbtxt") as f:
            texts[name] = f.read()
        assert os.path.exists(tmp_path / name / "train" / "keras_embedding.ckpt-0.weights.h5")
    assert texts["ours"] == texts["keras"]


@pytest.mark.parametrize("profile_batch", [-1, (3, 2), "x,y,z", 2.5])
def test_bad_profile_batch(realtf, tmp_path, profile_batch):
    import keras as real_keras
    errors = []
    for k in (keras, real_keras):
        with pytest.raises(ValueError) as info:
            k.callbacks.TensorBoard(str(tmp_path), profile_batch=profile_batch)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_no_event_files_until_needed(tmp_path):
    keras.callbacks.TensorBoard(str(tmp_path))
    assert not os.path.exists(tmp_path / "train")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(X, X[:, :1], epochs=1, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path), write_graph=False)])
    assert len(event_files(str(tmp_path / "train"))) == 1
    assert not os.path.exists(tmp_path / "validation")
