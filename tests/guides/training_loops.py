"""In the style of the TF guides "Basic training loops" and "Custom training: walkthrough"."""
import numpy as np
import tensorflow as tf

TRUE_W = 3.0
TRUE_B = 2.0
NUM_EXAMPLES = 201
x = tf.linspace(-2, 2, NUM_EXAMPLES)
x = tf.cast(x, tf.float32)


def f(x):
    return x * TRUE_W + TRUE_B


noise = tf.constant(np.random.RandomState(0).normal(size=[NUM_EXAMPLES]).astype("float32"))
y = f(x) + noise


class MyModel(tf.Module):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = tf.Variable(5.0)
        self.b = tf.Variable(0.0)

    def __call__(self, x):
        return self.w * x + self.b


model = MyModel()
print("Variables:", model.variables)
assert model(3.0).numpy() == 15.0


def loss(target_y, predicted_y):
    return tf.reduce_mean(tf.square(target_y - predicted_y))


print("Current loss: %1.4f" % loss(y, model(x)).numpy())


def train(model, x, y, learning_rate):
    with tf.GradientTape() as t:
        current_loss = loss(y, model(x))
    dw, db = t.gradient(current_loss, [model.w, model.b])
    model.w.assign_sub(learning_rate * dw)
    model.b.assign_sub(learning_rate * db)


weights = []
biases = []
epochs = range(10)


def report(model, loss):
    return f"W = {model.w.numpy():1.2f}, b = {model.b.numpy():1.2f}, loss={loss:2.5f}"


def training_loop(model, x, y):
    for epoch in epochs:
        train(model, x, y, learning_rate=0.1)
        weights.append(model.w.numpy())
        biases.append(model.b.numpy())
        current_loss = loss(y, model(x))
        print(f"Epoch {epoch:2d}:")
        print("    ", report(model, current_loss))


current_loss = loss(y, model(x))
print("Starting:")
print("    ", report(model, current_loss))
training_loop(model, x, y)


class MyModelKeras(tf.keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = tf.Variable(5.0)
        self.b = tf.Variable(0.0)

    def call(self, x):
        return self.w * x + self.b


keras_model = MyModelKeras()
training_loop(keras_model, x, y)


# -- optimizer-driven loop on a tf.Module, with gradient clipping --------------------------
tf.random.set_seed(7)


class Linear(tf.Module):
    def __init__(self, n_in, n_out, name=None):
        super().__init__(name=name)
        self.w = tf.Variable(tf.reshape(tf.range(n_in * n_out, dtype=tf.float32) / 10.0,
                                        [n_in, n_out]), name="w")
        self.b = tf.Variable(tf.zeros([n_out]), name="b")

    @tf.Module.with_name_scope
    def __call__(self, x):
        return tf.matmul(x, self.w) + self.b


class MLP(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.layers = [Linear(4, 8, name="hidden"), Linear(8, 3, name="out")]

    def __call__(self, x):
        x = tf.nn.relu(self.layers[0](x))
        return self.layers[1](x)


features = tf.constant(np.random.RandomState(1).uniform(size=[32, 4]).astype("float32"))
labels = tf.constant(np.random.RandomState(2).randint(0, 3, size=[32]).astype("int32"))
net = MLP()
print([v.name for v in net.trainable_variables])
optimizer = tf.keras.optimizers.SGD(learning_rate=0.05)
loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = net(x)
        loss_value = loss_object(y, logits)
    grads = tape.gradient(loss_value, net.trainable_variables)
    grads, norm = tf.clip_by_global_norm(grads, 1.0)
    optimizer.apply_gradients(zip(grads, net.trainable_variables))
    return loss_value, norm


ds = tf.data.Dataset.from_tensor_slices((features, labels)).batch(8)
for epoch in range(3):
    epoch_loss_avg = tf.keras.metrics.Mean()
    epoch_accuracy = tf.keras.metrics.SparseCategoricalAccuracy()
    for xb, yb in ds:
        loss_value, norm = train_step(xb, yb)
        epoch_loss_avg.update_state(loss_value)
        epoch_accuracy.update_state(yb, net(xb))
    print("Epoch {:03d}: Loss: {:.4f}, Accuracy: {:.3%}".format(
        epoch, epoch_loss_avg.result(), epoch_accuracy.result()))
print(np.round(tf.clip_by_norm(tf.constant([[3.0, 4.0]]), 1.0).numpy(), 6))
print(tf.math.in_top_k(tf.constant([0, 2]), tf.constant([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5]]), 1))
predictions = net(features[:3])
for i, logits in enumerate(predictions):
    class_idx = tf.math.argmax(logits).numpy()
    p = tf.nn.softmax(logits)[class_idx]
    print("Example {} prediction: {} ({:4.1f}%)".format(i, class_idx, 100 * p))
