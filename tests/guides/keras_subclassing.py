"""In the style of the Keras guide "Making new layers and models via subclassing": layers with
weights made in build(), layers that add losses and hold metrics, a `training` argument, an
endpoint layer taking the targets (compiled without a loss), get_config/from_config, and the
end-to-end variational autoencoder trained with fit."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

const = keras.initializers.Constant
rng = np.random.RandomState(3)


def rounded(history):
    return {k: [round(float(v), 4) for v in vs] for k, vs in sorted(history.items())}


class Linear(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer=const(0.1), trainable=True, name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True,
                                 name="b")

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


layer = Linear(4, name="linear")
print(layer.built, layer(tf.ones((2, 3))).numpy().tolist(), layer.built)
print([w.name for w in layer.weights], [tuple(w.shape) for w in layer.weights])
config = layer.get_config()
print(config["units"], config["name"])
clone = Linear.from_config(config)
print(clone.units, clone.name, clone.built)


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = Linear(8)
        self.linear_2 = Linear(4)
        self.linear_3 = Linear(1)

    def call(self, inputs):
        x = tf.nn.relu(self.linear_1(inputs))
        x = tf.nn.relu(self.linear_2(x))
        return self.linear_3(x)


mlp = MLPBlock()
y = mlp(tf.ones(shape=(3, 5)))
print("weights:", len(mlp.weights), "trainable:", len(mlp.trainable_weights),
      np.round(y.numpy(), 4).tolist())


class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * tf.reduce_sum(inputs))
        return inputs


class OuterLayer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)
        self.dense = layers.Dense(2, kernel_initializer=const(0.2),
                                  kernel_regularizer=keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(self.activity_reg(inputs))


layer = OuterLayer()
_ = layer(tf.ones((1, 3)))
print(len(layer.losses), [round(float(l), 5) for l in layer.losses])
_ = layer(tf.ones((1, 3)) * 2)
print(len(layer.losses), [round(float(l), 5) for l in layer.losses])


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs, training=None):
        if training:
            return inputs * 0.0
        return inputs


class DropoutModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1, kernel_initializer="ones")
        self.dropout = CustomDropout(0.5)

    def call(self, inputs, training=None):
        return self.dropout(self.dense(inputs))


model = DropoutModel()
print(model(tf.ones((1, 2)), training=True).numpy().tolist(),
      model(tf.ones((1, 2))).numpy().tolist())


class LogisticEndpoint(keras.layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        self.accuracy_fn = keras.metrics.BinaryAccuracy(name="endpoint_accuracy")

    def call(self, logits, targets=None, sample_weight=None):
        if targets is not None:
            self.add_loss(self.loss_fn(targets, logits, sample_weight))
            self.accuracy_fn.update_state(targets, tf.nn.sigmoid(logits), sample_weight)
        return tf.nn.softmax(logits)


layer = LogisticEndpoint()
y = layer(tf.ones((3, 3)), tf.ones((3, 3)))
print("layer.losses:", [round(float(l), 4) for l in layer.losses])
inputs = keras.Input(shape=(3,), name="inputs")
targets = keras.Input(shape=(4,), name="targets")
logits = keras.layers.Dense(4, kernel_initializer=const(0.3))(inputs)
predictions = LogisticEndpoint(name="predictions")(logits, targets)
model = keras.Model(inputs=[inputs, targets], outputs=predictions)
model.compile(optimizer=keras.optimizers.Adam(0.01))
data = {"inputs": rng.random_sample((12, 3)),
        "targets": (rng.random_sample((12, 4)) > 0.5).astype("float32")}
history = model.fit(data, epochs=3, batch_size=4, verbose=0, shuffle=False)
print("endpoint:", rounded(history.history), model.metrics_names)


# -- the end-to-end variational autoencoder ----------------------------------------------------
class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z (here with a fixed epsilon, for a reproducible
    program)."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = tf.ones_like(z_mean) * 0.1
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    def __init__(self, latent_dim=2, intermediate_dim=8, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu",
                                       kernel_initializer=const(0.05))
        self.dense_mean = layers.Dense(latent_dim, kernel_initializer=const(0.1))
        self.dense_log_var = layers.Dense(latent_dim, kernel_initializer=const(-0.1))
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        return z_mean, z_log_var, self.sampling((z_mean, z_log_var))


class Decoder(layers.Layer):
    def __init__(self, original_dim, intermediate_dim=8, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu",
                                       kernel_initializer=const(0.1))
        self.dense_output = layers.Dense(original_dim, activation="sigmoid",
                                         kernel_initializer=const(0.05))

    def call(self, inputs):
        return self.dense_output(self.dense_proj(inputs))


class VariationalAutoEncoder(keras.Model):
    def __init__(self, original_dim, intermediate_dim=8, latent_dim=2, name="autoencoder",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        kl_loss = -0.5 * tf.reduce_mean(z_log_var - tf.square(z_mean) - tf.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed


original_dim = 12
x_train = rng.random_sample((60, original_dim)).astype("float32")
vae = VariationalAutoEncoder(original_dim, 8, 2)
optimizer = keras.optimizers.Adam(learning_rate=1e-2)
mse_loss_fn = keras.losses.MeanSquaredError()
loss_metric = keras.metrics.Mean()
train_dataset = tf.data.Dataset.from_tensor_slices(x_train).batch(20)
for epoch in range(2):
    for step, x_batch_train in enumerate(train_dataset):
        with tf.GradientTape() as tape:
            reconstructed = vae(x_batch_train)
            loss = mse_loss_fn(x_batch_train, reconstructed)
            loss += sum(vae.losses)
        grads = tape.gradient(loss, vae.trainable_weights)
        optimizer.apply_gradients(zip(grads, vae.trainable_weights))
        loss_metric(loss)
    print("epoch %d: mean loss = %.4f" % (epoch, float(loss_metric.result())))

vae = VariationalAutoEncoder(original_dim, 8, 2)
vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
            loss=keras.losses.MeanSquaredError())
history = vae.fit(x_train, x_train, epochs=2, batch_size=20, verbose=0, shuffle=False)
print("vae fit:", rounded(history.history))
print(len(vae.losses), vae.predict(x_train[:3], verbose=0).shape,
      [layer.name for layer in vae.layers])
