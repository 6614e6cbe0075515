"""Inference latency of the seed MLP and the small CNN: `model.predict` in tapeflow, the same
model exported with `tapeflow.export` and run by onnxruntime, and `model.predict` in Keras 3
on TensorFlow; batch 1 (one request) and 128 (a batch of them). `predict` pays for its batching
machinery on every call (in Keras 3 on TF, a tf.data pipeline), so the model called through a
`tf.function`, as a server would run it, is timed in both frameworks too."""
import os
import tempfile

import numpy as np

from bench.harness import Missing, Workload


def _mlp(keras):
    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])


def _cnn(keras):
    L = keras.layers
    return keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"),
                             L.MaxPooling2D(), L.Conv2D(64, 3, activation="relu"),
                             L.MaxPooling2D(), L.Flatten(), L.Dropout(0.5),
                             L.Dense(10, activation="softmax")])


MODELS = {"mlp": (_mlp, (784,)), "cnn": (_cnn, (28, 28, 1))}


def predict(model_name, batch):
    build, shape = MODELS[model_name]
    x = np.random.default_rng(0).random((batch,) + shape, dtype=np.float32)

    def keras_predict(get_keras):
        def setup():
            model = build(get_keras())
            return lambda: model.predict(x, batch_size=batch, verbose=0)
        return setup

    def served(get_tf):
        def setup():
            tf = get_tf()
            model = build(tf.keras)
            serve = tf.function(lambda t: model(t, training=False))
            t = tf.constant(x)
            return lambda: serve(t).numpy()
        return setup

    def onnxruntime():
        try:
            import onnxruntime as ort
        except ImportError:
            raise Missing("onnxruntime is not installed") from None
        import tapeflow
        model = build(tapeflow.keras)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.onnx")
            tapeflow.export.to_onnx(model, path=path)
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda: session.run(None, {name: x})

    def tapeflow_tf():
        import tapeflow
        return tapeflow

    def tensorflow():
        import tensorflow
        return tensorflow

    number = 20 if batch == 1 else 5
    return Workload(f"predict_{model_name}_b{batch}",
                    f"{'seed MLP' if model_name == 'mlp' else 'small CNN'} inference, "
                    f"batch {batch}: predict vs onnxruntime on the exported file",
                    "call", {"tapeflow predict": keras_predict(lambda: tapeflow_tf().keras),
                             "tapeflow tf.function": served(tapeflow_tf),
                             "onnxruntime (tapeflow export)": onnxruntime,
                             "Keras 3 (TF) predict": keras_predict(lambda: tensorflow().keras),
                             "TF tf.function": served(tensorflow)},
                    number=number, quick_number=max(2, number // 5), repeats=7, quick_repeats=2)


def predict_workloads():
    return [predict(m, b) for m in ("mlp", "cnn") for b in (1, 128)]
