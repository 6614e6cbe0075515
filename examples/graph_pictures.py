"""The lecture's computation graph, drawn from your own code: loss = |y_true - (w * x + b)|.

    python examples/graph_pictures.py [--out DIR]

The forward pass with its values (x1 = w * x = 6, x2 = x1 + b = 7, loss = |4 - 7| = 3) and
the backward pass with the gradient on each edge (d loss / d w = 2, d loss / d b = 1), as
`tape.graph()` draws them after `tape.gradient(...)`; then a tf.function's plan and a Keras
model. Each picture is printed as text and written to DIR as DOT source (`.dot`), text
(`.txt`) and, when Graphviz's `dot` program is installed, as SVG (in Jupyter, a picture
displays itself).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tapeflow as tf  # noqa: E402
from tapeflow import keras  # noqa: E402
from tapeflow.keras.utils.picture import has_dot  # noqa: E402


def save(picture, out, name):
    picture.write(os.path.join(out, name + ".dot"))
    picture.write(os.path.join(out, name + ".txt"))
    if has_dot():
        picture.write(os.path.join(out, name + ".svg"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="folder for the pictures")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    # the lecture's graph (persistent: the tape keeps its recording after gradient())
    x = tf.constant(2.0)
    y_true = tf.constant(4.0)
    w = tf.Variable(3.0)
    b = tf.Variable(1.0)
    with tf.GradientTape(persistent=True) as tape:
        x1 = w * x
        x2 = x1 + b
        loss = tf.abs(y_true - x2)
    grad_w, grad_b = tape.gradient(loss, [w, b])
    print(f"loss = {float(loss):g}, d loss / d w = {float(grad_w):g}, "
          f"d loss / d b = {float(grad_b):g}\n")
    lecture = tape.graph()
    print(lecture, "\n")
    save(lecture, args.out, "lecture_graph")

    # the same computation as a tf.function: the plan its calls run
    @tf.function(input_signature=[tf.TensorSpec([None])])
    def predict(x):
        return w * x + b
    plan = tf.export.function_graph(predict)
    print(plan, "\n")
    save(plan, args.out, "function_graph")

    # a Keras model, as keras.utils.plot_model draws it
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    drawing = keras.utils.model_to_dot(model, show_shapes=True, show_layer_names=True)
    print(drawing)
    save(drawing, args.out, "model")


if __name__ == "__main__":
    main()
