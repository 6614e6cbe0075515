"""tf.function: tracing into graphs, compiled plans, control flow."""
