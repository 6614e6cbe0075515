"""In the style of the Keras guides "Writing a training loop from scratch" and "Customizing
what happens in fit()"."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

rng = np.random.RandomState(0)
x_all = rng.uniform(size=(256, 20)).astype("float32")
y_all = (x_all[:, :10].sum(axis=1) > 5).astype("int64") + (x_all[:, 10:].sum(axis=1) > 5)


def get_model():
    inputs = keras.Input(shape=(20,), name="digits")
    x1 = layers.Dense(16, activation="relu",
                      kernel_initializer=keras.initializers.Constant(0.05))(inputs)
    x2 = layers.Dense(16, activation="relu",
                      kernel_initializer=keras.initializers.Constant(0.02))(x1)
    outputs = layers.Dense(3, name="predictions",
                           kernel_initializer=keras.initializers.Constant(0.1))(x2)
    return keras.Model(inputs=inputs, outputs=outputs)


model = get_model()
optimizer = keras.optimizers.SGD(learning_rate=1e-3)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
batch_size = 64
train_dataset = tf.data.Dataset.from_tensor_slices((x_all[:192], y_all[:192])).batch(batch_size)
val_dataset = tf.data.Dataset.from_tensor_slices((x_all[192:], y_all[192:])).batch(batch_size)
print(train_dataset.element_spec)

epochs = 2
for epoch in range(epochs):
    print("\nStart of epoch %d" % (epoch,))
    for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
        with tf.GradientTape() as tape:
            logits = model(x_batch_train, training=True)
            loss_value = loss_fn(y_batch_train, logits)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        if step % 2 == 0:
            print("Training loss (for 1 batch) at step %d: %.4f" % (step, float(loss_value)))
            print("Seen so far: %s samples" % ((step + 1) * batch_size))

model = get_model()
optimizer = keras.optimizers.SGD(learning_rate=1e-3)
train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
val_acc_metric = keras.metrics.SparseCategoricalAccuracy()


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss_value = loss_fn(y, logits)
    grads = tape.gradient(loss_value, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))
    train_acc_metric.update_state(y, logits)
    return loss_value


@tf.function
def test_step(x, y):
    val_logits = model(x, training=False)
    val_acc_metric.update_state(y, val_logits)


for epoch in range(epochs):
    for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
        loss_value = train_step(x_batch_train, y_batch_train)
    train_acc = train_acc_metric.result()
    print("Training acc over epoch: %.4f" % (float(train_acc),))
    train_acc_metric.reset_state()
    for x_batch_val, y_batch_val in val_dataset:
        test_step(x_batch_val, y_batch_val)
    val_acc = val_acc_metric.result()
    val_acc_metric.reset_state()
    print("Validation acc: %.4f" % (float(val_acc),))
    print("loss %.4f" % float(loss_value))


class ActivityRegularizationLayer(layers.Layer):
    def call(self, inputs):
        self.add_loss(1e-2 * tf.reduce_sum(inputs))
        return inputs


inputs = keras.Input(shape=(20,), name="digits")
x = layers.Dense(8, activation="relu", kernel_initializer="ones")(inputs)
x = ActivityRegularizationLayer()(x)
outputs = layers.Dense(3, name="predictions", kernel_initializer="ones")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
with tf.GradientTape() as tape:
    logits = model(x_all[:4], training=True)
    loss_value = loss_fn(y_all[:4], logits)
    loss_value += sum(model.losses)
print(len(model.losses), round(float(loss_value), 3))


# -- customizing fit() ----------------------------------------------------------------------
mse = keras.losses.MeanSquaredError()


class CustomModel(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = mse(y, y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = mse(y, y_pred)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1, kernel_initializer="zeros")(inputs)
model = CustomModel(inputs, outputs)
model.compile(optimizer="adam")
x = rng.uniform(size=(100, 32)).astype("float32")
y = rng.uniform(size=(100, 1)).astype("float32")
history = model.fit(x, y, epochs=3, batch_size=50, verbose=0, shuffle=False)
print(sorted(history.history), [round(v, 4) for v in history.history["loss"]])
print({k: round(float(v), 4) for k, v in model.evaluate(x, y, verbose=0,
                                                         return_dict=True).items()})


class CustomModel2(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1, kernel_initializer="zeros")(inputs)
model = CustomModel2(inputs, outputs)
model.compile(optimizer="adam", loss="mse", metrics=["mae"])
history = model.fit(x, y, epochs=2, batch_size=50, verbose=0, shuffle=False)
print(sorted(history.history), [round(v, 4) for v in history.history["loss"]])
print(model.predict(x[:2], verbose=0).shape)
