"""In the style of the Keras guide "Training & evaluation with the built-in methods"."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

rng = np.random.RandomState(0)
x_train = rng.uniform(size=(300, 16)).astype("float32")
y_train = (x_train[:, :8].sum(axis=1) > 4).astype("int32") + (x_train[:, 8:].sum(axis=1) > 4)
x_val, y_val = x_train[-60:], y_train[-60:]
x_train, y_train = x_train[:-60], y_train[:-60]


def get_uncompiled_model():
    inputs = keras.Input(shape=(16,), name="digits")
    x = layers.Dense(8, activation="relu", name="dense_1",
                     kernel_initializer=keras.initializers.Constant(0.05))(inputs)
    x = layers.Dense(8, activation="relu", name="dense_2",
                     kernel_initializer=keras.initializers.Constant(0.02))(x)
    outputs = layers.Dense(3, activation="softmax", name="predictions",
                           kernel_initializer=keras.initializers.Constant(0.01))(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    return model


def rounded(history):
    return {k: [round(float(v), 3) for v in vs] for k, vs in sorted(history.items())}


model = get_compiled_model()
history = model.fit(x_train, y_train, batch_size=64, epochs=2, verbose=0,
                    validation_data=(x_val, y_val), shuffle=False)
print(rounded(history.history))
results = model.evaluate(x_val, y_val, batch_size=128, verbose=0)
print("test loss, test acc:", [round(r, 3) for r in results])
predictions = model.predict(x_val[:3], verbose=0)
print("predictions shape:", predictions.shape, predictions.dtype)

model = get_uncompiled_model()
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
              metrics=["sparse_categorical_accuracy"])
history = model.fit(x_train, y_train, batch_size=64, epochs=1, validation_split=0.2,
                    verbose=0, shuffle=False)
print(rounded(history.history))


class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = tf.math.reduce_mean(tf.square(y_true - y_pred), axis=-1)
        reg = tf.math.reduce_mean(tf.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = tf.reshape(tf.argmax(y_pred, axis=1), shape=(-1, 1))
        values = tf.cast(y_true, "int32") == tf.cast(y_pred, "int32")
        values = tf.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = tf.cast(sample_weight, "float32")
            values = tf.multiply(values, sample_weight)
        self.true_positives.assign_add(tf.reduce_sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


model = get_uncompiled_model()
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(),
              metrics=[CategoricalTruePositives()])
history = model.fit(x_train, y_train.reshape(-1, 1), batch_size=64, epochs=2, verbose=0,
                    shuffle=False)
print(rounded(history.history))

model = get_uncompiled_model()
y_onehot = tf.one_hot(y_train, depth=3)
model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
history = model.fit(x_train, y_onehot, batch_size=64, epochs=1, verbose=0, shuffle=False)
print(rounded(history.history))


class ActivityRegularizationLayer(layers.Layer):
    def call(self, inputs):
        self.add_loss(tf.reduce_sum(inputs) * 0.1)
        return inputs


inputs = keras.Input(shape=(16,), name="digits")
x = layers.Dense(8, activation="relu", name="dense_1",
                 kernel_initializer=keras.initializers.Constant(0.05))(inputs)
x = ActivityRegularizationLayer()(x)
outputs = layers.Dense(3, name="predictions",
                       kernel_initializer=keras.initializers.Constant(0.01))(x)
model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
history = model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0, shuffle=False)
print(rounded(history.history))

train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(64)
val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(64)
model = get_compiled_model()
history = model.fit(train_dataset, epochs=2, validation_data=val_dataset, verbose=0)
print(rounded(history.history))
history = model.fit(train_dataset.repeat(), epochs=1, steps_per_epoch=2, verbose=0)
print(rounded(history.history))
print({k: round(v, 3) for k, v in model.evaluate(val_dataset, verbose=0,
                                                  return_dict=True).items()})

class_weight = {0: 1.0, 1: 2.0, 2: 0.5}
model = get_compiled_model()
history = model.fit(x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1,
                    verbose=0, shuffle=False)
print(rounded(history.history))
sample_weight = np.ones(shape=(len(y_train),))
sample_weight[y_train == 2] = 3.0
model = get_compiled_model()
history = model.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1,
                    verbose=0, shuffle=False)
print(rounded(history.history))

image_input = keras.Input(shape=(8, 8, 3), name="img_input")
timeseries_input = keras.Input(shape=(None, 4), name="ts_input")
x1 = layers.Conv2D(3, 3, kernel_initializer=keras.initializers.Constant(0.01))(image_input)
x1 = layers.GlobalMaxPooling2D()(x1)
x2 = layers.Conv1D(3, 3, kernel_initializer=keras.initializers.Constant(0.01))(timeseries_input)
x2 = layers.GlobalMaxPooling1D()(x2)
x = layers.concatenate([x1, x2])
score_output = layers.Dense(1, name="score_output")(x)
class_output = layers.Dense(5, name="class_output")(x)
model = keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])
model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
              loss={"score_output": keras.losses.MeanSquaredError(),
                    "class_output": keras.losses.CategoricalCrossentropy()},
              loss_weights={"score_output": 2.0, "class_output": 1.0})
img_data = rng.random_sample(size=(20, 8, 8, 3)).astype("float32")
ts_data = rng.random_sample(size=(20, 6, 4)).astype("float32")
score_targets = rng.random_sample(size=(20, 1)).astype("float32")
class_targets = rng.random_sample(size=(20, 5)).astype("float32")
history = model.fit({"img_input": img_data, "ts_input": ts_data},
                    {"score_output": score_targets, "class_output": class_targets},
                    batch_size=10, epochs=1, verbose=0, shuffle=False)
print(sorted(history.history))


class LossHistory(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.per_batch_losses = []

    def on_batch_end(self, batch, logs=None):
        self.per_batch_losses.append(logs.get("loss"))


model = get_compiled_model()
cb = LossHistory()
callbacks = [cb, keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=1,
                                               verbose=0)]
history = model.fit(x_train, y_train, epochs=20, batch_size=64, callbacks=callbacks,
                    validation_split=0.2, verbose=0, shuffle=False)
print(len(history.history["loss"]), len(cb.per_batch_losses))
initial_learning_rate = 0.1
lr_schedule = keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate, decay_steps=100000, decay_rate=0.96, staircase=True)
optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
print(round(float(lr_schedule(100000)), 5))
