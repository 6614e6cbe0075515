"""Tracing a Python function into a graph of steps (`plan.py` compiles the graph into a plan).

While a `Graph` is the interpreter (`_core/dispatch.py`), every op hands itself to `run_op`
instead of running: the graph runs the kernel on torch `meta` tensors (shapes and dtypes
without data; fake tensors with symbolic sizes for `None` dimensions, see polymorphic.py),
gives back symbolic tensors, and appends a step `(kernel, input slots, attrs, output slots)`.
Real tensors that flow in (constants made during tracing) are captured by value; variables
are read at the start of each run and written by assign steps, in order.
"""
import numpy as np
import torch

from tapeflow._core import dispatch, dtypes
from tapeflow._core.context import current_device
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import Tensor, wrap
from tapeflow.function import naming, polymorphic
from tapeflow.ops._op import define


class Untraceable(Exception):
    """An op cannot run symbolically (a data-dependent shape, a host read, string data): the
    function falls back to eager execution."""


_META_UNSUPPORTED = ("meta", "Meta", "data-dependent", "item()", "dynamic output shape")


class Step:
    __slots__ = ("op", "kernel", "ins", "attrs", "outs", "kind", "target", "multi")

    def __init__(self, op, kernel, ins, attrs, outs, kind="op", target=None, multi=False):
        self.op = op
        self.kernel = kernel
        self.ins = ins
        self.attrs = attrs
        self.outs = outs
        self.kind = kind          # "op", "assign" (target: a Variable) or "effect" (no outputs)
        self.target = target
        self.multi = multi        # the kernel returns a sequence (even of one tensor)

    def replace(self, **changes):
        """A copy with some fields changed (what graph passes build new steps with)."""
        fields = {k: getattr(self, k) for k in self.__slots__}
        fields.update(changes)
        return Step(**fields)


def current_graph():
    """The graph being traced on this thread (below any tapes), or None when eager."""
    base = dispatch.base_interpreter()
    return base if isinstance(base, Graph) else None


