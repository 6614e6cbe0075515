"""One-process tf.distribute against real TF 2.21: MirroredStrategy on the CPU (one replica,
as TF's), OneDeviceStrategy, the default strategy and the contexts; run, reduce, gather,
local results, all_reduce, merge_call, distributed datasets, InputContext, ReduceOp,
PerReplica's text, the cluster resolvers and TF_CONFIG, and Keras training under a scope."""
import contextlib
import json

import numpy as np
import pytest

import tapeflow as tf
from tests.parity import assert_same


def _strategies(realtf):
    return tf.distribute.MirroredStrategy(), realtf.distribute.MirroredStrategy()


def test_mirrored_strategy_on_cpu_has_one_replica(realtf):
    ours, theirs = _strategies(realtf)
    assert ours.num_replicas_in_sync == theirs.num_replicas_in_sync == 1
    assert ours.extended.worker_devices == theirs.extended.worker_devices
    assert ours.extended.should_checkpoint == theirs.extended.should_checkpoint
    assert ours.extended.experimental_between_graph == \
        theirs.extended.experimental_between_graph
    assert ours.cluster_resolver is theirs.cluster_resolver is None


@pytest.mark.parametrize("lib", ["ours", "theirs"])
def test_contexts(realtf, lib):
    t = tf if lib == "ours" else realtf
    s = t.distribute.MirroredStrategy()
    seen = {"outside": (t.distribute.has_strategy(), t.distribute.in_cross_replica_context(),
                        t.distribute.get_replica_context() is not None)}
    with s.scope():
        seen["scope"] = (t.distribute.has_strategy(), t.distribute.in_cross_replica_context(),
                         t.distribute.get_replica_context() is None,
                         t.distribute.get_strategy() is s)

        def fn():
            ctx = t.distribute.get_replica_context()
            return (t.distribute.in_cross_replica_context(), int(ctx.replica_id_in_sync_group),
                    ctx.num_replicas_in_sync, ctx.strategy is s,
                    ctx.merge_call(lambda st, v: (t.distribute.in_cross_replica_context(), v),
                                   args=(5,)))
        seen["run"] = s.run(fn)
    seen["default run"] = t.distribute.get_strategy().run(t.distribute.has_strategy)
    seen["run has strategy"] = s.run(t.distribute.has_strategy)
    with t.distribute.get_strategy().scope():
        seen["default scope"] = (t.distribute.has_strategy(),
                                 t.distribute.in_cross_replica_context())
    expected = {"outside": (False, False, True), "scope": (True, True, True, True),
                "run": (False, 0, 1, True, (True, 5)), "default run": False,
                "run has strategy": True, "default scope": (False, False)}
    assert seen == expected


def test_mixing_strategies_and_reduce_in_replica_context_fail_as_tf(realtf):
    for t in (tf, realtf):
        a, b = t.distribute.MirroredStrategy(), t.distribute.MirroredStrategy()
        with a.scope():
            with pytest.raises(RuntimeError, match="Mixing different tf.distribute.Strategy"):
                b.scope().__enter__()
        with pytest.raises(RuntimeError, match="Method requires being in cross-replica "
                                               "context, use get_replica_context"):
            a.run(lambda: a.reduce("SUM", t.constant(1.0), axis=None))
        with pytest.raises(ValueError, match="'PROD' is not a valid ReduceOp"):
            a.reduce("PROD", t.constant(1.0), axis=None)


CASES = [
    ("SUM", [1.0, 2.0], None), ("sum", [1.0, 2.0], None), ("MEAN", [1.0, 2.0], 0),
    ("SUM", [[1.0, 2.0], [3.0, 4.0]], 1), ("MEAN", [1, 2], 0), ("MEAN", [1, 2], None),
    ("SUM", [3, 4], 0), ("MEAN", 2.5, None),
]


@pytest.mark.parametrize("op,value,axis", CASES)
def test_reduce(realtf, op, value, axis):
    ours, theirs = _strategies(realtf)
    r_ours = ours.run(lambda: tf.identity(tf.constant(value)))
    r_theirs = theirs.run(lambda: realtf.identity(realtf.constant(value)))
    assert_same(ours.reduce(op, r_ours, axis), theirs.reduce(op, r_theirs, axis))


