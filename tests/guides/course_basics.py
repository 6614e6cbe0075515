"""In the style of classic TensorFlow courses (the first weeks of "Introduction to TensorFlow
for AI, ML and DL"): a one-neuron regression, a callback that stops training, a small CNN."""
import numpy as np
import tensorflow as tf

xs = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], dtype=float)
ys = np.array([-3.0, -1.0, 1.0, 3.0, 5.0, 7.0], dtype=float)
model = tf.keras.Sequential([tf.keras.Input(shape=(1,)),
                             tf.keras.layers.Dense(units=1, kernel_initializer="zeros")])
model.compile(optimizer='sgd', loss='mean_squared_error')
model.fit(xs, ys, epochs=50, verbose=0)
print(np.round(model.predict(np.array([10.0]), verbose=0), 2))
print([np.round(w, 2) for w in model.get_weights()])


class myCallback(tf.keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs={}):
        if logs.get('accuracy') is not None and logs.get('accuracy') > 0.6:
            print("\nReached 60% accuracy so cancelling training!")
            self.model.stop_training = True


rng = np.random.RandomState(0)
training_images = rng.randint(0, 256, size=(200, 28, 28)).astype("uint8")
training_labels = (training_images[:, :14].mean(axis=(1, 2)) > 127.5).astype("uint8")
training_images = training_images / 255.0
print(training_images.dtype, training_labels.dtype, training_images.shape)
callbacks = myCallback()
model = tf.keras.models.Sequential([
    tf.keras.layers.Input(shape=(28, 28)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(16, activation=tf.nn.relu, kernel_initializer="ones"),
    tf.keras.layers.Dense(10, activation=tf.nn.softmax, kernel_initializer="zeros")])
model.compile(optimizer=tf.keras.optimizers.Adam(), loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])
history = model.fit(training_images, training_labels, epochs=20, callbacks=[callbacks],
                    verbose=0, shuffle=False)
print(len(history.history['loss']), sorted(history.history))
classifications = model.predict(training_images[:2], verbose=0)
print(classifications.shape, np.round(classifications.sum(axis=1), 4))
print(np.argmax(classifications, axis=1).shape)

model = tf.keras.models.Sequential([
    tf.keras.layers.Input(shape=(28, 28, 1)),
    tf.keras.layers.Conv2D(8, (3, 3), activation='relu'),
    tf.keras.layers.MaxPooling2D(2, 2),
    tf.keras.layers.Conv2D(8, (3, 3), activation='relu'),
    tf.keras.layers.MaxPooling2D(2, 2),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(16, activation='relu'),
    tf.keras.layers.Dense(10, activation='softmax')
])
model.summary()
print([layer.output.shape for layer in model.layers])
activation_model = tf.keras.models.Model(inputs=model.inputs,
                                         outputs=[layer.output for layer in model.layers])
outs = activation_model.predict(training_images[:1].reshape(1, 28, 28, 1), verbose=0)
print([o.shape for o in outs])
print(tf.keras.utils.to_categorical([0, 2, 1], num_classes=3))
