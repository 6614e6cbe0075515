"""The workloads: each builds its contenders. Code shared by tapeflow and TensorFlow is written
once against the `tf` module it receives, since tapeflow's API is TensorFlow's."""
import subprocess
import sys
import time

import numpy as np

from bench.harness import Missing, Workload
from bench.tape_loop import gradient_tape_loop, torch_loop


DEVICE = "cpu"  # where the PyTorch contenders put their tensors (set by all_workloads)


def _tapeflow():
    import tapeflow
    return tapeflow


def _tensorflow():
    import tensorflow
    return tensorflow


def _torch():
    import torch
    return torch


def _need(module, *names):
    for name in names:
        obj = module
        for part in name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                raise Missing(f"tapeflow has no {name} yet")


# -- eager dispatch ---------------------------------------------------------------------------

def eager_add():
    def tf_like(get):
        def setup():
            tf = get()
            a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
            return lambda: tf.add(a, a)
        return setup

    def torch_setup():
        torch = _torch()
        a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=DEVICE)
        return lambda: torch.add(a, a)
    return Workload("eager_add", "tf.add on 2x2 float32, eager", "op",
                    {"tapeflow": tf_like(_tapeflow), "TensorFlow": tf_like(_tensorflow),
                     "PyTorch": torch_setup}, number=20000, quick_number=5000, display="us")


def eager_matmul():
    rng = np.random.default_rng(0)
    a_np = rng.random((256, 256), dtype=np.float32)

    def tf_like(get):
        def setup():
            tf = get()
            a = tf.constant(a_np)
            return lambda: tf.matmul(a, a)
        return setup

    def torch_setup():
        torch = _torch()
        a = torch.from_numpy(a_np.copy())
        return lambda: torch.matmul(a, a)
    return Workload("eager_matmul", "tf.matmul 256x256 float32, eager", "op",
                    {"tapeflow": tf_like(_tapeflow), "TensorFlow": tf_like(_tensorflow),
                     "PyTorch": torch_setup}, number=500, quick_number=100, display="us")


def import_time():
    def setup_for(module):
        def setup():
            __import__(module)  # reports Missing via ImportError when absent

            def step():
                subprocess.run([sys.executable, "-c", f"import {module}"], check=True,
                               capture_output=True)
            return step
        return setup
    return Workload("import", "`import X` in a fresh interpreter (includes interpreter start)",
                    "import", {"tapeflow": setup_for("tapeflow"),
                               "TensorFlow": setup_for("tensorflow"),
                               "PyTorch": setup_for("torch")},
                    repeats=5, quick_repeats=2, display="s")


# -- autodiff and tf.function -------------------------------------------------------------------

def tape_loop(steps=500):
    def tf_like(get):
        def setup():
            tf = get()
            return lambda: gradient_tape_loop(tf, steps)
        return setup

    def torch_setup():
        torch = _torch()
        return lambda: torch_loop(torch, steps)
    return Workload("tape_loop", f"seed loop: SGD on (x - 4)**2, {steps} steps, a tape per step",
                    f"loop of {steps} steps",
                    {"tapeflow": tf_like(_tapeflow), "TensorFlow": tf_like(_tensorflow),
                     "PyTorch": torch_setup}, repeats=7, quick_repeats=3)


def function_loop(steps=500):
    """Gradient descent on x**2 - 4x + 4, the step eager and wrapped in tf.function."""
    def make(get, traced):
        def setup():
            tf = get()
            x = tf.Variable(0.0)

            def step():
                with tf.GradientTape() as tape:
                    y = x * x - 4.0 * x + 4.0
                x.assign_sub(0.01 * tape.gradient(y, x))
            fn = tf.function(step) if traced else step

            def loop():
                for _ in range(steps):
                    fn()
            return loop
        return setup

    def torch_setup():
        torch = _torch()
        x = torch.zeros((), requires_grad=True)

        def loop():
            for _ in range(steps):
                y = x * x - 4.0 * x + 4.0
                y.backward()
                with torch.no_grad():
                    x.sub_(0.01 * x.grad)
                x.grad = None
        return loop
    return Workload("function_loop", f"seed loop x**2 - 4x + 4, {steps} steps, eager vs tf.function",
                    f"loop of {steps} steps",
                    {"tapeflow eager": make(_tapeflow, False),
                     "tapeflow function": make(_tapeflow, True),
                     "TF eager": make(_tensorflow, False), "TF function": make(_tensorflow, True),
                     "PyTorch": torch_setup}, repeats=7, quick_repeats=3)


