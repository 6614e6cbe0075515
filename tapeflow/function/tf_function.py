"""`tf.function`: trace a Python function once per input signature, then replay the plan.

A call builds a cache key from its arguments the way TF does (tensors by dtype and shape,
variables by identity, Python values by value), traces on a miss (see graph.py), and runs the
compiled plan on the tensors' torch data. Python side effects therefore happen at trace time
only. Functions that cannot be traced (data-dependent shapes, string ops) fall back to eager
execution with a warning. A call made while a GradientTape records outside the function runs
the trace op by op so the tape sees every op (or, when the trace holds a custom gradient or
graph control flow, runs the Python function eagerly).
"""
import collections
import functools
import inspect
import weakref

import numpy as np
import torch

from tapeflow._core import dispatch, dtypes, nest, threads
from tapeflow._core.logs import debug, warn
from tapeflow._core.spec import TensorSpec
from tapeflow._core.tensor import Tensor, convert_to_tensor, wrap
from tapeflow._core.variable import Variable
from tapeflow.function import autograph as autograph_lib, polymorphic
from tapeflow.function.graph import Graph, Step, Untraceable
from tapeflow.function.plan import compile_plan
from tapeflow.function.jit import jit_plan
from tapeflow.ops._op import execute

_run_eagerly = False

# Functions called with each new ConcreteFunction (tf.summary.trace_on collects the graphs
# traced while it is on: tapeflow/summary/trace.py).
trace_listeners = []


def run_functions_eagerly(run_eagerly):
    """`tf.config.run_functions_eagerly`: run every tf.function as plain Python (debugging)."""
    global _run_eagerly
    _run_eagerly = bool(run_eagerly)


def functions_run_eagerly():
    return _run_eagerly


_RETRACE_WARNING = (
    "{n} out of the last {n} calls to {fn} triggered tf.function retracing. Tracing is "
    "expensive and the excessive number of tracings could be due to (1) creating "
    "@tf.function repeatedly in a loop, (2) passing tensors with different shapes, (3) "
    "passing Python objects instead of tensors. For (1), please define your @tf.function "
    "outside of the loop. For (2), @tf.function has reduce_retracing=True option that can "
    "avoid unnecessary retracing. For (3), please refer to "
    "https://www.tensorflow.org/guide/function#controlling_retracing and "
    "https://www.tensorflow.org/api_docs/python/tf/function for  more details.")


def _key(x, tensors):
    """A hashable description of one argument; appends the tensors it holds to `tensors`."""
    t = type(x)
    if isinstance(x, Tensor):
        tensors.append(x)
        return (x._dtype, tuple(x._t.shape))
    if isinstance(x, Variable):
        return ("variable", id(x))
    if t is list or t is tuple:
        return (t, tuple(_key(e, tensors) for e in x))
    if t is dict:
        return (dict, tuple((k, _key(x[k], tensors)) for k in sorted(x, key=repr)))
    if t is np.ndarray:
        tensor = convert_to_tensor(x)
        tensors.append(tensor)
        return (tensor._dtype, tuple(tensor._t.shape))
    if nest.is_nested(x):
        return (t, tuple(_key(e, tensors) for e in nest.flatten(x)))
    if getattr(t, "_tf_composite", False):  # SparseTensor, RaggedTensor: by their parts
        return (t, x._tf_signature(), tuple(_key(c, tensors) for c in x._tf_components()))
    try:
        hash(x)
        return (t, x)
    except TypeError:
        return (t, id(x))


