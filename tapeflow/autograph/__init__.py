"""`tf.autograph`: converting Python control flow for tf.function (tapeflow/function/autograph/)."""
from tapeflow.autograph import experimental  # noqa: F401
from tapeflow.function.autograph import set_verbosity, to_code, to_graph, trace  # noqa: F401
