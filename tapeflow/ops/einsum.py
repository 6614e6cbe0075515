"""`tf.einsum` and `tf.tensordot`: contractions named by an equation.

Einsum is one op whose gradient is einsum again (with the output gradient and the other
inputs), followed by what an equation can do that a product cannot: broadcast over indices
only one input has, sum over broadcast '...' dimensions, and go back on the diagonal for a
repeated index. Tensordot builds an einsum equation, so it needs no gradient of its own.
"""
import types

import torch

from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import Tensor, convert_to_tensor, device_name
from tapeflow.ops._op import binary_operands, define, execute, kernel_error
from tapeflow.ops.creation import eye
from tapeflow.ops.broadcast import broadcast_to_raw, reduce_sum_raw, reshape_raw
from tapeflow.ops.math import conj

# tensordot's errors come from the MatMul TF runs inside it (defined in linalg.py)
_MATMUL = types.SimpleNamespace(name="MatMul")

EINSUM = define("Einsum")
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_kernel(*args):
    *tensors, equation = args
    out = torch.einsum(equation, tensors)
    return out if out.dtype == tensors[0].dtype else out.to(tensors[0].dtype)  # int sums


def _parse(equation, ranks):
    """`equation` with '...' spelled out as letters and the implicit output made explicit:
    (input subscripts, output subscripts, the letters standing for '...')."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(ranks):
        raise ValueError(f'Got {len(ranks)} inputs for equation "{equation}", expecting '
                         f'{len(subs)}')
    free = [c for c in _LETTERS if c not in eq]
    n_ell = max((r - len(s.replace("...", "")) for s, r in zip(subs, ranks) if "..." in s),
                default=0)
    ell = "".join(free[:n_ell])
    spelled = []
    for s, r in zip(subs, ranks):
        if "..." in s:
            k = r - len(s.replace("...", ""))
            s = s.replace("...", ell[n_ell - k:] if k else "")
        if len(s) != r or not s.isalpha():
            raise ValueError(f"Expected input to have rank {len(s)} (from the subscripts "
                             f"'{s}' of equation \"{equation}\") but got: {r}")
        spelled.append(s)
    if not arrow:
        letters = "".join(spelled)
        out = ("..." if n_ell else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    out = out.replace("...", ell)
    return tuple(spelled), out, ell


def einsum(equation, *inputs, **kwargs):
    """Tensor contraction over the indices an equation names, e.g. `tf.einsum('ij,jk->ik', a,
    b)`; `...` stands for broadcast batch dimensions. All inputs share one dtype."""
    tensors = [x if type(x) is Tensor else convert_to_tensor(x) for x in inputs]
    for i, t in enumerate(tensors[1:], 1):
        if t._dtype is not tensors[0]._dtype:
            binary_operands(tensors[0], t, EINSUM)
    subs, out, ell = _parse(equation, [t._t.ndim for t in tensors])
    _check_sizes(subs, tensors, ell)
    return einsum_raw(",".join(subs) + "->" + out, tensors)


def _check_sizes(subs, tensors, ell):
    sizes = {}
    for s, t in zip(subs, tensors):
        for axis, (c, n) in enumerate(zip(s, t._t.shape)):
            seen = sizes.setdefault(c, n)
            if seen != n and not (c in ell and 1 in (seen, n)):  # '...' dims broadcast
                # TF's kernel is a function per input count: its error names it Einsum_N_<n>
                raise InvalidArgumentError(
                    None, None, f"{{{{function_node __wrapped__Einsum_N_{len(tensors)}_device_"
                    f"{device_name(t._t.device)}}}}} Expected dimension {seen} at axis {axis} "
                    f"of the input shaped {_dims(t)} but got dimension {n} [Op:Einsum] name: ")
            if seen == 1:
                sizes[c] = n


def einsum_raw(equation, tensors):
    """Einsum over an explicit equation without '...' (checked inputs)."""
    return execute(EINSUM, _einsum_kernel, tuple(tensors), (equation,))


@EINSUM.gradient
def _(node, grad):
    lhs, out = node.attrs[0].split("->")
    subs = lhs.split(",")
    inputs = node.inputs
    skip = node.skip_input_indices
    return tuple(None if i in skip else _einsum_input_grad(grad, out, subs, inputs, i)
                 for i in range(len(inputs)))


def _einsum_input_grad(grad, out, subs, inputs, i):
    """d(einsum)/d(input i), itself an einsum of the output gradient with the other inputs,
    then broadcast over indices only input i had, summed over its broadcast '...' dims, and
    put back on the diagonal where input i repeats an index."""
    x, s = inputs[i], subs[i]
    others = [j for j in range(len(inputs)) if j != i]
    unique = "".join(dict.fromkeys(s))
    reachable = set(out).union(*(subs[j] for j in others))
    kept = "".join(c for c in unique if c in reachable)
    operands = [grad] + [_conj(inputs[j]) for j in others]
    g = einsum_raw(",".join([out] + [subs[j] for j in others]) + "->" + kept, operands)
    size = dict(zip(s, x._t.shape))
    if kept != unique:  # indices summed inside input i alone: their gradient is broadcast
        g = reshape_raw(g, tuple(g._t.shape[kept.index(c)] if c in kept else 1 for c in unique))
        g = broadcast_to_raw(g, tuple(size[c] for c in unique))
    gshape = tuple(g._t.shape)
    shrink = tuple(a for a, c in enumerate(unique) if size[c] == 1 and gshape[a] != 1)
    if shrink:
        g = reduce_sum_raw(g, shrink, True)
    if unique != s:  # a repeated index: the gradient lives on the diagonal
        fresh = [c for c in _LETTERS if c not in s and c not in out]
        target, eyes, eye_subs = "", [], []
        for c in s:
            if c in target:
                d = fresh.pop()
                eyes.append(eye_like(size[c], x))
                eye_subs.append(c + d)
                target += d
            else:
                target += c
        g = einsum_raw(",".join([unique] + eye_subs) + "->" + target, [g] + eyes)
    return g


def _conj(x):
    return conj(x) if x._dtype.is_complex else x


def eye_like(n, like):
    return eye(n, dtype=like._dtype)  # a constant (captured as such by a tf.function trace)


def tensordot(a, b, axes, name=None):
    """Sums the products of `a`'s and `b`'s elements over the given axes: `axes` is N (the last
    N of `a` with the first N of `b`) or a pair of axis lists."""
    a, b = binary_operands(a, b, _MATMUL)
    ra, rb = a._t.ndim, b._t.ndim
    if isinstance(axes, Tensor):
        axes = axes.numpy().tolist()
    if isinstance(axes, (int,)) or (hasattr(axes, "__index__") and not isinstance(axes, list)):
        n = int(axes)
        if n < 0:
            raise ValueError(f"'axes' must be at least 0 for tensordot, got {n}")
        if n > ra or n > rb:
            raise ValueError(f"`axes` must not be larger than the number of dimensions of "
                             f"tensor {a if n > ra else b}.  Received {n}, vs tensor "
                             f"dimensions {ra if n > ra else rb}.")
        a_axes, b_axes = list(range(ra - n, ra)), list(range(n))
    else:
        a_axes, b_axes = axes
        a_axes = [a_axes] if isinstance(a_axes, int) else list(a_axes)
        b_axes = [b_axes] if isinstance(b_axes, int) else list(b_axes)
        if len(a_axes) != len(b_axes):
            raise ValueError(f"Different number of contraction axes 'a' and 'b', "
                             f"{len(a_axes)} != {len(b_axes)}.")
    a_axes = [x % ra for x in a_axes] if ra else a_axes
    b_axes = [x % rb for x in b_axes] if rb else b_axes
    sa, sb = list(_LETTERS[:ra]), list(_LETTERS[ra:ra + rb])
    for i, j in zip(a_axes, b_axes):
        sb[j] = sa[i]
    if any(a._t.shape[i] != b._t.shape[j] for i, j in zip(a_axes, b_axes)):
        return _tensordot_as_matmul(a, b, a_axes, b_axes)
    out = [c for k, c in enumerate(sa) if k not in a_axes] + \
        [c for k, c in enumerate(sb) if k not in b_axes]
    return einsum_raw(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", (a, b))


def _tensordot_as_matmul(a, b, a_axes, b_axes):
    """TF's own tensordot: permute, reshape to matrices, multiply. Only the product of the
    contracted sizes has to agree there, so we follow it when single sizes differ."""
    ra, rb = a._t.ndim, b._t.ndim
    free_a = [k for k in range(ra) if k not in a_axes]
    free_b = [k for k in range(rb) if k not in b_axes]
    sa, sb = tuple(a._t.shape), tuple(b._t.shape)
    m, k1, k2, n = (_prod(sa[k] for k in free_a), _prod(sa[k] for k in a_axes),
                    _prod(sb[k] for k in b_axes), _prod(sb[k] for k in free_b))
    if k1 != k2:
        raise kernel_error(f"Matrix size-incompatible: In[0]: [{m},{k1}], In[1]: [{k2},{n}]",
                           _MATMUL, a._t.device)
    a2 = reshape_raw(permute(a, free_a + a_axes), (m, k1))
    b2 = reshape_raw(permute(b, b_axes + free_b), (k2, n))
    return reshape_raw(einsum_raw("ij,jk->ik", (a2, b2)), tuple(sa[k] for k in free_a) +
                       tuple(sb[k] for k in free_b))


def _prod(sizes):
    n = 1
    for d in sizes:
        n *= d
    return n


def _dims(t):
    return "[" + ",".join(str(d) for d in t._t.shape) + "]"


def permute(x, perm):
    """`tf.transpose` as an einsum (used where a gradient must stay an op of this family)."""
    letters = _LETTERS[:x._t.ndim]
    return einsum_raw(f"{letters}->{''.join(letters[p] for p in perm)}", (x,))
