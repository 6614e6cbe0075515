"""Reductions (`reduce_sum mean max min prod any all euclidean_norm`, their composites
`reduce_logsumexp std variance` and `count_nonzero`), `argmax`/`argmin` and the scans
`cumsum`/`cumprod`.

`axis` is None (all axes), an int, a list or an integer tensor, negative counting from the end;
TF's kernels reject bad axes with `InvalidArgumentError` worded as below. An empty axis list is
the identity. The Sum op itself lives in `math.py` (unbroadcast needs it); `reduce_sum` here is
its public, validating front. Gradients broadcast the output gradient back over the reduced
axes (`expand_reduced`); Max/Min split it evenly among ties as TF does.
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.context import current_device
from tapeflow._core.tensor import Tensor, constant, convert_to_tensor
from tapeflow.ops._op import (check_dtype, define, error, execute, is_tensor_like,
                              kernel_error, tf_type_name)
from tapeflow.ops.comparison import where
from tapeflow.ops.elementwise import abs, exp, is_finite, log, sqrt, square  # noqa: A004
from tapeflow.ops.broadcast import SUM, expand_reduced, reduce_sum_raw, reshape_raw
from tapeflow.ops.math import add, conj, divide, divide_no_nan, multiply, subtract, zeros_like

_d = dtypes
# The dtypes TF's kernels accept, in the order its error messages list them.
SUM_TYPES = (_d.float32, _d.float64, _d.int32, _d.uint8, _d.int16, _d.int8, _d.complex64,
             _d.int64, _d.bfloat16, _d.uint16, _d.complex128, _d.float16, _d.uint32, _d.uint64)
MAX_TYPES = (_d.float32, _d.float64, _d.int32, _d.uint8, _d.int16, _d.int8, _d.int64,
             _d.bfloat16, _d.uint16, _d.float16, _d.uint32, _d.uint64)
_ARG_TYPES = MAX_TYPES + (_d.bool,)
# Sets for the membership tests on the hot path (a tuple compares with DType.__eq__ in Python).
_SUM_SET, _MAX_SET, _ARG_SET = frozenset(SUM_TYPES), frozenset(MAX_TYPES), frozenset(_ARG_TYPES)
_BOOL_SET = frozenset((_d.bool,))
_ARG_OUTPUT_TYPES = {"ArgMax": (_d.int16, _d.uint16, _d.int32, _d.int64),
                     "ArgMin": (_d.int32, _d.int64)}


def _input(x):
    return x if type(x) is Tensor else convert_to_tensor(x)


def _device(x):
    return current_device() if x._dtype is _d.string else x._t.device


def axis_values(axis, op, attr="Tidx"):
    """`axis` (int, nested list, NumPy value or integer tensor) as a flat list of ints."""
    if type(axis) is int:
        return [axis]
    if isinstance(axis, (list, tuple)) and all(type(a) is int for a in axis):
        return list(axis)
    if is_tensor_like(axis) or isinstance(axis, (np.ndarray, np.generic)):
        t = convert_to_tensor(axis)
        if not t._dtype.is_integer:
            check_dtype(t, (_d.int32, _d.int64), op, attr)
    else:  # Python values: floats raise TF's "Cannot convert 1.0 to EagerTensor" TypeError
        t = convert_to_tensor(axis, dtype=_d.int32)
    return [int(v) for v in np.reshape(t.numpy(), -1)]  # symbolic: tf.function runs eagerly


def reduction_axes(x, axis, op):
    """The sorted, non-negative axes tuple that `axis` names on `x`, with TF's errors."""
    ndim = x._t.ndim
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:
        return (axis % ndim,)
    out = []
    suffix = not isinstance(axis, (list, tuple))  # TF's slow path (Python lists) omits it
    for a in axis_values(axis, op):
        if not -ndim <= a < ndim:
            raise kernel_error(f"Invalid reduction dimension ({a} for input with {ndim} "
                               f"dimension(s)", op, _device(x), suffix)
        a %= ndim
        if a in out:
            raise kernel_error(f"Invalid reduction arguments: Axes contains duplicate "
                               f"dimension: {a}", op, _device(x), suffix)
        out.append(a)
    return tuple(sorted(out))