def _argument_names(fn, n):
    """The parameter names of the first `n` positional arguments (TF names each placeholder
    after its argument; the items of `*rest` are `rest_0`, `rest_1`, ...)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            names.extend(f"{p.name}_{i}" for i in range(n - len(names)))
            break
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
    names.extend(["args"] * (n - len(names)))
    return names[:n]


def _replace_tensors(x, make):
    """`x` with each tensor leaf (and NumPy array) replaced by `make(tensor)`."""
    if isinstance(x, Tensor):
        return make(x)
    if isinstance(x, np.ndarray):
        return make(convert_to_tensor(x))
    if nest.is_nested(x):
        return nest._rebuild(x, [_replace_tensors(c, make) for c in nest._children(x)])
    if getattr(type(x), "_tf_composite", False):  # a composite's parts become placeholders
        return x._tf_rebuild([_replace_tensors(c, make) for c in x._tf_components()])
    return x


class ConcreteFunction:
    """One trace of a `Function` for one input signature: a compiled plan."""

    def __init__(self, graph, structured_outputs, output_template, plan, signature,
                 output_slots=(), poly=False):
        self.graph = graph
        self._output_slots = output_slots
        self._poly = poly             # whether the trace serves every size of its None dims
        self._specializations = {}
        self._jit_compile = False
        self._retrace = None          # the Function's call, for sizes the trace cannot serve
        self.structured_outputs = structured_outputs
        self._template = output_template  # outputs with tensors replaced by their index
        self._plan = plan
        self.structured_input_signature = signature
        self.variables = tuple(graph.variables.values())
        self.trainable_variables = tuple(v for v in self.variables if v.trainable)
        for listener in trace_listeners:
            listener(self)

    def _specialization(self, tensors):
        """The trace for these tensors' sizes of the `None` dimensions (raises
        NotPolymorphic when the trace does not fit them)."""
        key = tuple(t._t.shape for t in tensors)
        spec = self._specializations.get(key)
        if spec is None:
            spec = polymorphic.specialize(self.graph, key, self._output_slots, compile_plan,
                                          Step)
            if self._jit_compile:
                spec.plan = _jit(spec.plan)
            self._specializations[key] = spec
        return spec

    def _call_flat(self, tensors):
        plan = self._specialization(tensors).plan if self._poly else self._plan
        outs = plan.run(*[t._t for t in tensors])
        dts = plan.out_dtypes
        results = [wrap(o, d) for o, d in zip(outs, dts)]
        return _fill(self._template, results)

    def _call_recorded(self, tensors):
        """Runs the trace op by op through `execute`, for a GradientTape recording outside
        the function: the tape sees the ops, variable reads and writes an eager call would
        show it (so gradients are the same), and Python side effects stay at trace time."""
        g = self.graph
        steps, constants = g.steps, g.constants
        if self._poly:
            spec = self._specialization(tensors)
            steps, constants = spec.steps, spec.constants
        values = dict(zip(g.inputs, tensors))
        for slot, t in constants.items():
            values[slot] = wrap(t, g.dtypes[slot])
        for s in steps:
            if s.kind == "read":
                values[s.outs[0]] = s.target.value()
            elif s.kind == "assign":
                s.target.assign(values[s.ins[0]])
            elif s.kind == "effect":
                s.kernel(*[values[i]._t for i in s.ins], *s.attrs)
            else:
                out = execute(s.op, s.kernel, [values[i] for i in s.ins], s.attrs)
                values.update(zip(s.outs, out if s.multi else (out,)))
        return _fill(self._template, [values[i] for i in self._output_slots])

    def __call__(self, *args, **kwargs):
        tensors = []
        _key((args, kwargs), tensors)
        try:
            if dispatch.recording() and self.graph.opaque_to_tapes is None:
                return self._call_recorded(tensors)
            return self._call_flat(tensors)
        except polymorphic.NotPolymorphic:
            return self._retrace(*args, **kwargs)

    @property
    def outputs(self):
        return nest.flatten(self.structured_outputs)

    def __repr__(self):
        if self._plan is None:
            return f"<ConcreteFunction ({len(self.graph.steps)} steps, any size of its None " \
                   "dimensions)>"
        return f"<ConcreteFunction ({self._plan.n_steps} kernels)>"


class _Index:
    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i


def _fill(template, results):
    if isinstance(template, _Index):
        return results[template.i]
    if template is None or not (nest.is_nested(template) or
                                getattr(type(template), "_tf_composite", False)):
        return template
    flat = nest.flatten(template, expand_composites=True)
    if not any(isinstance(f, _Index) for f in flat):
        return template
    return nest.pack_sequence_as(template, [results[f.i] if isinstance(f, _Index) else f
                                            for f in flat], expand_composites=True)


class Function:
    """A Python function compiled into graphs on first call per input signature.

    Args:
        python_function: the function to compile.
        input_signature: optional list of `tf.TensorSpec`; calls must match it.
        reduce_retracing: after a second shape of the same ranks, trace once with None for
            the dimensions that differed (see polymorphic.py).
        jit_compile: compile the plan with `torch.compile` (fused kernels).

    Example:
    >>> @tf.function
    ... def step(x):
    ...     return x * x + 1.0
    >>> step(tf.constant(2.0))   # traces, then runs the plan
    """

    def __init__(self, python_function, input_signature=None, reduce_retracing=False,
                 jit_compile=None, autograph=True, name=None,
                 experimental_autograph_options=None):
        self._python_function = python_function
        self._autograph = (autograph, experimental_autograph_options)
        self._traced_function = None  # python_function as tracing runs it (AutoGraph)
        self.input_signature = None if input_signature is None else tuple(input_signature)
        self._reduce_retracing = reduce_retracing
        self._jit_compile = jit_compile
        self._name = name or getattr(python_function, "__name__", "function")
        self._cache = {}
        self._tracing_count = 0
        self._recent = collections.deque(maxlen=5)
        self._eager_only = None   # reason, once the function proved untraceable
        # the one trace serving every size of the signature's None dimensions; False once
        # that proved impossible (then each concrete shape gets a trace)
        self._poly = None if _has_none_dims(self.input_signature) else False
        self._relaxed = {}       # reduce_retracing: ranks key -> trace with None dims
        self._seen_shapes = {}   # ranks key -> shapes so far (None where they differed)
        self._variables_created = False
        self._bound = weakref.WeakKeyDictionary()
        functools.update_wrapper(self, python_function)

    @property
    def python_function(self):
        return self._python_function

    def __get__(self, instance, owner):
        if instance is None:
            return self
        try:
            bound = self._bound.get(instance)
        except TypeError:
            bound = None
        if bound is None:
            bound = Function(self._python_function.__get__(instance, owner),
                             self.input_signature, self._reduce_retracing, self._jit_compile,
                             *self._autograph[:1], name=self._name,
                             experimental_autograph_options=self._autograph[1])
            try:
                self._bound[instance] = bound
            except TypeError:
                pass
        return bound

    def _traced(self, *args, **kwargs):
        if self._traced_function is None:
            self._traced_function = autograph_lib.for_tracing(self._python_function,
                                                              *self._autograph)
        return self._traced_function(*args, **kwargs)

    def experimental_get_tracing_count(self):
        return self._tracing_count

    def __call__(self, *args, **kwargs):
        if not dispatch.executing_eagerly():  # a nested call inside a trace: inlined
            return self._traced(*args, **kwargs)
        if _run_eagerly or self._eager_only:  # eager: debugging switch, untraceable function
            return self._python_function(*args, **kwargs)
        threads.tick()  # torch's threads follow the machine's load (every 0.5 s at most)
        if self.input_signature is not None:
            args = self._check_signature(args, kwargs)
            if self._poly is not False:
                result = self._call_polymorphic(args)
                if result is not _NO_RESULT:
                    return result
        tensors = []
        key = _key((args, kwargs), tensors) if args or kwargs else _NO_ARGUMENTS
        concrete = self._cache.get(key)
        if concrete is None and self._reduce_retracing and tensors:
            result = self._call_relaxed(args, kwargs, key, tensors)
            if result is not _NO_RESULT:
                return result
        self._recent.append(concrete is None)
        if concrete is None:
            try:
                concrete = self._trace(args, kwargs, key)
            except (Untraceable, NotImplementedError) as e:  # e.g. a data-dependent shape
                if getattr(e, "ag_no_fallback", False) or \
                        isinstance(e, autograph_lib.StagingNotImplemented):
                    raise  # AutoGraph refuses the program itself, as TF does
                warn("tf.function %s cannot be traced (%s); it will run eagerly.", self._name, e)
                self._eager_only = str(e)
                return self._python_function(*args, **kwargs)
        return self._run(concrete, tensors, args, kwargs)

    def _run(self, concrete, tensors, args, kwargs):
        if dispatch.recording():
            # a tape outside: it sees the trace op by op, unless the trace holds what only
            # Python can show it (a custom gradient, graph control flow)
            if concrete.graph.opaque_to_tapes is None:
                return concrete._call_recorded(tensors)
            return self._python_function(*args, **kwargs)
        return concrete._call_flat(tensors)

    def _signature_trace(self):
        """The one trace for every size of the signature's None dimensions, or None."""
        if self._poly is None:
            self._poly = self._trace_signature(self.input_signature) or False
        return self._poly or None

    def _call_polymorphic(self, args):
        concrete = self._signature_trace()
        if concrete is None:
            return _NO_RESULT
        tensors = []
        _key((args, {}), tensors)
        return self._run_polymorphic(concrete, tensors, args, {})

    def _run_polymorphic(self, concrete, tensors, args, kwargs):
        """Runs an all-sizes trace on `tensors`; _NO_RESULT when their sizes do not fit it."""
        try:
            concrete._specialization(tensors)
        except polymorphic.NotPolymorphic as e:
            debug("tf.function %s: sizes outside its trace (%s); tracing them.", self._name, e)
            return _NO_RESULT
        self._recent.append(False)
        return self._run(concrete, tensors, args, kwargs)

    def _call_relaxed(self, args, kwargs, key, tensors):
        """`reduce_retracing=True`: after a second shape of the same ranks, one trace with
        None for the dimensions that differed serves them all (as TF relaxes its trace)."""
        if any(isinstance(leaf, np.ndarray) for leaf in nest.flatten((args, kwargs))):
            return _NO_RESULT
        rkey = _rank_key(key)
        relaxed = self._relaxed.get(rkey)
        if relaxed is not None:
            result = self._run_polymorphic(relaxed, tensors, args, kwargs)
            if result is not _NO_RESULT:
                return result
        shapes = [list(t._t.shape) for t in tensors]
        seen = self._seen_shapes.get(rkey)
        if seen is None:  # the first shape of these ranks gets an exact trace, as in TF
            self._seen_shapes[rkey] = shapes
            return _NO_RESULT
        dims = [[d if d == s else None for d, s in zip(shape, old)]
                for shape, old in zip(shapes, seen)]
        self._seen_shapes[rkey] = dims
        names = _argument_names(self._python_function, len(args))

        def make_args(graph):
            by_id = {id(t): s for t, s in zip(tensors, dims)}

            def placeholder(t, name):
                return graph.placeholder(t._dtype, by_id[id(t)], name)
            return ([_replace_tensors(a, lambda t, n=n: placeholder(t, n))
                     for a, n in zip(args, names)],
                    {k: _replace_tensors(v, lambda t, k=k: placeholder(t, k))
                     for k, v in kwargs.items()})
        concrete = self._trace_polymorphic((args, kwargs), make_args)
        if concrete is None:
            return _NO_RESULT
        self._relaxed[rkey] = concrete
        return self._run_polymorphic(concrete, tensors, args, kwargs)

    def _trace_signature(self, specs):
        names = _argument_names(self._python_function, len(specs))

        def make_args(graph):
            return [graph.placeholder(spec.dtype, spec.shape.as_list(), n)
                    for spec, n in zip(specs, names)], {}
        return self._trace_polymorphic((tuple(specs), {}), make_args)

    def _trace_polymorphic(self, signature, make_args):
        """Traces once with symbolic sizes for the None dimensions of the placeholders that
        `make_args(graph)` makes; None when the trace cannot serve other sizes (it is then
        dropped)."""
        graph = Graph(symbols=polymorphic.Symbols())
        created_before = self._variables_created
        graph.allow_variable_creation = not created_before
        try:
            with graph.symbols.tracing():
                sym_args, sym_kwargs = make_args(graph)
                outputs = self._run_traced(graph, sym_args, sym_kwargs)
                out_slots, template = self._outputs(graph, outputs)
            polymorphic.check(graph)
        except Exception as e:  # noqa: BLE001 - a concrete trace will meet any real error
            debug("tf.function %s: one trace for all sizes failed (%s).", self._name, e)
            # the trace that replaces this one is the first that counts: it may create the
            # function's variables (again) as TF's one trace would
            self._variables_created = created_before
            return None
        finally:
            self._tracing_count += 1
        concrete = ConcreteFunction(graph, outputs, template, None, signature, out_slots,
                                    poly=True)
        concrete._jit_compile = bool(self._jit_compile)
        concrete._retrace = self
        return concrete

    def get_concrete_function(self, *args, **kwargs):
        if not args and not kwargs and self.input_signature is not None:
            concrete = self._signature_trace()
            if concrete is not None:
                return concrete
            args = tuple(self.input_signature)
        elif not kwargs and args and all(isinstance(a, TensorSpec) for a in args) and \
                _has_none_dims(args):
            concrete = self._trace_signature(args)
            if concrete is not None:
                return concrete
        args = _replace_specs(args)
        kwargs = _replace_specs(kwargs)
        tensors = []
        key = _key((args, kwargs), tensors)
        concrete = self._cache.get(key)
        if concrete is None:
            concrete = self._trace(args, kwargs, key)
        return concrete

    def _check_signature(self, args, kwargs):
        if kwargs or len(args) != len(self.input_signature):
            raise TypeError(f"{self._name}() expects {len(self.input_signature)} positional "
                            f"arguments matching input_signature {self.input_signature}, got "
                            f"{len(args)} positional and {len(kwargs)} keyword arguments.")
        out = []
        for a, spec in zip(args, self.input_signature):
            t = convert_to_tensor(a, dtype_hint=spec.dtype) if not isinstance(a, Tensor) else a
            if not spec.is_compatible_with(t):
                raise TypeError(f"Binding inputs to tf.function failed due to `Can not cast "
                                f"{TensorSpec.from_tensor(t)!r} to {spec!r}`. Received args: "
                                f"{args} and kwargs: {kwargs} for signature: "
                                f"{self.input_signature}.")
            out.append(t)
        return tuple(out)

    def _trace(self, args, kwargs, key):
        graph = Graph()
        graph.allow_variable_creation = not self._variables_created
        names = _argument_names(self._python_function, len(args))
        sym_args = [_replace_tensors(a, lambda t, n=n: graph.placeholder(t._dtype, t._t.shape, n))
                    for a, n in zip(args, names)]
        sym_kwargs = {k: _replace_tensors(v, lambda t, k=k: graph.placeholder(t._dtype,
                                                                              t._t.shape, k))
                      for k, v in kwargs.items()}
        outputs = self._run_traced(graph, sym_args, sym_kwargs)
        out_slots, template = self._outputs(graph, outputs)
        plan = compile_plan(graph, out_slots)
        if self._jit_compile:
            plan = _jit(plan)
        self._tracing_count += 1
        concrete = ConcreteFunction(graph, outputs, template, plan, (args, kwargs), out_slots)
        self._cache[key] = concrete
        if len(self._recent) == self._recent.maxlen and all(self._recent):
            warn(_RETRACE_WARNING.format(n=self._recent.maxlen, fn=self._python_function))
            self._recent.clear()
        return concrete

    def _run_traced(self, graph, sym_args, sym_kwargs):
        with dispatch.interpreting(graph):
            outputs = self._traced(*sym_args, **sym_kwargs)
        if graph.created_variables:
            self._variables_created = True
        return outputs

    @staticmethod
    def _outputs(graph, outputs):
        """The output slots and the output structure with tensors replaced by `_Index`."""
        flat = nest.flatten(outputs, expand_composites=True)
        out_slots, template_flat = [], []
        for leaf in flat:
            if isinstance(leaf, Variable):  # returned variables give their value
                leaf = getattr(leaf, "_variable", leaf)  # an UnreadVariable: the one it views
                current = graph.current.get(id(leaf))
                leaf = current if current is not None else graph.read_variable(leaf)
            if isinstance(leaf, Tensor):
                template_flat.append(_Index(len(out_slots)))
                out_slots.append(graph.slot(leaf))
            else:
                template_flat.append(leaf)
        template = template_flat[0] if len(flat) == 1 and flat[0] is outputs else \
            nest.pack_sequence_as(outputs, template_flat, expand_composites=True)
        return out_slots, template

    def __repr__(self):
        return f"<tapeflow.function.Function {self._name}>"


