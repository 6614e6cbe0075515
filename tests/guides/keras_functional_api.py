"""In the style of the Keras guide "The Functional API": a multi-input, multi-output model (the
ticket classifier) trained with loss lists and dicts, loss weights, per-output metrics and
sample weights; integer NumPy inputs cast to each Input's dtype; shared layers; models nested
as layers; and the outputs as a list or a dict in predict/evaluate."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

const = keras.initializers.Constant
rng = np.random.RandomState(2)
num_tags, num_words, num_departments, n = 6, 50, 3, 48


def ticket_model(outputs_as="dict"):
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 4, embeddings_initializer=const(0.02))(
        title_input)
    body_features = layers.Embedding(num_words, 4, embeddings_initializer=const(0.01))(
        body_input)
    title_features = layers.LSTM(6, kernel_initializer=const(0.1),
                                 recurrent_initializer=const(0.05))(title_features)
    body_features = layers.LSTM(3, kernel_initializer=const(0.1),
                                recurrent_initializer=const(0.05))(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority", kernel_initializer=const(0.1))(x)
    department_pred = layers.Dense(num_departments, name="department",
                                   kernel_initializer=const(0.05))(x)
    outputs = {"priority": priority_pred, "department": department_pred} \
        if outputs_as == "dict" else [priority_pred, department_pred]
    return keras.Model(inputs=[title_input, body_input, tags_input], outputs=outputs)


title_data = rng.randint(num_words, size=(n, 5))
body_data = rng.randint(num_words, size=(n, 8))
tags_data = rng.randint(2, size=(n, num_tags)).astype("float32")
priority_targets = rng.random_sample(size=(n, 1))
dept_targets = rng.randint(2, size=(n, num_departments))
inputs = {"title": title_data, "body": body_data, "tags": tags_data}


def rounded(history):
    return {k: [round(float(v), 4) for v in vs] for k, vs in sorted(history.items())}


model = ticket_model()
print([t.dtype for t in model.inputs], model.output_names)
model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
              loss={"priority": keras.losses.BinaryCrossentropy(from_logits=True),
                    "department": keras.losses.CategoricalCrossentropy(from_logits=True)},
              loss_weights={"priority": 1.0, "department": 0.2})
history = model.fit(inputs, {"priority": priority_targets, "department": dept_targets},
                    epochs=2, batch_size=16, verbose=0, shuffle=False)
print("dict losses:", rounded(history.history))
out = model.predict(inputs, batch_size=16, verbose=0)
print(sorted(out), out["priority"].shape, out["department"].dtype)

model = ticket_model(outputs_as="list")
model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
              loss=[keras.losses.BinaryCrossentropy(from_logits=True),
                    keras.losses.CategoricalCrossentropy(from_logits=True)],
              loss_weights=[1.0, 0.2],
              metrics=[["mae"], ["categorical_accuracy", "mse"]])
history = model.fit([title_data, body_data, tags_data], [priority_targets, dept_targets],
                    epochs=2, batch_size=16, verbose=0, shuffle=False, validation_split=0.25)
print("list losses:", rounded(history.history))
print(model.metrics_names)
print([round(v, 4) for v in model.evaluate([title_data, body_data, tags_data],
                                           [priority_targets, dept_targets], verbose=0)])
preds = model.predict([title_data, body_data, tags_data], verbose=0)
print(type(preds).__name__, [p.shape for p in preds])

model = ticket_model()
model.compile(optimizer=keras.optimizers.SGD(0.01),
              loss={"priority": "mse", "department": keras.losses.CategoricalCrossentropy(
                  from_logits=True)},
              metrics={"priority": ["mae"], "department": ["accuracy"]},
              weighted_metrics={"priority": ["mae"]})
weights = {"priority": rng.uniform(0.5, 2.0, size=(n,)), "department": np.ones((n,))}
history = model.fit(inputs, {"priority": priority_targets, "department": dept_targets},
                    sample_weight=weights, epochs=1, batch_size=24, verbose=0, shuffle=False)
print("per-output weights:", rounded(history.history))
history = model.fit(inputs, {"priority": priority_targets, "department": dept_targets},
                    sample_weight=rng.uniform(0.5, 2.0, size=(n,)), epochs=1, batch_size=24,
                    verbose=0, shuffle=False)
print("one weight array:", rounded(history.history))
dataset = tf.data.Dataset.from_tensor_slices(
    (inputs, {"priority": priority_targets, "department": dept_targets})).batch(16)
print("from a dataset:", rounded(model.fit(dataset, epochs=1, verbose=0).history))
print({k: round(v, 4) for k, v in model.evaluate(dataset, verbose=0, return_dict=True).items()})

# -- integer arrays into a float32 Input ---------------------------------------------------------
inputs_ = keras.Input(shape=(4,))
outputs_ = layers.Dense(2, kernel_initializer=const(0.5))(inputs_)
int_model = keras.Model(inputs_, outputs_)
int_model.compile(optimizer="sgd", loss="mse")
xi = np.arange(32).reshape(8, 4) % 5
history = int_model.fit(xi, np.ones((8, 2)), epochs=2, verbose=0, shuffle=False)
print("int inputs:", rounded(history.history), int_model.predict(xi, verbose=0).dtype)
print(int_model(xi).dtype, int_model(tf.constant(xi)).dtype)
seq = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(1, kernel_initializer="ones")])
print(seq(xi).numpy()[:3, 0].tolist())

# -- shared layers and nested models -------------------------------------------------------------
shared_embedding = layers.Embedding(10, 3, embeddings_initializer=const(0.1))
text_input_a = keras.Input(shape=(None,), dtype="int32")
text_input_b = keras.Input(shape=(None,), dtype="int32")
encoded_a = shared_embedding(text_input_a)
encoded_b = shared_embedding(text_input_b)
shared = keras.Model([text_input_a, text_input_b], layers.Add()([encoded_a, encoded_b]))
print(len(shared.weights), shared([np.ones((2, 3)), np.zeros((2, 3))]).shape)

encoder_input = keras.Input(shape=(6,), name="original")
encoder_output = layers.Dense(2, activation="relu", kernel_initializer=const(0.3))(
    encoder_input)
encoder = keras.Model(encoder_input, encoder_output, name="encoder")
decoder_input = keras.Input(shape=(2,), name="encoded")
decoder_output = layers.Dense(6, kernel_initializer=const(0.2))(decoder_input)
decoder = keras.Model(decoder_input, decoder_output, name="decoder")
autoencoder_input = keras.Input(shape=(6,), name="img")
autoencoder = keras.Model(autoencoder_input, decoder(encoder(autoencoder_input)),
                          name="autoencoder")
autoencoder.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
x6 = rng.uniform(size=(40, 6)).astype("float32")
print("nested:", rounded(autoencoder.fit(x6, x6, epochs=2, batch_size=20, verbose=0,
                                         shuffle=False).history))
print([layer.name for layer in autoencoder.layers], len(autoencoder.trainable_weights))


def get_model():
    inputs = keras.Input(shape=(6,))
    outputs = layers.Dense(1, kernel_initializer=const(0.1))(inputs)
    return keras.Model(inputs, outputs)


models = [get_model() for _ in range(3)]
ens_inputs = keras.Input(shape=(6,))
ensemble = keras.Model(ens_inputs, layers.average([m(ens_inputs) for m in models]))
print(ensemble.predict(x6[:2], verbose=0).round(4).tolist())