def _size(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _reduce(op, kernel, allowed, allowed_set, input_tensor, axis, keepdims):
    """Validates and runs a reduction kernel `kernel(t, axes, keepdims)`."""
    x = _input(input_tensor)
    if x._dtype not in allowed_set:
        check_dtype(x, allowed, op)
    axes = reduction_axes(x, axis, op)
    if not axes:
        return x
    return execute(op, kernel, (x,), (axes, bool(keepdims)))


# -- sum and mean ---------------------------------------------------------------------------

def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    """Sum of elements across `axis` (all axes when None)."""
    x = _input(input_tensor)
    if x._dtype not in _SUM_SET:
        check_dtype(x, SUM_TYPES, SUM)
    axes = reduction_axes(x, axis, SUM)
    if not axes:
        return x
    return reduce_sum_raw(x, axes, bool(keepdims))


MEAN = define("Mean")


def _mean_kernel(t, axes, keepdims):
    if t.dtype is torch.float16:  # TF divides a float16 sum by a float16 count (inf > 65504)
        n = _size(t.shape, axes)
        count = float(np.float16(n)) if n < 65520 else float("inf")  # 65520 rounds to inf
        return torch.sum(t, dim=axes, keepdim=keepdims, dtype=torch.float16) / count
    if t.is_floating_point() or t.is_complex():
        return torch.mean(t, dim=axes, keepdim=keepdims)
    # TF divides integers in a wider accumulator, truncating toward zero.
    total = torch.sum(t, dim=axes, keepdim=keepdims, dtype=torch.int64)
    n = _size(t.shape, axes)
    if n == 0:
        return torch.zeros_like(total, dtype=t.dtype)
    return torch.div(total, n, rounding_mode="trunc").to(t.dtype)


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """Mean of elements across `axis`; integer tensors give the truncated integer mean."""
    return _reduce(MEAN, _mean_kernel, SUM_TYPES, _SUM_SET, input_tensor, axis, keepdims)


@MEAN.gradient
def _(node, grad):
    axes, keepdims = node.attrs
    shape = tuple(node.inputs[0]._t.shape)
    return divide(expand_reduced(grad, shape, axes, keepdims), _size(shape, axes))


# -- max and min --------------------------------------------------------------------------

def _extreme_kernel(reduce, identity):
    def kernel(t, axes, keepdims):
        if any(t.shape[a] == 0 for a in axes):  # torch refuses; TF gives the identity
            shape = [1 if i in axes else d for i, d in enumerate(t.shape)] if keepdims else \
                [d for i, d in enumerate(t.shape) if i not in axes]
            info = torch.finfo(t.dtype) if t.is_floating_point() else torch.iinfo(t.dtype)
            value = identity * float("inf") if t.is_floating_point() else \
                (info.min if identity < 0 else info.max)
            return torch.full(shape, value, dtype=t.dtype, device=t.device)
        return reduce(t, dim=axes, keepdim=keepdims)
    return kernel


_max_kernel = _extreme_kernel(torch.amax, -1)
_min_kernel = _extreme_kernel(torch.amin, 1)
MAX = define("Max")
MIN = define("Min")
# The share of the gradient each input element gets: 1/(number of ties) where it equals the
# extreme, 0 elsewhere. Piecewise constant in x, hence not differentiable itself.
TIE_WEIGHTS = define("MinOrMaxGradWeights", differentiable=False)


def _tie_weights_kernel(x, y, axes, keepdims):
    if not keepdims:
        y = y.reshape([1 if i in axes else d for i, d in enumerate(x.shape)])
    hits = (x == y).to(x.dtype)
    return hits / hits.sum(dim=axes, keepdim=True)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    """Maximum of elements across `axis` (NaN propagates; empty axes give -inf or int min)."""
    return _reduce(MAX, _max_kernel, MAX_TYPES, _MAX_SET, input_tensor, axis, keepdims)


def reduce_min(input_tensor, axis=None, keepdims=False, name=None):
    """Minimum of elements across `axis` (NaN propagates; empty axes give inf or int max)."""
    return _reduce(MIN, _min_kernel, MAX_TYPES, _MAX_SET, input_tensor, axis, keepdims)


def _extreme_grad(node, grad):
    x, = node.inputs
    axes, keepdims = node.attrs
    weights = execute(TIE_WEIGHTS, _tie_weights_kernel, (x, node.outputs[0]), node.attrs)
    return multiply(weights, expand_reduced(grad, tuple(x._t.shape), axes, keepdims))


MAX.gradient(_extreme_grad)
MIN.gradient(_extreme_grad)


# -- prod ---------------------------------------------------------------------------------

PROD = define("Prod")


def _prod_kernel(t, axis, keepdims):
    return torch.prod(t, dim=axis, keepdim=keepdims, dtype=t.dtype)


PROD.value_fn = lambda a, axis, keepdims: np.prod(a, axis=axis, keepdims=keepdims)  # noqa: E731


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None):
    """Product of elements across `axis`."""
    x = _input(input_tensor)
    if x._dtype not in _SUM_SET:
        check_dtype(x, SUM_TYPES, PROD)
    axes = reduction_axes(x, axis, PROD)
    keepdims = bool(keepdims)
    if not axes:
        return x
    if len(axes) == 1:
        return execute(PROD, _prod_kernel, (x,), (axes[0], keepdims))
    # One axis per Prod node keeps the gradient a pair of cumprods (exact with zeros).
    if len(axes) == x._t.ndim:
        y = execute(PROD, _prod_kernel, (reshape_raw(x, (-1,)),), (0, False))
        return reshape_raw(y, (1,) * len(axes)) if keepdims else y
    for a in reversed(axes):
        x = execute(PROD, _prod_kernel, (x,), (a, keepdims))
    return x