_NO_RESULT = object()
_NO_ARGUMENTS = _key(((), {}), [])


def _rank_key(key):
    """A cache key with each tensor's shape replaced by its rank."""
    if isinstance(key, tuple):
        if len(key) == 2 and isinstance(key[0], dtypes.DType) and isinstance(key[1], tuple):
            return (key[0], len(key[1]))
        return tuple(_rank_key(k) for k in key)
    return key


def _has_none_dims(specs):
    return specs is not None and any(
        isinstance(s, TensorSpec) and s.shape.rank is not None and None in s.shape.as_list()
        for s in specs)


def _replace_specs(x):
    """TensorSpecs in get_concrete_function's arguments become placeholder-like zeros."""

    def make(spec):
        shape = [1 if d is None else d for d in spec.shape.as_list()]
        return wrap(torch.zeros(shape, dtype=spec.dtype.torch), spec.dtype) \
            if spec.dtype is not dtypes.string else convert_to_tensor(np.zeros(shape, object))
    if isinstance(x, TensorSpec):
        return make(x)
    if nest.is_nested(x):
        return nest.map_structure(lambda e: make(e) if isinstance(e, TensorSpec) else e, x)
    return x


def _jit(plan):
    return jit_plan(plan)  # torch.compile, host checks kept, clean fallback: function/jit.py


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_implements=None,
             experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None,
             experimental_follow_type_hints=None):
    """`tf.function`, as a decorator with or without arguments."""
    if jit_compile is None and experimental_compile is not None:
        jit_compile = experimental_compile
    reduce_retracing = reduce_retracing or bool(experimental_relax_shapes)

    def decorate(f):
        return Function(f, input_signature, reduce_retracing, jit_compile, autograph,
                        experimental_autograph_options=experimental_autograph_options)
    return decorate if func is None else decorate(func)
