"""In the style of the Keras guide "Writing your own callbacks": every hook with the keys of
its logs, per-batch and per-epoch logs as Python floats, early stopping at the minimum loss
with weights restored, a learning-rate schedule set from a callback, `self.params`,
`self.model`, and callbacks with `steps_per_execution`, validation and `initial_epoch`."""
import numpy as np
import tensorflow as tf
from tensorflow import keras

rng = np.random.RandomState(1)
x_train = rng.uniform(size=(200, 6)).astype("float32")
y_train = (x_train @ np.arange(1.0, 7.0, dtype="float32")[:, None] / 6).astype("float32")
x_test, y_test = x_train[:50], y_train[:50]


def get_model():
    model = keras.Sequential([keras.Input(shape=(6,)),
                              keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
                  loss="mean_squared_error", metrics=["mean_absolute_error"])
    return model


class CustomCallback(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        print("Starting training; got log keys: {}".format(list(logs.keys())))

    def on_train_end(self, logs=None):
        print("Stop training; got log keys: {}".format(list(logs.keys())))

    def on_epoch_begin(self, epoch, logs=None):
        print("Start epoch {} of training; got log keys: {}".format(epoch, list(logs.keys())))

    def on_epoch_end(self, epoch, logs=None):
        print("End epoch {} of training; got log keys: {}".format(epoch, list(logs.keys())))

    def on_test_begin(self, logs=None):
        print("Start testing; got log keys: {}".format(list(logs.keys())))

    def on_test_end(self, logs=None):
        print("Stop testing; got log keys: {}".format(list(logs.keys())))

    def on_predict_begin(self, logs=None):
        print("Start predicting; got log keys: {}".format(list(logs.keys())))

    def on_predict_end(self, logs=None):
        print("Stop predicting; got log keys: {}".format(list(logs.keys())))

    def on_train_batch_begin(self, batch, logs=None):
        print("...Training: start of batch {}; got log keys: {}".format(batch, list(logs.keys())))

    def on_train_batch_end(self, batch, logs=None):
        print("...Training: end of batch {}; got log keys: {}".format(batch, list(logs.keys())))

    def on_test_batch_begin(self, batch, logs=None):
        print("...Evaluating: start of batch {}; got log keys: {}".format(batch,
                                                                          list(logs.keys())))

    def on_test_batch_end(self, batch, logs=None):
        print("...Evaluating: end of batch {}; got log keys: {}".format(batch, list(logs.keys())))

    def on_predict_batch_begin(self, batch, logs=None):
        print("...Predicting: start of batch {}; got log keys: {}".format(batch,
                                                                          list(logs.keys())))

    def on_predict_batch_end(self, batch, logs=None):
        print("...Predicting: end of batch {}; got log keys: {}".format(batch, list(logs.keys())))


model = get_model()
model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0, validation_split=0.5,
          callbacks=[CustomCallback()])
res = model.evaluate(x_test, y_test, batch_size=32, verbose=0, callbacks=[CustomCallback()])
res = model.predict(x_test, batch_size=32, verbose=0, callbacks=[CustomCallback()])


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        print("Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

    def on_test_batch_end(self, batch, logs=None):
        print("Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        print("The average loss for epoch {} is {:7.2f} and mean absolute error is {:7.2f}."
              .format(epoch, logs["loss"], logs["mean_absolute_error"]))


model = get_model()
model.fit(x_train, y_train, batch_size=64, epochs=2, verbose=0,
          callbacks=[LossAndErrorPrintingCallback()], shuffle=False)
res = model.evaluate(x_test, y_test, batch_size=16, verbose=0,
                     callbacks=[LossAndErrorPrintingCallback()])


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    """Stop training when the loss is at its min, i.e. the loss stops decreasing."""

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                print("Restoring model weights from the end of the best epoch.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


model = get_model()
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.9), loss="mean_squared_error",
              metrics=["mean_absolute_error"])
history = model.fit(x_train, y_train, batch_size=64, steps_per_epoch=2, epochs=30, verbose=0,
                    callbacks=[LossAndErrorPrintingCallback(), EarlyStoppingAtMinLoss()],
                    shuffle=False)
print(len(history.epoch), round(float(model.evaluate(x_test, y_test, verbose=0)[0]), 1))


class CustomLearningRateScheduler(keras.callbacks.Callback):
    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        lr = self.model.optimizer.learning_rate
        scheduled_lr = self.schedule(epoch, lr)
        self.model.optimizer.learning_rate = scheduled_lr
        print(f"Epoch {epoch}: Learning rate is {float(np.array(scheduled_lr))}.")


LR_SCHEDULE = [(1, 0.05), (2, 0.01), (4, 0.005)]


def lr_schedule(epoch, lr):
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


model = get_model()
history = model.fit(x_train, y_train, batch_size=64, epochs=5, verbose=0, shuffle=False,
                    callbacks=[CustomLearningRateScheduler(lr_schedule)])
print([round(v, 4) for v in history.history["loss"]])


class ParamsAndModel(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        print("params:", sorted(self.params.items()), self.model is model)

    def on_train_batch_end(self, batch, logs=None):
        print("batch", batch, type(logs["loss"]).__name__, sorted(logs))
        if batch >= 3:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        print("epoch", epoch, {k: round(v, 3) for k, v in sorted(logs.items())})


model = get_model()
model.fit(x_train, y_train, batch_size=20, epochs=3, verbose=0, shuffle=False,
          callbacks=[ParamsAndModel()], validation_data=(x_test, y_test))
model.compile(optimizer="sgd", loss="mse", steps_per_execution=3)
model.fit(x_train, y_train, batch_size=32, epochs=3, initial_epoch=2, verbose=0,
          shuffle=False, callbacks=[ParamsAndModel()])
batches = []
model.fit(x_train, y_train, batch_size=50, epochs=1, verbose=0, shuffle=False,
          callbacks=[keras.callbacks.LambdaCallback(
              on_batch_end=lambda batch, logs: batches.append(batch))])
print("lambda:", batches)