def mlp_step(batch=128):
    """One SGD step of the 784-512-10 MLP written with raw ops, eager and in tf.function."""
    rng = np.random.default_rng(0)
    x_np = rng.random((batch, 784), dtype=np.float32)
    y_np = rng.integers(0, 10, batch).astype(np.int32)
    w1_np = (rng.standard_normal((784, 512)) * 0.05).astype(np.float32)
    w2_np = (rng.standard_normal((512, 10)) * 0.05).astype(np.float32)

    def make(get, traced):
        def setup():
            tf = get()
            x, y = tf.constant(x_np), tf.constant(y_np)
            w1, b1 = tf.Variable(w1_np), tf.Variable(np.zeros(512, np.float32))
            w2, b2 = tf.Variable(w2_np), tf.Variable(np.zeros(10, np.float32))
            params = [w1, b1, w2, b2]

            def step():
                with tf.GradientTape() as tape:
                    h = tf.nn.relu(tf.matmul(x, w1) + b1)
                    logits = tf.matmul(h, w2) + b2
                    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                        labels=y, logits=logits))
                for p, g in zip(params, tape.gradient(loss, params)):
                    p.assign_sub(0.1 * g)
                return loss
            return tf.function(step) if traced else step
        return setup

    def torch_setup():
        torch = _torch()
        x = torch.from_numpy(x_np.copy()).to(DEVICE)
        y = torch.from_numpy(y_np.astype(np.int64)).to(DEVICE)
        params = [torch.tensor(w1_np, device=DEVICE, requires_grad=True),
                  torch.zeros(512, device=DEVICE, requires_grad=True),
                  torch.tensor(w2_np, device=DEVICE, requires_grad=True),
                  torch.zeros(10, device=DEVICE, requires_grad=True)]

        def step():
            w1, b1, w2, b2 = params
            logits = torch.relu(x @ w1 + b1) @ w2 + b2
            loss = torch.nn.functional.cross_entropy(logits, y)
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p.sub_(0.1 * p.grad)
                    p.grad = None
            return loss
        return step
    return Workload("mlp_step", f"MLP 784-512-10 train step, batch {batch}, raw ops + SGD",
                    "step", {"tapeflow eager": make(_tapeflow, False),
                             "tapeflow function": make(_tapeflow, True),
                             "TF eager": make(_tensorflow, False),
                             "TF function": make(_tensorflow, True), "PyTorch": torch_setup},
                    number=20, quick_number=5, repeats=7, quick_repeats=3)


# -- Keras-level ----------------------------------------------------------------------------------

def _seed_model(keras, jit_compile=False):
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=jit_compile)
    return model


def mlp_fit_epoch(quick_samples=10000):
    from bench.data import fashion_mnist, synthetic
    holder = {}

    def data(quick):
        if "xy" not in holder:
            holder["xy"] = fashion_mnist() or synthetic(60000)
        x, y = holder["xy"]
        return (x[:quick_samples], y[:quick_samples]) if quick else (x, y)

    def make(get_keras, quick):
        def setup():
            keras = get_keras()
            _need(keras, "Sequential", "layers.Dense")
            x, y = data(quick)
            model = _seed_model(keras)
            return lambda: model.fit(x, y, batch_size=128, epochs=1, verbose=0)
        return setup

    def torch_setup(quick):
        def setup():
            torch = _torch()
            x_np, y_np = data(quick)
            x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
            model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                        torch.nn.Linear(512, 10))
            opt = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)

            def epoch():
                perm = torch.randperm(len(x))
                for i in range(0, len(x), 128):
                    idx = perm[i:i + 128]
                    loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            return epoch
        return setup

    def workload(quick):
        n = quick_samples if quick else 60000
        return Workload("mlp_fit_epoch", f"seed model fit, {n} Fashion-MNIST images, batch 128",
                        "epoch", {"tapeflow": make(lambda: _tapeflow().keras, quick),
                                  "Keras 3 (TF)": make(lambda: _tensorflow().keras, quick),
                                  "PyTorch": torch_setup(quick)},
                        repeats=3, quick_repeats=2, display="s")
    return workload