class Graph(dispatch.Interpreter):
    """The recording of one trace: the interpreter while a tf.function is being traced."""

    eager = False

    def __init__(self, outer=None, symbols=None):
        self.outer = outer       # the enclosing graph of a tf.cond / tf.while_loop branch
        self.captures = []       # outer tensors fed to this graph's trailing placeholders
        self.slot_of = {}        # id(Tensor) -> slot
        self.held = []           # every tensor with a slot (keeps ids unique)
        self.dtypes = []         # slot -> DType
        self.inputs = []         # placeholder slots, in argument order
        self.constants = {}      # slot -> torch tensor captured by value
        self.variables = {}      # slot -> Variable whose value fills the slot at run start
        self.current = {}        # id(Variable) -> Tensor holding its value in this graph
        self.steps = []
        self.created_variables = []
        self.allow_variable_creation = True
        self.names = {}          # id(placeholder) -> TF's tensor name ("x:0"), for printing
        self.opaque_to_tapes = None  # why a tape outside cannot record a replay of this trace
        self.shapes = []         # slot -> shape during the trace (symbolic sizes: SymInts)
        # the symbolic sizes of a trace for every size of its `None` dimensions
        # (polymorphic.py), the values known of its symbolic tensors (a `tf.shape` of symbolic
        # sizes and the arithmetic on it: slot -> NumPy object array), and why the trace
        # cannot serve other sizes after all
        self.symbols = outer.symbols if outer is not None else symbols
        self.values = {}
        self.poly_mark = None

    # -- slots ---------------------------------------------------------------------------------
    def _new_slot(self, tensor):
        i = len(self.dtypes)
        self.slot_of[id(tensor)] = i
        self.held.append(tensor)
        self.dtypes.append(tensor._dtype)
        self.shapes.append(tuple(tensor._t.shape) if tensor._dtype is not dtypes.string else ())
        return i

    def placeholder(self, dtype, shape, name=None):
        """A new input of the trace; None entries of `shape` are symbolic sizes."""
        if any(polymorphic.is_symbolic(d) for d in shape):
            raise polymorphic.NotPolymorphic("graph control flow on symbolic sizes")
        if self.symbols is not None:
            t = wrap(self.symbols.placeholder(dtype.torch, shape, len(self.inputs)), dtype)
        else:
            t = wrap(torch.empty(tuple(shape), dtype=dtype.torch, device="meta"), dtype)
        self.inputs.append(self._new_slot(t))
        if name is not None:
            taken = set(self.names.values())
            unique, n = name, 0
            while unique + ":0" in taken:  # TF uniquifies repeated names: x, x_1, ...
                n += 1
                unique = f"{name}_{n}"
            self.names[id(t)] = unique + ":0"
        return t

    def tensor_name(self, t):
        """TF's name for a tensor of this trace ("x:0" for argument x, "add:0" for an op's
        output: naming.py), or None if unknown."""
        name = self.names.get(id(t))
        return name if name is not None else naming.op_output_name(self, t)

    def slot(self, x):
        i = self.slot_of.get(id(x))
        if i is not None:
            return i
        if x._dtype is dtypes.string:
            raise Untraceable("string tensors")
        if x._t.is_meta and self.outer is not None and self.outer.has(x):
            self.captures.append(x)  # a tensor of the enclosing trace: becomes an input
            return self.slot(self.placeholder_for(x))
        if x._t.is_meta:
            raise InvalidArgumentError(
                None, None, "A symbolic tensor from another tf.function trace (or from an "
                "earlier call) was used here. Tensors created inside a tf.function cannot be "
                "kept and used outside it; return them instead.")
        i = self._new_slot(x)
        self.constants[i] = x._t
        return i

    def has(self, x):
        return id(x) in self.slot_of or (self.outer is not None and self.outer.has(x))

    def placeholder_for(self, x):
        t = wrap(x._t, x._dtype) if self.symbols is not None else \
            wrap(torch.empty(x._t.shape, dtype=x._t.dtype, device="meta"), x._dtype)
        self.inputs.append(self._new_slot(t))
        self.slot_of[id(x)] = self.slot_of[id(t)]
        self.held.append(x)
        return t

    # -- the interpreter ---------------------------------------------------------------------------
    def run_op(self, op, kernel, inputs, attrs):
        sized = self.symbols is not None and polymorphic.has_symbols(attrs)
        if not sized and not op.stateful and not any(
                x._t.is_meta for x in inputs if x._dtype is not dtypes.string):
            # every input is a known value (a constant, a static shape): run it now, so shape
            # arithmetic like `tf.reshape(x, [tf.shape(x)[0], -1])` stays concrete
            return dispatch.EAGER.run_op(op, kernel, inputs, attrs)
        ins = [self.slot(x) for x in inputs]
        args = [x._t if x._t.is_meta else x._t.to("meta") for x in inputs]
        fn = op.meta_fn or kernel
        try:
            out = fn(*args, *attrs) if self.symbols is None else \
                self.symbols.infer(fn, args, attrs)
        except NotImplementedError as e:
            raise Untraceable(f"{op.name}: {e}") from None
        except (RuntimeError, IndexError, ValueError) as e:
            text = str(e).split("\n")[0]
            if any(m in text for m in _META_UNSUPPORTED) or type(e).__name__ in _FAKE_REFUSALS:
                raise Untraceable(f"{op.name}: {text or type(e).__name__}") from None
            raise InvalidArgumentError(None, None, f"{text} [Op:{op.name}] name: ") from None
        if out is None or (isinstance(out, (tuple, list)) and not out):
            self.steps.append(Step(op, kernel, ins, attrs, (), kind="effect"))
            return None
        single = type(out) is not tuple and type(out) is not list
        if single and not out.is_meta:  # a kernel that makes its output on a given device
            out = out.to("meta")
        elif not single:
            out = [o.to("meta") if isinstance(o, torch.Tensor) and not o.is_meta else o
                   for o in out]
        outputs = (wrap(out),) if single else tuple(wrap(o) for o in out)
        outs = tuple(self._new_slot(o) for o in outputs)
        self.steps.append(Step(op, kernel, ins, attrs, outs, multi=not single))
        if self.values and op.value_fn is not None and single:
            self._infer_value(op, inputs, attrs, outs[0])
        return outputs[0] if single else outputs

    def _infer_value(self, op, inputs, attrs, slot):
        """The value of an op's output where its inputs' values are known (shape arithmetic
        on symbolic sizes): its `value_fn` on NumPy arrays, some of objects."""
        known = []
        for x in inputs:
            if x._t.is_meta:
                v = self.values.get(self.slot_of.get(id(x)))
                if v is None:
                    return
            else:
                v = x._t.cpu().numpy()
            known.append(v)
        value = op.value_fn(*known, *attrs)
        if value is not None:
            self.values[slot] = np.asarray(value, dtype=object)

    def static_value(self, tensor):
        return self.values.get(self.slot_of.get(id(tensor)))

    def sized_tensor(self, values, dtype):
        """A tensor of symbolic sizes (`tf.shape(x)` of a symbolic `x`): a step whose attrs
        hold the sizes, a constant once they are known (polymorphic.specialize)."""
        out = dispatch.execute(SIZES, _sizes_kernel,
                               (), (tuple(values.reshape(-1)), values.shape, dtype.torch))
        self.values[self.slot_of[id(out)]] = values
        return out

    def python_value(self, tensor, what):
        value = self.static_value(tensor) if tensor._is_symbolic() else None
        if value is None:
            return super().python_value(tensor, what)
        # a Python value made from a symbolic size: this trace holds only for this size
        self.poly_mark = self.poly_mark or f"a Python {what} made from a `None` dimension"
        return np.array([polymorphic.hint(v) for v in value.reshape(-1)]).reshape(value.shape)

    def note_python_only(self, reason):
        self.opaque_to_tapes = self.opaque_to_tapes or reason

    def read_variable(self, variable):
        """The variable's value at this point of the trace: a read step (reads are steps, so
        they see writes made before them), shared by the reads until the next write."""
        t = self.current.get(id(variable))
        if t is None:
            real = variable._t
            t = wrap(torch.empty(real.shape, dtype=real.dtype, device="meta"), variable._dtype)
            self.steps.append(Step(None, None, (), (), (self._new_slot(t),), kind="read",
                                   target=variable))
            self.variables[self.slot_of[id(t)]] = variable
            self.current[id(variable)] = t
        return t

    def write_variable(self, variable, value, kind):
        if value._dtype is not variable._dtype:
            raise TypeError(f"Cannot assign a {value._dtype.name} value to the "
                            f"{variable._dtype.name} variable {variable.name}.")
        i = self.slot(value)
        self.steps.append(Step(None, None, (i,), (), (), kind="assign", target=variable))
        # the next read is a read step of its own, not `value`: to a tape, a variable's value
        # is a read of the variable, never connected to what was assigned (as in TF)
        self.current.pop(id(variable), None)

    def init_variable(self, variable, initial_value):
        """A Variable is being created during this trace: allowed on the first trace only (as
        in TF), with an initial value that does not depend on the function's inputs."""
        if not self.allow_variable_creation:
            raise ValueError(
                "tf.function only supports singleton tf.Variables created on the first call. "
                "Make sure the tf.Variable is only created once or created outside tf.function.")
        self.created_variables.append(variable)
        if isinstance(initial_value, Tensor) and initial_value._is_symbolic():
            return self.lift(initial_value)
        return initial_value

    def lift(self, tensor):
        """The concrete value of a symbolic tensor computed from constants only, by running
        the steps it needs once, now."""
        target = self.slot_of.get(id(tensor))
        needed, plan = {target}, []
        for s in reversed(self.steps):
            if any(o in needed for o in s.outs):
                plan.append(s)
                needed.update(s.ins)
        values = dict(self.constants)
        if any(i in needed for i in self.inputs) or any(i in needed for i in self.variables) \
                or any(polymorphic.has_symbols(s.attrs) for s in plan):
            raise ValueError("A tf.Variable created inside a tf.function needs an initial value "
                             "that does not depend on the function's arguments or on other "
                             "variables. Create it outside the function, or inside "
                             "`with tf.init_scope():`.")
        for s in reversed(plan):
            out = s.kernel(*[values[i] for i in s.ins], *s.attrs)
            outs = (out,) if type(out) is torch.Tensor else tuple(out)
            values.update(zip(s.outs, outs))
        return wrap(values[target], tensor._dtype)


# Fake tensors refuse ops whose output shape depends on the data with these exceptions.
_FAKE_REFUSALS = ("DynamicOutputShapeException", "DataDependentOutputException",
                  "UnsupportedOperatorException", "GuardOnDataDependentSymNode")

SIZES = define("Sizes", differentiable=False)   # tapeflow's own: a tensor of traced sizes


def _sizes_kernel(values, shape, dtype):
    return torch.tensor(values, dtype=dtype, device=current_device()).reshape(shape)


def _sizes_meta(values, shape, dtype):
    return torch.empty(shape, dtype=dtype, device="meta")


SIZES.meta_fn = _sizes_meta


class init_scope:  # noqa: N801 - TF's name
    """`tf.init_scope()`: code inside runs eagerly even while a tf.function is being traced
    (for creating variables and other one-time state)."""

    def __enter__(self):
        self._scope = dispatch.interpreting(dispatch.EAGER)
        self._scope.__enter__()
        return self

    def __exit__(self, *exc):
        return self._scope.__exit__(*exc)
