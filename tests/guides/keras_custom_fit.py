"""In the style of the Keras guide "Customizing what happens in fit()": train_step, test_step
and predict_step overrides in the TF 2.x style (compiled_loss, compiled_metrics) and in the
Keras 3 style (compute_loss, self.metrics, trackers in a metrics property), sample weights,
compute_loss/compute_metrics/get_metrics_result/reset_metrics overrides, fit(x) without
targets (an autoencoder), and a GAN-like model with its own compile."""
import warnings

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

warnings.simplefilter("ignore")  # the TF 2.x names warn that they are deprecated
rng = np.random.RandomState(0)
x = rng.uniform(size=(96, 8)).astype("float32")
y = (x @ rng.uniform(size=(8, 1))).astype("float32")
sw = rng.uniform(0.5, 1.5, size=(96,)).astype("float32")


def rounded(history):
    return {k: [round(float(v), 4) for v in vs] for k, vs in sorted(history.items())}


def logs(d):
    return {k: round(float(v), 4) for k, v in sorted(d.items())}


def dense_model(cls, units=1):
    inputs = keras.Input(shape=(8,))
    outputs = layers.Dense(units, kernel_initializer=keras.initializers.Constant(0.1))(inputs)
    return cls(inputs, outputs)


# -- the TF 2.x way: self.compiled_loss and self.compiled_metrics ---------------------------------
class TF2Model(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


model = dense_model(TF2Model)
model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, shuffle=False)
print("tf2 style:", rounded(history.history))
print([m.name for m in model.metrics])


# -- the Keras 3 way: compute_loss and self.metrics ------------------------------------------------
class CustomModel(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


model = dense_model(CustomModel)
model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, shuffle=False)
print("keras 3 style:", rounded(history.history))
print(logs(model.evaluate(x, y, verbose=0, return_dict=True)))

# -- going lower level: trackers listed in a `metrics` property ------------------------------------
mse = keras.losses.MeanSquaredError()
loss_tracker = keras.metrics.Mean(name="loss")
mae_metric = keras.metrics.MeanAbsoluteError(name="mae")


