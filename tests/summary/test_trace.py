"""trace_on/trace_export/trace_off and tf.summary.graph: TensorBoard's own Graphs plugin finds
the tf.function graphs in tapeflow's event files and renders them."""
import logging

import pytest

import tapeflow as tf
from tests.summary.events import event_files, raw_events

graphs_plugin = pytest.importorskip("tensorboard.plugins.graph.graphs_plugin")


def _graphs_plugin(logdir):
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, logdir)
    plugin = graphs_plugin.GraphsPlugin(base_plugin.TBContext(data_provider=provider,
                                                              logdir=logdir, multiplexer=mux))
    return plugin, context.RequestContext()


def _nodes(pbtxt):
    from google.protobuf import text_format
    from tensorboard.compat.proto import graph_pb2
    graph = text_format.Parse(pbtxt, graph_pb2.GraphDef())
    return [(n.name, n.op, list(n.input)) for n in graph.node]


def test_trace_export_shows_in_the_graphs_tab(tmp_path):
    v = tf.Variable([1.0, 2.0])

    @tf.function
    def before(x):
        return x + 1.0

    @tf.function
    def step(x, y):
        v.assign_add(tf.reduce_sum(x, axis=0))
        return tf.nn.relu(tf.matmul(x, y) + v[0]), tf.shape(x)

    before(tf.ones([2]))  # traced before trace_on: not collected, as in TF
    writer = tf.summary.create_file_writer(str(tmp_path))
    tf.summary.trace_on(graph=True)
    before(tf.ones([2]))
    step(tf.ones([2, 2]), tf.ones([2, 2]))
    with writer.as_default():
        tf.summary.trace_export("my_trace", step=3)
    writer.close()
    plugin, ctx = _graphs_plugin(str(tmp_path))
    info = plugin.info_impl(ctx, experiment="")
    assert info["."]["tags"]["my_trace"]["op_graph"]
    body, _ = plugin.graph_impl(ctx, ".", "my_trace", is_conceptual=False, experiment="")
    nodes = _nodes(body)
    assert nodes[:2] == [("x", "_Arg", []), ("y", "_Arg", [])]
    ops = [op for _, op, _ in nodes]
    for op in ("VarHandleOp", "ReadVariableOp", "Sum", "AssignVariableOp", "MatMul",
               "AddV2", "Relu", "_Retval"):
        assert op in ops
    assert ("MatMul", "MatMul", ["x", "y"]) in nodes
    assert [n for n in nodes if n[1] == "_Retval"][0][2] == ["Relu"]
    assert "before" not in body and ops.count("_Retval") == 2  # one graph, two outputs
    (event,) = [e for e in raw_events(event_files(str(tmp_path))[0]) if e.summary.value]
    assert event.step == 3


def test_trace_state_follows_tf(realtf, caplog):
    for lib in (tf, realtf):
        with pytest.raises(ValueError, match="Must enable trace before export"):
            lib.summary.trace_export("x", step=0)
        lib.summary.trace_on()
        lib.summary.trace_export("no writer", step=0)  # writes nothing, ends the trace
        with pytest.raises(ValueError, match="Must enable trace before export"):
            lib.summary.trace_export("x", step=0)
        lib.summary.trace_on()
        lib.summary.trace_off()
        with pytest.raises(ValueError, match="Must enable trace before export"):
            lib.summary.trace_export("x", step=0)
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        tf.summary.trace_on()
        tf.summary.trace_on()
        tf.summary.trace_off()
    assert "Trace already enabled" in caplog.text


def test_summary_graph_of_a_concrete_function(realtf, tmp_path):
    @tf.function
    def f(x):
        return x ** 2.0 + 1.0

    concrete = f.get_concrete_function(tf.TensorSpec([3], tf.float32))
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        assert tf.summary.graph(concrete.graph).numpy()
        with pytest.raises(ValueError, match="is not tf.Graph or tf.compat.v1.GraphDef"):
            tf.summary.graph(3)
    assert not tf.summary.graph(concrete.graph).numpy()  # no default writer
    writer.close()
    plugin, ctx = _graphs_plugin(str(tmp_path))
    assert plugin.info_impl(ctx, experiment="")["."]["run_graph"]
    body, _ = plugin.graph_impl(ctx, ".", None, is_conceptual=False, experiment="")
    assert [op for _, op, _ in _nodes(body)] == ["_Arg", "Const", "Pow", "Const", "AddV2"]