def mlp_fit_jit(quick_samples=5000):
    """examples/mnist_mlp.py's epoch with compile(jit_compile=True) next to the plain plan:
    torch.compile (Inductor) in tapeflow, XLA in Keras 3 on TF. The warm-up epoch pays the
    compilation; the figure is an epoch after it."""
    from bench.data import fashion_mnist, synthetic
    holder = {}

    def data(quick):
        if "xy" not in holder:
            holder["xy"] = fashion_mnist() or synthetic(60000)
        x, y = holder["xy"]
        return (x[:quick_samples], y[:quick_samples]) if quick else (x, y)

    def make(get_keras, jit_compile, quick):
        def setup():
            keras = get_keras()
            x, y = data(quick)
            model = _seed_model(keras, jit_compile)
            return lambda: model.fit(x, y, batch_size=128, epochs=1, verbose=0)
        return setup

    def workload(quick):
        n = quick_samples if quick else 60000
        return Workload("mlp_fit_jit", f"seed model fit, {n} images, batch 128: plain plan vs "
                        "jit_compile=True", "epoch",
                        {"tapeflow": make(lambda: _tapeflow().keras, False, quick),
                         "tapeflow jit": make(lambda: _tapeflow().keras, True, quick),
                         "Keras 3 (TF)": make(lambda: _tensorflow().keras, False, quick),
                         "Keras 3 (TF) XLA": make(lambda: _tensorflow().keras, True, quick)},
                        repeats=3, quick_repeats=1, display="s")
    return workload


def cnn_step(batch=128):
    def make(get_keras):
        def setup():
            keras = get_keras()
            _need(keras, "layers.Conv2D", "layers.MaxPooling2D")
            L = keras.layers
            model = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"),
                                      L.MaxPooling2D(), L.Conv2D(64, 3, activation="relu"),
                                      L.MaxPooling2D(), L.Flatten(), L.Dropout(0.5),
                                      L.Dense(10, activation="softmax")])
            model.compile("adam", "sparse_categorical_crossentropy")
            rng = np.random.default_rng(0)
            x = rng.random((batch, 28, 28, 1), dtype=np.float32)
            y = rng.integers(0, 10, batch)
            return lambda: model.train_on_batch(x, y)
        return setup
    return Workload("cnn_step", f"small CNN train step (Conv32-pool-Conv64-pool-Dense), batch {batch}",
                    "step", {"tapeflow": make(lambda: _tapeflow().keras),
                             "Keras 3 (TF)": make(lambda: _tensorflow().keras)},
                    number=5, quick_number=2, repeats=5, quick_repeats=2)


def lstm_step(batch=128):
    def make(get_keras):
        def setup():
            keras = get_keras()
            _need(keras, "layers.LSTM")
            model = keras.Sequential([keras.Input((28, 28)), keras.layers.LSTM(128),
                                      keras.layers.Dense(10, activation="softmax")])
            model.compile("adam", "sparse_categorical_crossentropy")
            rng = np.random.default_rng(0)
            x = rng.random((batch, 28, 28), dtype=np.float32)
            y = rng.integers(0, 10, batch)
            return lambda: model.train_on_batch(x, y)
        return setup
    return Workload("lstm_step", f"LSTM(128) over 28 steps of 28 features, train step, batch {batch}",
                    "step", {"tapeflow": make(lambda: _tapeflow().keras),
                             "Keras 3 (TF)": make(lambda: _tensorflow().keras)},
                    number=5, quick_number=2, repeats=5, quick_repeats=2)