@PROD.gradient
def _(node, grad):
    x, = node.inputs
    axis, keepdims = node.attrs
    others = multiply(cumprod(x, axis, exclusive=True),
                      cumprod(x, axis, exclusive=True, reverse=True))
    if x.dtype.is_complex:  # the gradient is in the conjugate direction
        others = conj(others)
    return multiply(expand_reduced(grad, tuple(x._t.shape), (axis,), keepdims), others)


# -- any and all ----------------------------------------------------------------------------

ANY = define("Any", differentiable=False)
ALL = define("All", differentiable=False)


def _any_kernel(t, axes, keepdims):
    return torch.any(t, dim=axes, keepdim=keepdims)


def _all_kernel(t, axes, keepdims):
    return torch.all(t, dim=axes, keepdim=keepdims)


def _logical(op, kernel, input_tensor, axis, keepdims):
    x = input_tensor if is_tensor_like(input_tensor) else \
        convert_to_tensor(input_tensor, dtype=_d.bool)
    x = _input(x)
    if x._dtype is not _d.bool:
        raise error(f"cannot compute {op.name} as input #0(zero-based) was expected to be a "
                    f"bool tensor but is a {tf_type_name(x._dtype)} tensor", op)
    return _reduce(op, kernel, (_d.bool,), _BOOL_SET, x, axis, keepdims)


def reduce_any(input_tensor, axis=None, keepdims=False, name=None):
    """Logical or across `axis` of a bool tensor."""
    return _logical(ANY, _any_kernel, input_tensor, axis, keepdims)


def reduce_all(input_tensor, axis=None, keepdims=False, name=None):
    """Logical and across `axis` of a bool tensor."""
    return _logical(ALL, _all_kernel, input_tensor, axis, keepdims)


# -- euclidean norm; variance, std and logsumexp (composites, as in TF) ---------------------

EUCLIDEAN_NORM = define("EuclideanNorm")


def _norm_kernel(t, axes, keepdims):
    if not axes:  # torch would reduce every axis
        return t.abs().to(t.dtype)
    if t.is_floating_point():
        return torch.linalg.vector_norm(t, dim=axes, keepdim=keepdims)
    if t.is_complex():
        return torch.linalg.vector_norm(t, dim=axes, keepdim=keepdims).to(t.dtype)
    wide = t.to(torch.float64)
    return torch.sum(wide * wide, dim=axes, keepdim=keepdims).sqrt().to(t.dtype)


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """sqrt(sum(x**2)) across `axis`, in x's dtype (integers truncate, as in TF)."""
    x = _input(input_tensor)
    if x._dtype not in _SUM_SET:
        check_dtype(x, SUM_TYPES, EUCLIDEAN_NORM)
    axes = reduction_axes(x, axis, EUCLIDEAN_NORM)  # no axes still means |x|
    return execute(EUCLIDEAN_NORM, _norm_kernel, (x,), (axes, bool(keepdims)))