@pytest.mark.parametrize("reduce_op", ["SUM", "MEAN"])
def test_all_reduce_and_gather_of_structures(realtf, reduce_op):
    ours, theirs = _strategies(realtf)

    def run(t, s):
        def fn(x):
            ctx = t.distribute.get_replica_context()
            return ctx.all_reduce(reduce_op, {"a": x * 2.0, "b": [x[0] + 1.0]}), \
                ctx.all_gather(x, axis=0)
        return s.run(fn, args=(t.constant([1.0, 2.0]),))
    (red_o, gat_o), (red_t, gat_t) = run(tf, ours), run(realtf, theirs)
    assert_same(red_o["a"], red_t["a"])
    assert_same(red_o["b"][0], red_t["b"][0])
    assert_same(gat_o, gat_t)
    assert_same(ours.gather(gat_o, axis=0), theirs.gather(gat_t, axis=0))
    assert len(ours.experimental_local_results(gat_o)) == 1
    assert_same(ours.experimental_local_results(gat_o)[0],
                theirs.experimental_local_results(gat_t)[0])


def test_run_inside_tf_function_with_optimizer(realtf):
    def train(t):
        s = t.distribute.MirroredStrategy()
        with s.scope():
            w = t.Variable([[0.5], [-0.5]])
            opt = t.keras.optimizers.SGD(0.1)

        @t.function
        def step(x, y):
            def fn(x, y):
                with t.GradientTape() as tape:
                    loss = t.nn.compute_average_loss(t.reduce_sum((x @ w - y) ** 2, 1))
                opt.apply_gradients([(tape.gradient(loss, w), w)])
                return loss
            return s.reduce("SUM", s.run(fn, args=(x, y)), axis=None)
        x = np.array([[1.0, 2.0], [3.0, 1.0]], "float32")
        y = np.array([[1.0], [2.0]], "float32")
        losses = [step(t.constant(x), t.constant(y)) for _ in range(3)]
        return losses, w
    (lo, wo), (lt, wt) = train(tf), train(realtf)
    assert_same(lo, lt)
    assert_same(wo.value(), wt.value())


def test_experimental_distribute_dataset_and_from_function(realtf):
    ours, theirs = _strategies(realtf)
    for s, t in ((ours, tf), (theirs, realtf)):
        got = [b.numpy().tolist() for b in
               s.experimental_distribute_dataset(t.data.Dataset.range(10).batch(4))]
        assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
        contexts = []

        def fn(ctx):
            contexts.append((ctx.num_input_pipelines, ctx.input_pipeline_id,
                             ctx.num_replicas_in_sync, ctx.get_per_replica_batch_size(8)))
            return t.data.Dataset.range(4).batch(2)
        got = [b.numpy().tolist() for b in s.distribute_datasets_from_function(fn)]
        assert got == [[0, 1], [2, 3]] and contexts == [(1, 0, 1, 8)]
    it = iter(ours.experimental_distribute_dataset(tf.data.Dataset.range(2).batch(2)))
    assert it.get_next().numpy().tolist() == [0, 1]
    with pytest.raises(tf.errors.OutOfRangeError):
        it.get_next()


def test_input_context_and_reduce_op(realtf):
    for t in (tf, realtf):
        ctx = t.distribute.InputContext(2, 1, 4)
        assert str(ctx) == "tf.distribute.InputContext(input pipeline id 1, total: 2)"
        assert str(t.distribute.InputContext()) == \
            "tf.distribute.InputContext(input pipeline id 0, total: 1)"
        assert ctx.get_per_replica_batch_size(8) == 2
        with pytest.raises(ValueError, match="The `global_batch_size` 7 is not divisible by "
                                             "`num_replicas_in_sync` 4 $"):
            ctx.get_per_replica_batch_size(7)
    assert str(tf.distribute.ReduceOp.SUM) == str(realtf.distribute.ReduceOp.SUM)
    assert repr(tf.distribute.ReduceOp.MEAN) == repr(realtf.distribute.ReduceOp.MEAN)
    assert tf.distribute.ReduceOp.from_variable_aggregation(tf.VariableAggregation.MEAN) is \
        tf.distribute.ReduceOp.MEAN


def test_per_replica_text_as_tf(realtf):
    from tensorflow.python.distribute import values as tf_values

    from tapeflow.distribute_lib import PerReplica
    ours = PerReplica((tf.constant(0), tf.constant([1.0, 2.0])))
    theirs = tf_values.PerReplica((realtf.constant(0), realtf.constant([1.0, 2.0])))
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)


def test_one_device_strategy(realtf):
    for t in (tf, realtf):
        s = t.distribute.OneDeviceStrategy("/cpu:0")
        with s.scope():
            v = t.Variable(2.0)
        assert s.num_replicas_in_sync == 1
        assert v.device.endswith("CPU:0")
        assert float(s.reduce("SUM", s.run(lambda: v * 3.0), axis=None)) == 6.0


