"""A linear classifier trained from scratch with a GradientTape (the two-Gaussian example of
"Deep Learning with Python", chapter 3): 1000 points per class, W (2, 1), b (1,), mean squared
error, learning rate 0.1, 40 full-batch steps.

    python examples/linear_classifier.py [--jit-compile]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tapeflow as tf  # noqa: E402

NUM_SAMPLES_PER_CLASS = 1000
LEARNING_RATE = 0.1


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    cov = [[1, 0.5], [0.5, 1]]
    negative = rng.multivariate_normal(mean=[0, 3], cov=cov, size=NUM_SAMPLES_PER_CLASS)
    positive = rng.multivariate_normal(mean=[3, 0], cov=cov, size=NUM_SAMPLES_PER_CLASS)
    inputs = np.vstack((negative, positive)).astype(np.float32)
    targets = np.vstack((np.zeros((NUM_SAMPLES_PER_CLASS, 1), dtype="float32"),
                         np.ones((NUM_SAMPLES_PER_CLASS, 1), dtype="float32")))
    return inputs, targets


def main(steps=40, seed=0, verbose=True, jit_compile=False):
    """Trains the classifier; returns (losses per step, accuracy on the training points).
    `jit_compile`: the step runs as a `tf.function(jit_compile=True)`."""
    inputs, targets = make_data(seed)
    tf.random.set_seed(seed)
    input_dim, output_dim = 2, 1
    W = tf.Variable(initial_value=tf.random.uniform(shape=(input_dim, output_dim)))
    b = tf.Variable(initial_value=tf.zeros(shape=(output_dim,)))

    def model(inputs):
        return tf.matmul(inputs, W) + b

    def square_loss(targets, predictions):
        per_sample_losses = tf.square(targets - predictions)
        return tf.reduce_mean(per_sample_losses)

    def training_step(inputs, targets):
        with tf.GradientTape() as tape:
            predictions = model(inputs)
            loss = square_loss(targets, predictions)
        grad_loss_wrt_W, grad_loss_wrt_b = tape.gradient(loss, [W, b])
        W.assign_sub(grad_loss_wrt_W * LEARNING_RATE)
        b.assign_sub(grad_loss_wrt_b * LEARNING_RATE)
        return loss

    if jit_compile:
        training_step = tf.function(training_step, jit_compile=True)
    losses = []
    for step in range(steps):
        loss = training_step(inputs, targets)
        losses.append(float(loss))
        if verbose:
            print(f"Loss at step {step}: {loss:.4f}")

    predictions = model(inputs)
    accuracy = float(np.mean((predictions.numpy() > 0.5) == (targets > 0.5)))
    if verbose:
        print(f"Accuracy: {accuracy:.4f}")
    return losses, accuracy


if __name__ == "__main__":
    main(jit_compile="--jit-compile" in sys.argv[1:])
