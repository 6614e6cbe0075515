"""The three cross-entropies of `tf.nn`: softmax (dense labels, v2: labels get gradients),
sparse softmax (integer labels) and sigmoid. Each is one fused, numerically stable torch
kernel; the gradients are compositions of softmax/softplus ops, so nested tapes give second
derivatives (TF's own second-order rule for these ops is the softmax Jacobian, which the
composition reproduces).
"""
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.ops._op import binary_operands, check_dtype, define, execute, host_check, \
    kernel_error
from tapeflow.ops.elementwise import cast
from tapeflow.ops.broadcast import reshape_raw, unbroadcast
from tapeflow.ops.math import MUL, multiply, negative, subtract
from tapeflow.ops.nn import (FLOATS, LOG_SOFTMAX, _FLOAT_NAMES_ORDER, softmax_backward,
                             softmax_raw, softplus_grad)

_F = torch.nn.functional
_HALF = (torch.float16, torch.bfloat16)


def _dims(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def _as_matrix_dims(shape):
    """TF reshapes logits to 2-D before its kernel; errors show those sizes."""
    n = 1
    for d in shape[:-1]:
        n *= d
    return [n, shape[-1]] if shape else [1, 1]


def _with_class_dim(grad, axis):
    """`grad` (one value per example) with a size-1 class dimension at `axis`."""
    shape = list(grad._t.shape)
    shape.insert(axis, 1)
    return reshape_raw(grad, tuple(shape))


# -- softmax cross-entropy (dense labels) ------------------------------------------------------

SOFTMAX_XENT = define("SoftmaxCrossEntropyWithLogits")


def _softmax_xent_kernel(logits, labels, axis):
    if logits.dtype in _HALF:  # TF computes half-precision cross-entropies in float32
        return _softmax_xent_kernel(logits.float(), labels.float(), axis).to(logits.dtype)
    return -(labels * torch.log_softmax(logits, axis)).sum(axis)


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Cross-entropy between `labels` (a distribution per example) and `softmax(logits)`.

    Both have the class dimension at `axis`; `labels` broadcasts against `logits`. Gradients
    flow to both (TF 2's v2 semantics).
    """
    x = logits if type(logits) is Tensor else convert_to_tensor(logits)
    z = labels if type(labels) is Tensor else convert_to_tensor(labels)
    if x._dtype is not dtypes.float32 and x._dtype not in FLOATS:
        check_dtype(x, _FLOAT_NAMES_ORDER, SOFTMAX_XENT)
    if z._dtype is not x._dtype:  # TF casts labels to the logits' dtype
        z = cast(z, x._dtype)
    n = x._t.ndim
    if n == 0:
        raise kernel_error("logits must have >= 1 dimension, got []", SOFTMAX_XENT, x._t.device)
    if not -n <= axis < n:
        raise kernel_error(f"axis {axis} is out of bounds for logits of rank {n}", SOFTMAX_XENT,
                           x._t.device)
    axis %= n
    try:
        return execute(SOFTMAX_XENT, _softmax_xent_kernel, (x, z), (axis,))
    except InvalidArgumentError:  # a shape torch refused: TF's text
        raise kernel_error(f"logits and labels must be broadcastable: logits_size="
                           f"{_dims(_as_matrix_dims(tuple(x._t.shape)))} labels_size="
                           f"{_dims(_as_matrix_dims(tuple(z._t.shape)))}", SOFTMAX_XENT,
                           x._t.device) from None


@SOFTMAX_XENT.gradient
def _(node, grad):
    logits, labels = node.inputs
    axis = node.attrs[0]
    skip = node.skip_input_indices
    g = _with_class_dim(grad, axis)
    d_logits = d_labels = None
    if 0 not in skip:
        d_logits = unbroadcast(multiply(g, subtract(softmax_raw(logits, axis), labels)), logits)
    if 1 not in skip:  # labels are usually constants: only computed when a source needs them
        log_p = execute(LOG_SOFTMAX, torch.log_softmax, (logits,), (axis,))
        d_labels = unbroadcast(multiply(g, negative(log_p)), labels)
    return d_logits, d_labels


# -- sparse softmax cross-entropy (integer labels) ---------------------------------------------

SPARSE_XENT = define("SparseSoftmaxCrossEntropyWithLogits")
SPARSE_XENT_BACKPROP = define("SparseSoftmaxCrossEntropyWithLogitsBackprop")
_LABEL_TYPES = (dtypes.int32, dtypes.int64)


def _check_labels(labels, classes):
    """TF's CPU kernel refuses labels outside [0, classes); on GPUs those rows become NaN."""
    if labels.device.type == "cpu" and labels.numel():
        lo, hi = torch.aminmax(labels)  # one pass; the detail below only when one is bad
        if int(lo) < 0 or int(hi) >= classes:
            bad = (labels < 0) | (labels >= classes)
            value = int(labels[bad][0])
            shown = " ".join(str(int(v)) for v in labels.reshape(-1).tolist())
            raise ValueError(f"Received a label value of {value} which is outside the valid "
                             f"range of [0, {classes}).  Label values: {shown}")


@host_check
def _sparse_xent_kernel(logits, labels):
    if logits.dtype == torch.float16:  # TF computes float16 in float32
        return _sparse_xent_kernel(logits.float(), labels).half()
    classes = logits.shape[-1]
    _check_labels(labels, classes)
    flat = logits.reshape(-1, classes)
    lab = labels.reshape(-1).long()
    if labels.device.type == "cuda":
        valid = (lab >= 0) & (lab < classes)
        loss = _F.cross_entropy(flat, lab.clamp(0, classes - 1), reduction="none")
        loss = torch.where(valid, loss, torch.nan)
    else:
        loss = _F.cross_entropy(flat, lab, reduction="none")
    return loss.reshape(labels.shape)


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """Cross-entropy between integer class `labels` (shape `logits.shape[:-1]`) and
    `softmax(logits)` over the last axis. Labels get no gradient."""
    x = logits if type(logits) is Tensor else convert_to_tensor(logits)
    z = labels if type(labels) is Tensor else convert_to_tensor(labels)
    if x._dtype is not dtypes.float32 and x._dtype not in FLOATS:
        check_dtype(x, _FLOAT_NAMES_ORDER, SPARSE_XENT)
    if z._dtype not in _LABEL_TYPES:
        check_dtype(z, _LABEL_TYPES, SPARSE_XENT, attr="Tlabels")
    xs, zs = tuple(x._t.shape), tuple(z._t.shape)
    if len(zs) != len(xs) - 1:
        raise ValueError(f"`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: "
                         f"labels.shape={zs} of rank {len(zs)} and logits.shape={xs} of rank "
                         f"{len(xs)}")
    if zs != xs[:-1]:
        raise ValueError(f"`labels.shape` must equal `logits.shape` except for the last "
                         f"dimension. Received: labels.shape={zs} and logits.shape={xs}")
    try:
        return execute(SPARSE_XENT, _sparse_xent_kernel, (x, z))
    except InvalidArgumentError as e:  # a label out of range: TF words it as a kernel error
        raise kernel_error(e.message.split(" [Op:")[0], SPARSE_XENT, x._t.device) from None


def _sparse_backprop_kernel(logits, labels):
    """`softmax(logits) - one_hot(labels)` in one pass."""
    classes = logits.shape[-1]
    out = torch.softmax(logits, -1, dtype=torch.float32).to(logits.dtype) \
        if logits.dtype == torch.float16 else torch.softmax(logits, -1)
    lab = labels.long().unsqueeze(-1)
    if labels.device.type == "cuda":
        valid = (lab >= 0) & (lab < classes)
        out = torch.where(valid, out, torch.nan)
        lab = lab.clamp(0, classes - 1)
    return out.scatter_add(-1, lab, torch.full(lab.shape, -1, dtype=out.dtype,
                                                device=out.device))


@SPARSE_XENT.gradient
def _(node, grad):
    logits, labels = node.inputs
    backprop = execute(SPARSE_XENT_BACKPROP, _sparse_backprop_kernel, (logits, labels))
    return multiply(_with_class_dim(grad, grad._t.ndim), backprop), None


@SPARSE_XENT_BACKPROP.gradient
def _(node, grad):
    logits = node.inputs[0]
    axis = logits._t.ndim - 1
    return softmax_backward(grad, softmax_raw(logits, axis), axis), None


# -- sigmoid cross-entropy ---------------------------------------------------------------------

SIGMOID_XENT = define("SigmoidCrossEntropyWithLogits")


def _sigmoid_xent_kernel(logits, labels):
    # max(x, 0) - x * z + log1p(exp(-|x|)), TF's stable form; torch's bfloat16 kernel loses
    # most of the log1p term, so half precision is computed in float32 and rounded once
    if logits.dtype in _HALF:
        return _F.binary_cross_entropy_with_logits(logits.float(), labels.float(),
                                                   reduction="none").to(logits.dtype)
    return _F.binary_cross_entropy_with_logits(logits, labels, reduction="none")


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Elementwise cross-entropy between `labels` in [0, 1] and `sigmoid(logits)`, stable for
    large `|logits|`. Both get gradients."""
    if labels is None or logits is None:
        raise ValueError("Both `labels` and `logits` must be provided for "
                         "sigmoid_cross_entropy_with_logits"
                         f"Received: labels={labels} and logits={logits}")
    x = logits if type(logits) is Tensor else convert_to_tensor(logits)
    z = labels if type(labels) is Tensor else convert_to_tensor(labels)
    if x._dtype is not z._dtype:
        binary_operands(x, z, MUL)  # TF's composite first fails in its Mul, with that text
    if x._dtype is not dtypes.float32 and x._dtype not in FLOATS:
        check_dtype(x, _FLOAT_NAMES_ORDER, MUL)
    if x._t.shape != z._t.shape:
        raise ValueError(f"`logits` and `labels` must have the same shape, received "
                         f"({tuple(x._t.shape)} vs {tuple(z._t.shape)}).")
    return execute(SIGMOID_XENT, _sigmoid_xent_kernel, (x, z))


@SIGMOID_XENT.gradient
def _(node, grad):
    x, z = node.inputs
    skip = node.skip_input_indices
    # d/dx = sigmoid(x) - z, and grad * sigmoid(x) is softplus_grad(grad, x)
    d_logits = None if 0 in skip else subtract(softplus_grad(grad, x), multiply(grad, z))
    d_labels = None if 1 in skip else negative(multiply(grad, x))
    return d_logits, d_labels