def test_mirrored_strategy_refuses_several_devices():
    with pytest.raises(NotImplementedError, match="one replica per process"):
        tf.distribute.MirroredStrategy(["/cpu:0", "/gpu:0"])
    with pytest.raises(ValueError, match="empty `devices`"):
        tf.distribute.MirroredStrategy([])


def test_cluster_resolvers_and_cluster_spec(realtf, monkeypatch):
    config = {"cluster": {"worker": ["127.0.0.1:1111", "127.0.0.1:2222"],
                          "chief": ["127.0.0.1:3333"]}, "task": {"type": "worker", "index": 1}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    for t in (tf, realtf):
        r = t.distribute.cluster_resolver.TFConfigClusterResolver()
        spec = r.cluster_spec()
        assert (r.task_type, r.task_id, r.rpc_layer, r.master()) == \
            ("worker", 1, None, "127.0.0.1:2222")
        assert repr(spec) == ("ClusterSpec({'chief': ['127.0.0.1:3333'], 'worker': "
                              "['127.0.0.1:1111', '127.0.0.1:2222']})")
        assert spec.as_dict() == config["cluster"] and set(spec.jobs) == {"worker", "chief"}
        assert (spec.num_tasks("worker"), spec.task_indices("worker"),
                spec.task_address("worker", 0)) == (2, [0, 1], "127.0.0.1:1111")
        simple = t.distribute.cluster_resolver.SimpleClusterResolver(
            t.train.ClusterSpec({"worker": ["a:1", "b:2"]}), task_type="worker", task_id=1)
        assert (simple.task_type, simple.task_id, simple.master()) == ("worker", 1, "")
        assert not t.train.ClusterSpec({})
    from tapeflow.distribute.cluster import ranked_tasks
    tasks, me = ranked_tasks(tf.distribute.cluster_resolver.TFConfigClusterResolver())
    assert [t.name for t in tasks] == ["/job:chief/replica:0/task:0",
                                       "/job:worker/replica:0/task:0",
                                       "/job:worker/replica:0/task:1"]
    assert me.rank == 2 and me.address == "127.0.0.1:2222"


def test_multi_worker_strategy_without_a_cluster_is_local(realtf, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    ours = tf.distribute.MultiWorkerMirroredStrategy()
    theirs = realtf.distribute.MultiWorkerMirroredStrategy()
    assert ours.num_replicas_in_sync == theirs.num_replicas_in_sync == 1
    assert ours.extended.worker_devices == theirs.extended.worker_devices
    assert ours.extended.experimental_between_graph is True
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=3)
    assert str(options) == str(realtf.distribute.experimental.CommunicationOptions(
        timeout_seconds=3))


def test_bad_tf_config_is_named(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2"]},
                                                "task": {"type": "worker", "index": 5}}))
    with pytest.raises(ValueError, match=r"This task \('worker', index 5\) is not in the "
                                         "cluster"):
        tf.distribute.MultiWorkerMirroredStrategy()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"ps": ["a:1"], "worker": ["b:2"]},
                                                "task": {"type": "worker", "index": 0}}))
    with pytest.raises(ValueError, match=r"supports the jobs 'chief', 'worker'.*\['ps'\]"):
        tf.distribute.MultiWorkerMirroredStrategy()


def _fit(t, strategy):
    t.keras.utils.set_random_seed(1)
    x = np.random.RandomState(0).randn(24, 3).astype("float32")
    y = (x.sum(1, keepdims=True) > 0).astype("float32")
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = t.keras.Sequential([t.keras.Input((3,)), t.keras.layers.Dense(4, "relu"),
                                    t.keras.layers.Dense(1, "sigmoid")])
        model.compile(optimizer=t.keras.optimizers.SGD(0.1), loss="binary_crossentropy",
                      metrics=["accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return history.history, model.get_weights(), model.evaluate(x, y, verbose=0)


def test_keras_fit_under_mirrored_strategy_is_fit_without(realtf):
    plain, mirrored = _fit(tf, None), _fit(tf, tf.distribute.MirroredStrategy())
    assert plain[0] == mirrored[0]
    for a, b in zip(plain[1], mirrored[1]):
        np.testing.assert_array_equal(a, b)
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    assert model.distribute_strategy is tf.distribute.get_strategy()
    s = tf.distribute.MirroredStrategy()
    with s.scope():
        model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    assert model.distribute_strategy is s
