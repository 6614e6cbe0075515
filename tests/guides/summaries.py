"""In the style of the TensorBoard guides ("Get started with TensorBoard", "TensorBoard
Scalars: logging training metrics in Keras", "Migrating tf.summary usage to TF 2.x"): write
summaries eagerly, in a tf.function and from Keras's TensorBoard callback, then read the event
files back and print what they hold."""
import os
import shutil
import struct
import tempfile

import numpy as np
import tensorflow as tf
from tensorboard.compat.proto import event_pb2
from tensorboard.util import tensor_util

logdir = tempfile.mkdtemp()


def read_events(directory):
    """(step, tag, value) for every summary in the event files of `directory`."""
    out = []
    for name in sorted(os.listdir(directory)):
        if not name.startswith("events.out.tfevents."):
            continue
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        i = 0
        while i < len(data):
            (length,) = struct.unpack("<Q", data[i:i + 8])
            event = event_pb2.Event.FromString(data[i + 12:i + 12 + length])
            i += 16 + length
            for value in event.summary.value:
                out.append((event.step, value.tag, value))
    return out


def show(directory):
    for step, tag, value in read_events(directory):
        plugin = value.metadata.plugin_data.plugin_name
        array = tensor_util.make_ndarray(value.tensor)
        if plugin == "scalars":
            print(step, tag, round(float(array), 4))
        elif plugin == "histograms":
            print(step, tag, "buckets", array.shape[0], "counts", array[:, 2].astype(int).tolist(),
                  "range", round(float(array[0, 0]), 4), round(float(array[-1, 1]), 4))
        elif plugin == "images":
            print(step, tag, "width", array[0].decode(), "height", array[1].decode(),
                  "images", len(array) - 2, all(png[:4] == b"\x89PNG" for png in array[2:]))
        elif plugin == "text":
            print(step, tag, array.tolist())
        else:
            print(step, tag, plugin, value.tensor.dtype)


# Writing scalars eagerly
writer = tf.summary.create_file_writer(os.path.join(logdir, "eager"))
print(os.listdir(logdir))
with writer.as_default():
    for step in range(3):
        ok = tf.summary.scalar("my_metric", 0.5 * step, step=step)
    print(ok)
    tf.summary.histogram("weights", np.arange(20.0) ** 2, step=0, buckets=5)
    tf.summary.image("digits", np.linspace(0, 1, 2 * 3 * 4).reshape([2, 3, 4, 1]), step=0)
    tf.summary.text("notes", "a *markdown* note", step=0)
    with tf.name_scope("scope"):
        tf.summary.scalar("inner", 1.5, step=4)
print(tf.summary.scalar("outside", 1.0, step=0))
writer.flush()
names = os.listdir(os.path.join(logdir, "eager"))
print(len(names), names[0].startswith("events.out.tfevents."), names[0].endswith(".v2"))
show(os.path.join(logdir, "eager"))

# A training loop in a tf.function, with the default step in a variable
writer = tf.summary.create_file_writer(os.path.join(logdir, "function"))
step = tf.Variable(0, dtype=tf.int64)
tf.summary.experimental.set_step(step)
w = tf.Variable([[0.5, -1.0], [2.0, 0.25]])


@tf.function
def train_step(x):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((x @ w) ** 2)
    w.assign_sub(0.1 * tape.gradient(loss, w))
    tf.summary.scalar("loss", loss)
    with tf.summary.record_if(lambda: step % 2 == 0):
        tf.summary.histogram("w", w, buckets=3)
    step.assign_add(1)
    return loss


with writer.as_default():
    print(tf.summary.should_record_summaries())
    for _ in range(4):
        train_step(tf.constant([[1.0, 2.0]]))
    with tf.summary.record_if(False):
        print(tf.summary.should_record_summaries())
writer.close()
tf.summary.experimental.set_step(None)
show(os.path.join(logdir, "function"))

# The graph of a tf.function, for TensorBoard's Graphs tab
writer = tf.summary.create_file_writer(os.path.join(logdir, "graph"))


@tf.function
def my_func(x, y):
    return tf.nn.relu(tf.matmul(x, y))


tf.summary.trace_on(graph=True, profiler=False)
my_func(tf.random.uniform((3, 3)), tf.random.uniform((3, 3)))
with writer.as_default():
    tf.summary.trace_export(name="my_func_trace", step=0)
writer.close()
show(os.path.join(logdir, "graph"))
try:
    tf.summary.trace_export(name="again", step=0)
except ValueError as e:
    print("ValueError:", e)

# Keras's TensorBoard callback
inputs = tf.keras.Input((4,))
hidden = tf.keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
outputs = tf.keras.layers.Dense(3, activation="softmax", name="classes")(hidden)
model = tf.keras.Model(inputs, outputs, name="classifier")
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
y = np.arange(40) % 3
board = tf.keras.callbacks.TensorBoard(os.path.join(logdir, "fit"), histogram_freq=1,
                                       update_freq=2)
model.fit(x, y, batch_size=10, epochs=2, validation_split=0.25, callbacks=[board], verbose=0)
print(sorted(os.listdir(os.path.join(logdir, "fit"))))
for run in ("train", "validation"):
    print(run, [(s, tag) for s, tag, _ in read_events(os.path.join(logdir, "fit", run))])
shutil.rmtree(logdir)
