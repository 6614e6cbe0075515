"""`GradientTape.jacobian` and `batch_jacobian`: one reverse walk per target element.

TF vectorises the loop over target elements with pfor; we run the walk once per element with
a one-hot seed (the walk is cheap Python over torch kernels) and stack the rows. When another
tape is recording (a Hessian, say) or a tf.function is being traced, the rows are stacked with
ops, so the Jacobian is itself differentiable (and traced); otherwise by one torch call.
"""
import torch

from tapeflow._core import dispatch, nest
from tapeflow._core.context import current_device, state
from tapeflow._core.shape import TensorShape
from tapeflow._core.tensor import wrap
from tapeflow.autodiff import backprop
from tapeflow.ops import array as array_ops, joining
from tapeflow.ops.broadcast import reshape_raw


def _device(x):
    """Where constants made for `x` live: a traced (meta) tensor's graph runs on the device."""
    return current_device() if x._t.is_meta else x._t.device


def _one_hot(index, shape, like):
    t = torch.zeros(shape, dtype=like._dtype.torch, device=_device(like))
    t.view(-1)[index] = 1
    return wrap(t, like._dtype)


def _stack_rows(rows, shape):
    """Stacks equally shaped row tensors along a new axis 0, then reshapes to `shape`."""
    if state.interpreter is dispatch.EAGER:  # nothing records: plain torch
        return wrap(torch.stack([r._t for r in rows]).reshape(shape), rows[0]._dtype)
    return reshape_raw(joining.stack(rows), shape)  # recorded: differentiable


def _rows(tape, target, flat_sources, seeds):
    """For each seed, the gradient of `target` (weighted by the seed) w.r.t. each source."""
    per_source = [[] for _ in flat_sources]
    for seed in seeds:
        grads = backprop.walk(tape._nodes, [target], [seed], flat_sources)
        for rows, s in zip(per_source, flat_sources):
            rows.append(grads.get(id(s)) if backprop.differentiable(s._dtype) else None)
    return per_source


def _assemble(rows, source, shape, unconnected):
    if all(r is None for r in rows):
        if unconnected is backprop.UnconnectedGradients.ZERO:
            return wrap(torch.zeros(shape, dtype=source._dtype.torch, device=_device(source)),
                        source._dtype)
        return None
    rows = [backprop.zeros_for(source) if r is None else r for r in rows]
    return _stack_rows(rows, shape)


def jacobian(tape, target, sources, unconnected_gradients, experimental_use_pfor):
    if not experimental_use_pfor and not tape._persistent and tape._alive:
        raise RuntimeError("GradientTape must be created with persistent=True to compute the "
                           "jacobian with eager execution enabled and with  "
                           "experimental_use_pfor set to False.")
    target_list, flat_sources, _, unconnected = tape._prepare(target, sources, None,
                                                              unconnected_gradients)
    target = target_list[0]  # a Tensor or a Variable: both carry `_t` and `_dtype`
    tshape = tuple(target._t.shape)
    seeds = [_one_hot(i, tshape, target) for i in range(target._t.numel())]
    per_source = _rows(tape, target, flat_sources, seeds)
    out = []
    for rows, s in zip(per_source, flat_sources):
        shape = tshape + tuple(s._t.shape)
        out.append(_assemble(rows, s, shape, unconnected) if rows else
                   _empty(shape, s, target))
    tape._consume()
    return nest.pack_sequence_as(sources, out)


def _empty(shape, source, target):
    return wrap(torch.zeros(shape, dtype=target._dtype.torch, device=_device(source)),
                target._dtype)


def batch_jacobian(tape, target, source, unconnected_gradients, parallel_iterations,
                   experimental_use_pfor):
    if not tape._alive:
        raise RuntimeError("A non-persistent GradientTape can only be used tocompute one set "
                           "of gradients (or jacobians)")
    tshape, sshape = tuple(target._t.shape), tuple(source._t.shape)
    for shape in (tshape, sshape):
        if len(shape) < 2:
            raise ValueError(f"Shape {TensorShape(shape)} must have rank at least 2")
    if tshape[0] != sshape[0]:
        raise ValueError(f"Need first dimension of target shape ({TensorShape(tshape)}) and "
                         f"source shape ({TensorShape(sshape)}) to match.")
    if not experimental_use_pfor and not tape._persistent:
        raise RuntimeError("GradientTape must be created with persistent=True to compute the "
                           "batch_jacobian with eager execution enabled and  with "
                           "experimental_use_pfor set to False.")
    target_list, sources, _, unconnected = tape._prepare(target, [source], None,
                                                         unconnected_gradients)
    target = target_list[0]  # a Tensor or a Variable: both carry `_t` and `_dtype`
    batch = tshape[0]
    row = target._t.numel() // batch if batch else 0
    seeds = []
    for j in range(row):
        t = torch.zeros((batch, row), dtype=target._dtype.torch, device=_device(target))
        t[:, j] = 1
        seeds.append(wrap(t.reshape(tshape), target._dtype))
    rows = _rows(tape, target, sources, seeds)[0]
    out_shape = tshape + sshape[1:]
    tape._consume()
    if not rows or all(r is None for r in rows):
        return _empty(out_shape, source, target)  # TF gives zeros here whatever was asked
    rows = [backprop.zeros_for(source) if r is None else r for r in rows]
    # rows: `row` tensors of shape [b, x...]; the result wants [b, row, x...].
    stacked = _stack_rows(rows, (row,) + sshape)
    return _move_axis0_to_1(stacked, out_shape, row, sshape)


def _move_axis0_to_1(stacked, out_shape, row, sshape):
    if state.interpreter is dispatch.EAGER:  # nothing records: plain torch
        return wrap(stacked._t.transpose(0, 1).reshape(out_shape), stacked._dtype)
    perm = (1, 0) + tuple(range(2, len(sshape) + 1))
    return reshape_raw(array_ops.transpose(stacked, perm), out_shape)
