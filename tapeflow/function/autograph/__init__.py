"""AutoGraph: `tf.function` converts Python control flow on tensors into graph control flow.

A function is converted from its source (conversion.py: lowering.py, analysis.py and
transformer.py rewrite its AST) into code that calls operators.py for every `if`, `while`,
`for`, conditional expression and logical operator, and `converted_call` for every call, so
the functions it calls are converted too. This module is the public surface:
`tf.autograph.to_graph`/`to_code`, `experimental.do_not_convert`/`set_loop_options`/`Feature`,
and the hooks tf.function and Keras use.
"""
import functools

from tapeflow.function.autograph import conversion, errors
from tapeflow.function.autograph.conversion import (ConversionError, ConversionOptions,  # noqa: F401
                                                    Feature)
from tapeflow.function.autograph.errors import AutoGraphError, StagingError  # noqa: F401
from tapeflow.function.autograph.operators import StagingNotImplemented  # noqa: F401


def _artifact(wrapper):
    wrapper.__ag_artifact__ = True
    return wrapper


def to_graph(entity, recursive=True, experimental_optional_features=None):
    """`tf.autograph.to_graph`: the converted function (usable eagerly or in a tf.function);
    a method converts to a function taking `self` first."""
    try:
        fn, _ = conversion.unwrap_function(entity)
        converted = conversion.convert(fn, ConversionOptions(recursive,
                                                             experimental_optional_features))
    except (ValueError, AttributeError, KeyError, NameError, AssertionError, SyntaxError,
            ConversionError, OSError) as e:
        raise ConversionError(f"converting {entity}: {type(e).__name__}: {e}") from None
    return _artifact(converted)


def to_code(entity, recursive=True, experimental_optional_features=None):
    """`tf.autograph.to_code`: the source of the converted function."""
    fn, _ = conversion.unwrap_function(entity)
    return conversion.source_of(fn, ConversionOptions(recursive,
                                                      experimental_optional_features)) + "\n"


def do_not_convert(func=None):
    """`tf.autograph.experimental.do_not_convert`: run `func` as it is, also inside converted
    code (its Python control flow then cannot depend on tensors)."""
    if func is None:
        return do_not_convert

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with conversion.status(False):
            return func(*args, **kwargs)
    return _artifact(wrapper)


def set_loop_options(parallel_iterations=None, swap_memory=None, maximum_iterations=None,
                     shape_invariants=None):
    """`tf.autograph.experimental.set_loop_options`: read by the converter where it opens a
    loop body; calling it anywhere else does nothing (as in TF)."""


def set_verbosity(level, alsologtostdout=False):
    """`tf.autograph.set_verbosity` (accepted; tapeflow's AutoGraph logs nothing)."""


def trace(*args):
    """`tf.autograph.trace`: prints its arguments (at trace time inside a tf.function)."""
    print(*args)


def for_tracing(python_function, autograph=True, optional_features=None):
    """What tf.function traces: `python_function` converted (the user's frames in any error,
    as TF shows them), or, with `autograph=False`, run with conversion off."""
    if not autograph:
        def plain(*args, **kwargs):
            with conversion.status(False):
                return python_function(*args, **kwargs)
        return plain
    options = ConversionOptions(True, optional_features)

    def converted(*args, **kwargs):
        with conversion.status(True, options):
            try:
                return conversion.converted_call(python_function, args, kwargs, options)
            except Exception as e:  # noqa: BLE001 - re-raised, with TF's message
                new = errors.rewrite(e)
                if new is e:
                    raise
                raise new from None
    return converted


def converted_method(method):
    """`method` converted when AutoGraph is on in the code calling it (Keras calls a layer's
    `call` through this, so user layers get converted as their `train_step` does)."""
    options = conversion.active_options()
    if options is None:
        return method
    fn, bound = conversion._unbound(method)
    if fn is None or not conversion.convertible(fn):
        return method
    return lambda *args, **kwargs: conversion.converted_call(method, args, kwargs, options)