class LowLevelModel(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = mse(y, y_pred)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        loss_tracker.update_state(loss)
        mae_metric.update_state(y, y_pred)
        return {"loss": loss_tracker.result(), "mae": mae_metric.result()}

    @property
    def metrics(self):
        return [loss_tracker, mae_metric]


model = dense_model(LowLevelModel)
model.compile(optimizer=keras.optimizers.Adam(0.01))
history = model.fit(x, y, epochs=4, batch_size=32, verbose=0, shuffle=False)
print("low level:", rounded(history.history))


# -- sample_weight and class_weight ----------------------------------------------------------------
class WeightedModel(keras.Model):
    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


model = dense_model(WeightedModel)
model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
history = model.fit(x, y, sample_weight=sw, epochs=2, batch_size=32, verbose=0, shuffle=False)
print("sample weights:", rounded(history.history))
labels = (y[:, 0] > np.median(y)).astype("int32")
model = dense_model(WeightedModel, units=2)
model.compile(optimizer=keras.optimizers.SGD(0.05),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
history = model.fit(x, labels, class_weight={0: 1.0, 1: 3.0}, epochs=2, batch_size=32,
                    verbose=0, shuffle=False)
print("class weights:", rounded(history.history))


# -- test_step and predict_step --------------------------------------------------------------------
class EvalModel(keras.Model):
    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name != "loss":
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    def predict_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        return {"value": self(x, training=False), "doubled": 2.0 * self(x, training=False)}


model = dense_model(EvalModel)
model.compile(loss="mse", metrics=["mae"])
print("test_step:", logs(model.evaluate(x, y, verbose=0, return_dict=True)))
out = model.predict(x, batch_size=40, verbose=0)
print("predict_step:", sorted(out), out["value"].shape, round(float(out["doubled"][3, 0]), 4))


# -- compute_loss, compute_metrics, get_metrics_result, reset_metrics overrides --------------------
class LossOverride(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_tracker = keras.metrics.Mean(name="custom_loss")
        self.resets = 0

    def compute_loss(self, x, y, y_pred, sample_weight, training=True):
        loss = tf.reduce_mean(tf.abs(y_pred - y)) + tf.reduce_sum(self.losses)
        self.custom_tracker.update_state(loss)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight):
        results = super().compute_metrics(x, y, y_pred, sample_weight)
        results["max_error"] = tf.reduce_max(tf.abs(y_pred - y))
        return results

    def reset_metrics(self):
        self.resets += 1
        super().reset_metrics()


inputs = keras.Input(shape=(8,))
outputs = layers.Dense(1, kernel_initializer=keras.initializers.Constant(0.1),
                       kernel_regularizer=keras.regularizers.L2(0.01))(inputs)
model = LossOverride(inputs, outputs)
model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mse"])
history = model.fit(x, y, epochs=2, batch_size=32, verbose=0, shuffle=False,
                    validation_data=(x[:32], y[:32]))
print("overrides:", rounded(history.history), model.resets)
print(model.metrics_names)


class ResultOverride(keras.Model):
    def get_metrics_result(self):
        results = super().get_metrics_result()
        return {k: v * 100.0 for k, v in results.items()}


model = dense_model(ResultOverride)
model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
print("get_metrics_result:", rounded(model.fit(x, y, epochs=1, batch_size=32, verbose=0,
                                               shuffle=False).history))


# -- fit(x) without targets: an autoencoder with its own train_step --------------------------------
class AutoEncoder(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = layers.Dense(3, activation="relu",
                                    kernel_initializer=keras.initializers.Constant(0.2))
        self.decoder = layers.Dense(8, kernel_initializer=keras.initializers.Constant(0.3))
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")

    @property
    def metrics(self):
        return [self.reconstruction_tracker]

    def call(self, inputs):
        return self.decoder(self.encoder(inputs))

    def train_step(self, data):
        with tf.GradientTape() as tape:
            reconstruction = self(data)
            loss = tf.reduce_mean(tf.reduce_sum(tf.square(data - reconstruction), axis=1))
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.reconstruction_tracker.update_state(loss)
        return {"reconstruction_loss": self.reconstruction_tracker.result()}


ae = AutoEncoder()
ae.compile(optimizer=keras.optimizers.Adam(0.01))
history = ae.fit(x, epochs=3, batch_size=32, verbose=0, shuffle=False)
print("autoencoder:", rounded(history.history))
history = ae.fit(tf.data.Dataset.from_tensor_slices(x).batch(48), epochs=1, verbose=0)
print("autoencoder on a dataset:", rounded(history.history))
print(ae.predict(x[:5], verbose=0).shape)


# -- a GAN-like model: its own compile, two optimizers, two trackers -------------------------------
class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real_images):
        if isinstance(real_images, tuple):
            real_images = real_images[0]
        batch_size = tf.shape(real_images)[0]
        latent = tf.ones((batch_size, self.latent_dim)) * 0.5
        generated = self.generator(latent)
        combined = tf.concat([generated, real_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        misleading_labels = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(latent))
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


discriminator = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(
    1, kernel_initializer=keras.initializers.Constant(0.1))], name="discriminator")
generator = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(
    8, kernel_initializer=keras.initializers.Constant(0.2))], name="generator")
gan = GAN(discriminator=discriminator, generator=generator, latent_dim=4)
gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=0.001),
            g_optimizer=keras.optimizers.Adam(learning_rate=0.001),
            loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
dataset = tf.data.Dataset.from_tensor_slices(x).batch(32)
history = gan.fit(dataset, epochs=2, verbose=0)
print("gan:", rounded(history.history))
print([m.name for m in gan.metrics], len(gan.trainable_weights))
