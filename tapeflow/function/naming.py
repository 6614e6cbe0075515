"""The names TF gives the tensors of a traced graph, for printing them (`add:0`, `MatMul_1:0`).

TF names each op after its Python function's default name (operators are lower case: `x + y`
is `add`, `x @ y` `matmul`; most ops are named after their op type: `MatMul`, `Relu`) made
unique in the graph case-insensitively (after `add`, `tf.add` gives `Add_1`), and an output
`name:index`. tapeflow sees `x + y` and `tf.add(x, y)` as the same op and names both `add`.
The graph (graph.py) asks here for tensors that are not arguments; names are derived from the
steps when asked, so tracing pays nothing for them.
"""

# TF's default name for the op behind a registered op, where its Python function names the op
# otherwise than the op type.
_PYTHON_NAMES = {
    "AddV2": "add", "Sub": "sub", "Mul": "mul", "RealDiv": "truediv", "Pow": "pow",
    "FloorDiv": "floordiv", "FloorMod": "mod", "StridedSlice": "strided_slice",
    "ConcatV2": "concat", "Pack": "stack", "Unpack": "unstack", "Transpose": "transpose",
    "ZerosLike": "zeros_like", "OnesLike": "ones_like", "Split": "split", "SplitV": "split",
    "Range": "range", "OneHot": "one_hot", "BatchMatMulV2": "MatMul", "If": "cond",
    "While": "while", "Einsum": "einsum/Einsum", "LinSpace": "linspace",
}


def _step_name(step, made_by, assigned_to):
    if step.kind == "read":
        return "ReadVariableOp"
    if step.kind == "assign":
        return "AssignVariableOp"
    name = step.op.name
    if name in ("AddV2", "Sub") and step.ins and step.outs and step.outs[0] in assigned_to:
        # `v.assign_add(d)` is traced as a read of v, an add and an assign to v; TF has one
        # AssignAddVariableOp there, so that add does not take the name "add"
        first = made_by.get(step.ins[0])
        if first is not None and first.kind == "read" and \
                first.target is assigned_to[step.outs[0]]:
            return "AssignAddVariableOp" if name == "AddV2" else "AssignSubVariableOp"
    return _PYTHON_NAMES.get(name, name)


def op_output_name(graph, tensor):
    """`name:index` of the step of `graph` that made `tensor`, or None."""
    slot = graph.slot_of.get(id(tensor))
    if slot is None:
        return None
    steps = graph.steps
    made_by = {o: s for s in steps for o in s.outs}
    assigned_to = {s.ins[0]: s.target for s in steps if s.kind == "assign"}
    taken = {}
    for s in steps:
        base = _step_name(s, made_by, assigned_to)
        n = taken.get(base.lower(), 0)
        taken[base.lower()] = n + 1
        if slot in s.outs:
            return f"{base if n == 0 else f'{base}_{n}'}:{s.outs.index(slot)}"
    return None
