"""An LSTM reading Fashion-MNIST images row by row: 28 steps of 28 features.

    python examples/lstm_fashion_mnist.py [--epochs 2] [--seed N]   # tapeflow
    python examples/lstm_fashion_mnist.py --tensorflow              # the same under real TensorFlow

LSTM(128) + Dense(10, softmax); Adam, sparse categorical cross-entropy, batch 128. The data
come from the Keras cache (`$KERAS_HOME/datasets/`, default `~/.keras/datasets/`); the
Fashion-MNIST files beside this checkout (`../shared/data/fashion-mnist/`) are linked there
when the cache has none.
"""
import argparse

from _common import fit_and_report, framework, use_shared_fashion_mnist


def build_model(keras):
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.LSTM(128),
        keras.layers.Dense(10, activation="softmax"),
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--tensorflow", action="store_true", help="run with real TensorFlow")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--jit-compile", action="store_true",
                        help="compile(jit_compile=True): torch.compile (tapeflow) or XLA (TF)")
    parser.add_argument("--verbose", type=int, default=1)
    args = parser.parse_args()
    tf = framework(args.tensorflow)
    if args.seed is not None:
        tf.keras.utils.set_random_seed(args.seed)  # weights, dropout and fit's shuffling
    use_shared_fashion_mnist()

    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
    x_train = x_train.astype("float32") / 255   # (60000, 28, 28): 28 rows of 28 pixels
    x_test = x_test.astype("float32") / 255

    model = build_model(tf.keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=args.jit_compile)
    model.summary()

    fit_and_report(tf, model, (x_train, y_train), (x_test, y_test), args.epochs, args.verbose)


if __name__ == "__main__":
    main()