def optimizer_step(name="Adam"):
    """One eager optimizer update of the seed model's variables (784x512, 512, 512x10, 10):
    tapeflow's fused op, tapeflow's per-variable loop (Keras's update_step op by op), Keras 3
    on TensorFlow, PyTorch's foreach optimizer. `python -m bench.optimizers` has every
    optimizer."""
    shapes = [(784, 512), (512,), (512, 10), (10,)]
    rng = np.random.default_rng(0)
    init = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in shapes]
    grads_np = [(rng.standard_normal(s) * 1e-3).astype(np.float32) for s in shapes]

    def make(get, loop=False):
        def setup():
            tf = get()
            if loop:
                from bench.optimizer_loops import loop_optimizer
                opt = loop_optimizer(name)
            else:
                opt = getattr(tf.keras.optimizers, name)()
            variables = [tf.Variable(w) for w in init]
            grads = [tf.constant(g) for g in grads_np]
            return lambda: opt.apply_gradients(zip(grads, variables))
        return setup

    def torch_setup():
        torch = _torch()
        params = [torch.tensor(w, device=DEVICE) for w in init]
        for p, g in zip(params, grads_np):
            p.grad = torch.tensor(g, device=DEVICE)
        opt = getattr(torch.optim, name)(params, lr=0.001, eps=1e-7, foreach=True)
        return opt.step
    return Workload("optimizer_step", f"{name} update of the seed model's variables, eager",
                    "step", {"tapeflow fused": make(_tapeflow),
                             "tapeflow loop": make(_tapeflow, loop=True),
                             "Keras 3 (TF)": make(_tensorflow), "PyTorch": torch_setup},
                    number=50, quick_number=10, repeats=7, quick_repeats=3)


