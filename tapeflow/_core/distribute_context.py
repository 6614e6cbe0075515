"""Which `tf.distribute` strategy is current, and whether code runs in a replica's context.

This module owns that state: a stack per thread of `(strategy, replica_context)` entries.
`strategy.scope()` pushes `(strategy, None)`, the cross-replica context; `strategy.run`
pushes `(strategy, its replica context)` while the replica function runs. An empty stack means
the default strategy, whose replica context is always current. It sits in the core so that
ops (`tf.nn.compute_average_loss`), variables (mirrored on creation) and Keras (loss scaling,
gradient all-reduce) can ask without importing `tapeflow.distribute`, which sits above Keras;
the strategy objects themselves are duck-typed here (`num_replicas_in_sync`,
`_variable_created`).
"""
import threading


class _State(threading.local):
    def __init__(self):
        self.stack = []


_state = _State()


def push(strategy, replica_context=None):
    _state.stack.append((strategy, replica_context))


def pop():
    _state.stack.pop()


def current_strategy():
    """The strategy of the innermost scope or replica function, or None (the default)."""
    stack = _state.stack
    return stack[-1][0] if stack else None


def current_replica_context():
    """The replica context of the innermost `strategy.run`; None in a cross-replica context
    and also when no strategy is active (the caller then means the default replica context)."""
    stack = _state.stack
    return stack[-1][1] if stack else None


def in_cross_replica_context():
    """Inside `strategy.scope()` but outside `strategy.run` (TF's definition: False when no
    strategy is active)."""
    stack = _state.stack
    return bool(stack) and stack[-1][1] is None


def num_replicas_in_sync():
    strategy = current_strategy()
    return 1 if strategy is None else strategy.num_replicas_in_sync


def variable_created(variable):
    """Called by every new `tf.Variable`: the current strategy makes it a mirrored variable
    (the chief's initial value on every worker)."""
    stack = _state.stack
    if stack:
        stack[-1][0]._variable_created(variable)
