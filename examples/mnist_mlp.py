"""The seed model: a two-layer perceptron on (Fashion-)MNIST, as in the TensorFlow tutorials.

    python examples/mnist_mlp.py [--dataset fashion_mnist|mnist] [--epochs 5] [--seed N]
        [--run-eagerly] [--jit-compile]

Runs unchanged under real TensorFlow with `--tensorflow` (for comparison). The data come from
the Keras cache (`$KERAS_HOME/datasets/`, default `~/.keras/datasets/`); the Fashion-MNIST files
beside this checkout (`../shared/data/fashion-mnist/`) are used when the cache has none.
`--seed N` makes a run repeat; docs/examples.md has the accuracy over seeds 0-4, with TF's.
"""
import argparse

from _common import fit_and_report, framework, use_shared_fashion_mnist


def build_model(keras):
    return keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(512, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["fashion_mnist", "mnist"], default="fashion_mnist")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--tensorflow", action="store_true", help="run with real TensorFlow")
    parser.add_argument("--verbose", type=int, default=1)
    parser.add_argument("--run-eagerly", action="store_true",
                        help="compile(run_eagerly=True): no tf.function around the step")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--jit-compile", action="store_true",
                        help="compile(jit_compile=True): torch.compile (tapeflow) or XLA (TF)")
    args = parser.parse_args()
    tf = framework(args.tensorflow)
    if args.seed is not None:
        tf.keras.utils.set_random_seed(args.seed)  # weights, dropout and fit's shuffling
    if args.dataset == "fashion_mnist":
        use_shared_fashion_mnist()

    dataset = getattr(tf.keras.datasets, args.dataset)
    (x_train, y_train), (x_test, y_test) = dataset.load_data()
    x_train = x_train.reshape(60000, 784).astype("float32") / 255
    x_test = x_test.reshape(10000, 784).astype("float32") / 255

    model = build_model(tf.keras)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], run_eagerly=args.run_eagerly,
                  jit_compile=args.jit_compile)
    model.summary()

    fit_and_report(tf, model, (x_train, y_train), (x_test, y_test), args.epochs, args.verbose)


if __name__ == "__main__":
    main()