@EUCLIDEAN_NORM.gradient
def _(node, grad):
    x, = node.inputs
    axes, keepdims = node.attrs
    shape = tuple(x._t.shape)
    norm = node.outputs[0]
    if not keepdims:
        kept = tuple(1 if i in axes else d for i, d in enumerate(shape))
        norm, grad = reshape_raw(norm, kept), reshape_raw(grad, kept)
    return divide(x, divide(norm, grad))  # TF's form: x / (norm / grad)


def _squared_deviations(x, axis):
    """|x - mean(x)|**2 over `axis`, validated as TF validates it (through Mean)."""
    means = reduce_mean(x, axis, keepdims=True)
    if x._dtype.is_integer:
        raise TypeError(f"Input must be either real or complex. Received integer type "
                        f"{x._dtype}.")
    return square(abs(subtract(x, means)))


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance across `axis`; complex inputs give a real result."""
    return reduce_mean(_squared_deviations(_input(input_tensor), axis), axis, keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation across `axis`; complex inputs give a real result."""
    return sqrt(reduce_variance(input_tensor, axis, keepdims))


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """log(sum(exp(x))) across `axis`, computed stably by shifting by the (finite) maximum."""
    x = _input(input_tensor)
    raw_max = reduce_max(x, axis, keepdims=True)
    # TF stops the gradient through the shift; its total derivative is zero either way.
    shift = where(is_finite(raw_max), raw_max, zeros_like(raw_max))
    result = log(reduce_sum(exp(subtract(x, shift)), axis, keepdims))
    if not keepdims:
        shift = reshape_raw(shift, tuple(result._t.shape))
    return add(result, shift)


# -- count_nonzero ----------------------------------------------------------------------------

COUNT_NONZERO = define("CountNonzero", differentiable=False)


def _count_kernel(t, axes, keepdims, out):
    hits = t != 0
    if not axes:
        return hits.to(out)
    return torch.sum(hits, dim=axes, keepdim=keepdims, dtype=torch.int64).to(out)


def count_nonzero(input, axis=None, keepdims=None, dtype=_d.int64, name=None):  # noqa: A002
    """Number of non-zero (non-empty, for strings) elements across `axis`, as `dtype`."""
    x = _input(input)
    dtype = _d.as_dtype(dtype)
    keepdims = bool(keepdims)
    axes = reduction_axes(x, axis, SUM)
    if x._dtype is _d.string:
        hits = np.vectorize(len, otypes=[np.int64])(x._t) > 0 if x._t.size else \
            np.zeros(x._t.shape, bool)
        counts = np.sum(hits, axis=axes, keepdims=keepdims, dtype=np.int64)
        return constant(counts, dtype=dtype)
    return execute(COUNT_NONZERO, _count_kernel, (x,), (axes, keepdims, dtype.torch))


# -- argmax and argmin ------------------------------------------------------------------------

ARGMAX = define("ArgMax", differentiable=False)
ARGMIN = define("ArgMin", differentiable=False)


def _arg_kernel(fn, nan):
    def kernel(t, axis, out):
        if t.is_floating_point():  # TF's kernel never picks a NaN unless all are NaN
            t = torch.nan_to_num(t, nan=nan, posinf=float("inf"), neginf=float("-inf"))
        elif t.dtype is torch.bool:
            t = t.to(torch.uint8)
        return fn(t, dim=axis).to(out)
    return kernel


_argmax_kernel = _arg_kernel(torch.argmax, float("-inf"))
_argmin_kernel = _arg_kernel(torch.argmin, float("inf"))