def autograph_rnn(batch=64, steps=28, width=64):
    """A hand-written RNN train step: AutoGraph turns `for t in tf.range(steps)` (a TensorArray
    of states) into a graph loop, differentiated inside the tf.function."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((steps, batch, width)).astype(np.float32)
    w_np = (rng.standard_normal((width, width)) * 0.1).astype(np.float32)

    def make(get, traced):
        def setup():
            tf = get()
            x = tf.constant(x_np)
            w = tf.Variable(w_np)

            def train_step():
                with tf.GradientTape() as tape:
                    states = tf.TensorArray(tf.float32, size=steps)
                    h = tf.zeros([batch, width])
                    for t in tf.range(steps):
                        h = tf.tanh(tf.matmul(x[t] + h, w))
                        states = states.write(t, h)
                    loss = tf.reduce_mean(states.stack() ** 2)
                w.assign_sub(0.01 * tape.gradient(loss, w))
                return loss
            fn = tf.function(train_step) if traced else train_step
            fn()
            return fn
        return setup
    return Workload("autograph_rnn", f"RNN train step, `for t in tf.range({steps})` + TensorArray "
                    f"in tf.function (AutoGraph), batch {batch}, width {width}", "step",
                    {"tapeflow function": make(_tapeflow, True),
                     "tapeflow eager": make(_tapeflow, False),
                     "TF function": make(_tensorflow, True)},
                    number=10, quick_number=2, repeats=5, quick_repeats=2)


def data_pipeline(samples=20000):
    """fit from a tf.data pipeline with a Python-side map and prefetch vs from arrays."""
    from bench.data import fashion_mnist, synthetic

    def make(get, from_dataset):
        def setup():
            tf = get()
            _need(tf, "data.Dataset", "keras.Sequential")
            x, y = fashion_mnist(samples) or synthetic(samples)
            raw = (x * 255).astype(np.uint8)
            model = _seed_model(tf.keras)
            if not from_dataset:
                return lambda: model.fit(x, y, batch_size=128, epochs=1, verbose=0)
            ds = (tf.data.Dataset.from_tensor_slices((raw, y)).shuffle(samples).batch(128)
                  .map(lambda a, b: (tf.cast(a, tf.float32) / 255.0, b))
                  .prefetch(tf.data.AUTOTUNE))
            return lambda: model.fit(ds, epochs=1, verbose=0)
        return setup
    return Workload("data_pipeline", f"fit epoch, {samples} images: arrays vs tf.data "
                    "(shuffle, batch, map uint8->float, prefetch)", "epoch",
                    {"tapeflow arrays": make(_tapeflow, False),
                     "tapeflow dataset": make(_tapeflow, True),
                     "TF arrays": make(_tensorflow, False),
                     "TF dataset": make(_tensorflow, True)},
                    repeats=3, quick_repeats=2, display="s")


# -- GPU rows (python -m bench --device cuda) ---------------------------------------------------

def bf16_mlp_step(width=4096, depth=4, batch=1024, device="cuda"):
    """A large bfloat16 MLP training step: tapeflow's tf.function step against the same step
    in raw PyTorch (its throughput is the reference; the ratio is the fraction of it we reach).
    TensorFlow is absent: the test extra installs tensorflow-cpu."""
    rng = np.random.default_rng(0)

    def tapeflow_setup():
        tf = _tapeflow()
        with tf.device("/GPU:0" if device == "cuda" else "/CPU:0"):
            x = tf.cast(tf.constant(rng.standard_normal((batch, width), dtype=np.float32)),
                        tf.bfloat16)
            ws = [tf.Variable(tf.cast(tf.constant(
                (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)),
                tf.bfloat16)) for _ in range(depth)]

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                h = x
                for w in ws:
                    h = tf.nn.relu(tf.matmul(h, w))
                loss = tf.reduce_mean(tf.cast(h, tf.float32) ** 2)
            for w, g in zip(ws, tape.gradient(loss, ws)):
                w.assign_sub(tf.cast(0.01, tf.bfloat16) * g)
            return loss
        return lambda: step().numpy()

    def torch_setup():
        torch = _torch()
        x = torch.from_numpy(rng.standard_normal((batch, width), dtype=np.float32)).to(
            device, torch.bfloat16)
        ws = [torch.from_numpy((rng.standard_normal((width, width)) / np.sqrt(width)).astype(
            np.float32)).to(device, torch.bfloat16).requires_grad_() for _ in range(depth)]

        def step():
            h = x
            for w in ws:
                h = torch.relu(h @ w)
            loss = (h.float() ** 2).mean()
            loss.backward()
            with torch.no_grad():
                for w in ws:
                    w.sub_(0.01 * w.grad)
                    w.grad = None
            return loss.item()
        return step
    return Workload("bf16_mlp_step", f"bf16 MLP {depth}x{width}, batch {batch}, train step on "
                    f"{device}", "step", {"tapeflow function": tapeflow_setup,
                                          "PyTorch": torch_setup},
                    number=10, quick_number=3, repeats=7, quick_repeats=3)


def summary_scalars(calls=100):
    """tf.summary.scalar to a file writer: eagerly, and inside a tf.function training step
    (TF's tensorboard-backed ops against tapeflow's WriteSummary op)."""
    def make(get, traced):
        def setup():
            import tempfile
            tf = get()
            writer = tf.summary.create_file_writer(tempfile.mkdtemp(prefix="bench-summary-"))
            step = tf.Variable(0, dtype=tf.int64)
            w = tf.Variable([1.0, 2.0])

            def one():
                tf.summary.scalar("loss", tf.reduce_sum(w * w), step=step)
                step.assign_add(1)
            one = tf.function(one) if traced else one

            def loop():
                with writer.as_default():
                    for _ in range(calls):
                        one()
            return loop
        return setup
    return Workload("summary_scalar", f"{calls} tf.summary.scalar calls with a variable step, "
                    "eager and in tf.function", f"{calls} summaries",
                    {"tapeflow": make(_tapeflow, False), "tapeflow function": make(_tapeflow, True),
                     "TensorFlow": make(_tensorflow, False),
                     "TensorFlow function": make(_tensorflow, True)},
                    number=3, quick_number=1, repeats=5, quick_repeats=2)


def all_workloads(quick, device="cpu"):
    global DEVICE
    DEVICE = device
    if device == "cuda":  # tapeflow places on the GPU by default there; TF here is CPU-only
        return [eager_add(), tape_loop(), function_loop(), mlp_step(), bf16_mlp_step()]
    from bench.predict import predict_workloads
    # mlp_fit_jit compiles for minutes (Inductor, XLA): full runs only, so --quick stays quick
    return [eager_add(), eager_matmul(), import_time(), tape_loop(), function_loop(),
            mlp_step(), mlp_fit_epoch()(quick)] + ([] if quick else [mlp_fit_jit()(quick)]) + \
        [data_pipeline(5000 if quick else 20000), cnn_step(), lstm_step(), optimizer_step(),
         *predict_workloads(), summary_scalars(), autograph_rnn()]
