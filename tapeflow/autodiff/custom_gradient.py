"""`tf.custom_gradient` and `tf.recompute_grad`: functions that bring their own gradient.

A decorated function runs normally (its ops are recorded, so tensors it computes can feed the
gradient function and nested tapes see them), then its results pass through one recorded
`CustomGradient` node whose inputs are the function's arguments and the trainable variables it
read. The results the caller gets are that node's outputs, so a backward walk reaches the
function only through the node, whose gradient is the user's `grad_fn`.
"""
import functools
import inspect

from tapeflow._core import nest
from tapeflow._core import dispatch
from tapeflow._core.dispatch import pop_recorder, push_recorder
from tapeflow._core.tensor import convert_to_tensor
from tapeflow.autodiff.tape import GradientTape
from tapeflow.ops import _op

CUSTOM = _op.define("CustomGradient")


def _identity_kernel(*tensors_and_attrs):
    # attrs: (number of results, the gradient closure); the results pass through unchanged.
    n = tensors_and_attrs[-2]
    return tuple(tensors_and_attrs[:n])


@CUSTOM.gradient
def _(node, *grads):
    n, grad_fn = node.attrs
    return (None,) * n + tuple(grad_fn(*grads))


class _VariableWatcher:
    """A recorder that notes the trainable variables read while it is active."""

    def __init__(self):
        self.variables = {}

    def record_op(self, op, kernel, inputs, attrs, outputs):
        pass

    def read_variable(self, variable, tensor):
        if variable._trainable:
            self.variables.setdefault(id(variable), variable)
        return tensor

    def assign_variable(self, variable, value, kind):
        return False


def _accepts_variables(fn):
    try:
        spec = inspect.getfullargspec(fn)
    except TypeError:
        return True
    return "variables" in spec.args or "variables" in spec.kwonlyargs or spec.varkw is not None


def _call(f, args, kwargs):
    watcher = _VariableWatcher()
    push_recorder(watcher)
    try:
        result, grad_fn = f(*args, **kwargs)
    finally:
        pop_recorder(watcher)
    flat_args = nest.flatten(args)
    all_inputs = flat_args + nest.flatten(kwargs)
    variables = [v for v in watcher.variables.values() if all(v is not a for a in all_inputs)]
    if variables and not _accepts_variables(grad_fn):
        raise TypeError("@tf.custom_gradient grad_fn must accept keyword argument 'variables', "
                        f"since function uses variables: {variables}")
    flat_result = [convert_to_tensor(r) for r in nest.flatten(result)]
    # grad_fn closes over the symbolic tensors of a trace: a tape outside it must see Python
    dispatch.base_interpreter().note_python_only("tf.custom_gradient")
    if not dispatch.recording():
        return nest.pack_sequence_as(result, flat_result)
    arg_count = len(flat_args)

    def node_grad(*result_grads):
        if variables:
            input_grads, variable_grads = grad_fn(*result_grads, variables=variables)
            if len(variable_grads) != len(variables):
                raise ValueError("Must return gradient for each variable from @custom_gradient "
                                 "grad_fn.")
        else:
            input_grads = grad_fn(*result_grads)
            variable_grads = []
        flat_grads = nest.flatten(input_grads)
        if len(flat_grads) != arg_count:
            raise ValueError(f"custom_gradient function expected to return {arg_count} "
                             f"gradients, but returned {len(flat_grads)} instead.")
        return [None if g is None else convert_to_tensor(g) for g in flat_grads] + \
            [None if g is None else convert_to_tensor(g) for g in variable_grads]

    # Reading the variables here records the reads, so their gradients reach the variables.
    inputs = tuple(flat_result) + tuple(convert_to_tensor(a) for a in flat_args) + \
        tuple(v.value() for v in variables)
    outputs = _op.execute(CUSTOM, _identity_kernel, inputs, (len(flat_result), node_grad))
    return nest.pack_sequence_as(result, list(outputs))


def custom_gradient(f=None):
    """Decorator: `f(*args)` returns `(y, grad_fn)`; the gradient of `y` is `grad_fn(dy)`.

    When `f` reads trainable variables, `grad_fn(dy, variables=...)` returns
    `(input_grads, variable_grads)`.

    Example:
    >>> @tf.custom_gradient
    ... def log1pexp(x):
    ...     e = tf.exp(x)
    ...     def grad(upstream):
    ...         return upstream * (1 - 1 / (1 + e))
    ...     return tf.math.log(1 + e), grad
    """
    if f is None:
        return custom_gradient
    return _CustomGradientFunction(f)


class _CustomGradientFunction:
    """The decorated function; as a method, `self` is bound rather than differentiated."""

    def __init__(self, f, instance=None):
        functools.update_wrapper(self, f)
        self._f = f
        self._instance = instance

    def __call__(self, *args, **kwargs):
        f = self._f if self._instance is None else functools.partial(self._f, self._instance)
        return _call(f, args, kwargs)

    def __get__(self, instance, owner=None):
        return self if instance is None else _CustomGradientFunction(self._f, instance)


class _StopAllTapes:
    """Pauses every active recorder that records ops (TF's `record.stop_recording()`)."""

    def __enter__(self):
        self._scope = dispatch.without_recorders(lambda r: isinstance(r, GradientTape))
        self._scope.__enter__()
        return self

    def __exit__(self, *exc):
        return self._scope.__exit__(*exc)


def recompute_grad(f):
    """Wraps `f` so the tape keeps only its inputs; its activations are recomputed when the
    gradient is needed (tape checkpointing, to save memory)."""
    @custom_gradient
    def inner(*args, **kwargs):
        with _StopAllTapes():
            result = f(*args, **kwargs)

        def grad(*dresult, variables=None):
            with GradientTape() as t:
                t.watch(args)
                if variables:
                    t.watch(variables)
                recomputed = f(*args, **kwargs)
            sources = list(args) + list(variables or [])
            grads = t.gradient(recomputed, sources, output_gradients=list(dresult),
                               unconnected_gradients="zero")
            return grads[:len(args)], grads[len(args):]
        return result, grad

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return inner(*args, **kwargs)
    wrapper.__wrapped__ = f
    return wrapper