def _arg(op, kernel, x, axis, output_type):
    x = _input(x)
    if x._dtype not in _ARG_SET:
        check_dtype(x, _ARG_TYPES, op)
    output_type = _d.as_dtype(output_type)
    allowed = _ARG_OUTPUT_TYPES[op.name]
    if output_type not in allowed:
        names = ", ".join(d.name for d in allowed)
        raise error(f"Value for attr 'output_type' of {tf_type_name(output_type)} is not in "
                    f"the list of allowed values: {names}\n\t; NodeDef: {{{{node {op.name}}}}}",
                    op)
    if axis is None:
        axis = 0
    elif type(axis) is not int and not isinstance(axis, bool):
        if isinstance(axis, np.generic):
            raise TypeError(f"axis tensor dtypes {axis.dtype.name} is not supported")
        if not is_tensor_like(axis):
            raise TypeError("axis must be int or Tensor with integer datatype")
        t = convert_to_tensor(axis)
        if not t._dtype.is_integer:
            raise TypeError(f"axis tensor dtypes {t._dtype} is not supported")
        if t.ndim != 0:
            raise kernel_error(f"dim must be a scalar, but received tensor of shape: "
                               f"{list(t.shape)}", op, _device(x))
        axis = int(t.numpy())
    axis = int(axis)
    ndim = x._t.ndim
    if not -ndim <= axis < ndim:
        raise kernel_error(f"Expected dimension in the range [{-ndim}, {ndim}), but got "
                           f"{axis}", op, _device(x))
    if x._t.shape[axis] == 0:
        shape = ",".join(str(d) for d in x._t.shape)
        raise kernel_error(f"Reduction axis {axis} is empty in shape [{shape}]", op,
                           _device(x))
    return execute(op, kernel, (x,), (axis % ndim, output_type.torch))


def argmax(input, axis=None, output_type=_d.int64, name=None):  # noqa: A002
    """Index of the largest value along `axis` (default 0; the first one among ties)."""
    return _arg(ARGMAX, _argmax_kernel, input, axis, output_type)


def argmin(input, axis=None, output_type=_d.int64, name=None):  # noqa: A002
    """Index of the smallest value along `axis` (default 0; the first one among ties)."""
    return _arg(ARGMIN, _argmin_kernel, input, axis, output_type)


# -- cumsum and cumprod -------------------------------------------------------------------------

CUMSUM = define("Cumsum")
CUMPROD = define("Cumprod")


def _scan_kernel(scan, fill):
    def kernel(t, axis, exclusive, reverse):
        if reverse:
            t = t.flip(axis)
        out = scan(t, axis, dtype=t.dtype)
        n = t.shape[axis]
        if exclusive and n:
            first = torch.full_like(t.narrow(axis, 0, 1), fill)
            out = torch.cat((first, out.narrow(axis, 0, n - 1)), axis)
        return out.flip(axis) if reverse else out
    return kernel


_cumsum_kernel = _scan_kernel(torch.cumsum, 0)
_cumprod_kernel = _scan_kernel(torch.cumprod, 1)


def _scan(op, kernel, x, axis, exclusive, reverse):
    x = _input(x)
    if x._dtype not in _SUM_SET:
        check_dtype(x, SUM_TYPES, op)
    for arg, value in (("exclusive", exclusive), ("reverse", reverse)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"Expected bool for argument '{arg}' not {value!r}.")
    if type(axis) is not int:
        values = axis_values(axis, op)
        shape = list(convert_to_tensor(axis).shape) if is_tensor_like(axis) else \
            list(np.shape(axis))
        if shape:
            raise kernel_error(f"ScanOp: axis must be a scalar, not {shape}", op, _device(x),
                               not isinstance(axis, (list, tuple)))
        axis = values[0]
    ndim = x._t.ndim
    if not -ndim <= axis < ndim:
        raise kernel_error(f"ScanOp: Expected scan axis in the range [{-ndim}, {ndim}), but "
                           f"got {axis + ndim if axis < 0 else axis}", op, _device(x))
    return execute(op, kernel, (x,), (axis % ndim, bool(exclusive), bool(reverse)))


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative sum along `axis`; `exclusive` starts from 0, `reverse` runs backwards."""
    return _scan(CUMSUM, _cumsum_kernel, x, axis, exclusive, reverse)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative product along `axis`; `exclusive` starts from 1, `reverse` runs backwards."""
    return _scan(CUMPROD, _cumprod_kernel, x, axis, exclusive, reverse)


@CUMSUM.gradient
def _(node, grad):
    axis, exclusive, reverse = node.attrs
    return execute(CUMSUM, _cumsum_kernel, (grad,), (axis, exclusive, not reverse))


@CUMPROD.gradient
def _(node, grad):
    # TF's rule: where x is zero the gradient is zero (div_no_nan), exact or not.
    x, = node.inputs
    axis, exclusive, reverse = node.attrs
    summed = execute(CUMSUM, _cumsum_kernel, (multiply(node.outputs[0], grad),),
                     (axis, exclusive, not reverse))
    return divide_no_nan(summed, x)
