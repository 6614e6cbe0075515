"""Neural-network activations and helpers: relu and its family, gelu, silu, softmax and
log_softmax, bias_add and l2_loss. The cross-entropies live in nn_xent.py, compositions of
other ops (l2_normalize, moments, dropout) in nn_impl.py.

Each activation is one torch kernel. Where TensorFlow has a `*Grad` op (ReluGrad, EluGrad...),
so do we (`_grad_op` defines it beside its activation): the gradient is then one fused torch
backward kernel, and the `*Grad` op has its own gradient (as in TF's nn_grad.py) so that
nested tapes give second derivatives.
"""
import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.errors import InvalidArgumentError
from tapeflow._core.tensor import Tensor, convert_to_tensor
from tapeflow.ops import _gemm
from tapeflow.ops._op import binary_operands, check_dtype, define, execute, kernel_error, \
    rewrite, scalar
from tapeflow.ops.broadcast import reduce_sum_raw
from tapeflow.ops.elementwise import cast, erfc, exp, sigmoid, square, tanh
from tapeflow.ops.linalg import MATMUL
from tapeflow.ops.math import ADD, add, multiply, negative, ones_like, subtract, zeros_like

_F16, _BF16, _F32, _F64 = dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64
FLOATS = (_F32, _F64, _F16, _BF16)  # float32 first: tuple membership tests identity first
_RELU_TYPES = (_F32, _F64, dtypes.int32, dtypes.uint8, dtypes.int16, dtypes.int8, dtypes.int64,
               _BF16, dtypes.uint16, _F16, dtypes.uint32, dtypes.uint64)
_FLOAT_NAMES_ORDER = (_F16, _BF16, _F32, _F64)  # the order TF lists them in errors

_aten = torch.ops.aten


def _unary(op, kernel, x, allowed, attrs=(), signature="features:T -> activations:T"):
    """Runs a one-input op after TF's dtype check."""
    if type(x) is not Tensor:
        x = convert_to_tensor(x)
    if x._dtype not in allowed:
        check_dtype(x, allowed if allowed is not FLOATS else _FLOAT_NAMES_ORDER, op,
                    signature=signature)
    return execute(op, kernel, (x,), attrs)


def _grad_op(op, kernel, of_output):
    """Defines TF's `<Op>Grad` op for the activation `op`, one fused torch backward kernel
    `kernel(gradients, y, *attrs)` where `y` is the activation's output (`of_output`) or its
    features, and makes it `op`'s gradient. Returns the `*Grad` op and the function
    `(gradients, y, *attrs)` that runs it; the caller registers the `*Grad` op's own
    gradient."""
    grad_op = define(op.name + "Grad")

    def run(gradients, y, *attrs):
        return execute(grad_op, kernel, (gradients, y), attrs)

    @op.gradient
    def _(node, grad):
        return run(grad, node.outputs[0] if of_output else node.inputs[0], *node.attrs)

    return grad_op, run


def _piecewise_linear_second_order(grad_op, run):
    """The gradient of a piecewise-linear activation's `*Grad` op: the op itself applied to
    `grad` (it is linear in its gradients), and zeros for `y`, as TF returns (or nothing, when
    this walk does not need it)."""
    @grad_op.gradient
    def _(node, grad):
        y = node.inputs[1]
        dy = None if 1 in node.skip_input_indices else zeros_like(y)
        return run(grad, y, *node.attrs), dy


def _elu_like_second_order(grad_op, run):
    """The gradient of EluGrad and SeluGrad, `g * (y + c)` on y < 0 (`g * s` elsewhere): the
    op itself applied to `grad`, and for `y`, `grad * g` where y < 0 (relu_grad of -y keeps
    exactly y < 0)."""
    @grad_op.gradient
    def _(node, grad):
        g, y = node.inputs
        dy = None if 1 in node.skip_input_indices else relu_grad(multiply(grad, g), negative(y))
        return run(grad, y), dy


# -- relu family -----------------------------------------------------------------------------

RELU = define("Relu")


def relu(features, name=None):
    """`max(features, 0)`; its gradient at 0 is 0, as in TF."""
    x = features if type(features) is Tensor else convert_to_tensor(features)
    if x._dtype is not _F32 and x._dtype not in _RELU_TYPES:
        check_dtype(x, _RELU_TYPES, RELU)
    return execute(RELU, torch.relu, (x,))


def _relu_grad_kernel(g, y):  # `g` where `y > 0`, else 0
    return _aten.threshold_backward(g, y, 0)


RELU_GRAD, relu_grad = _grad_op(RELU, _relu_grad_kernel, of_output=True)
_piecewise_linear_second_order(RELU_GRAD, relu_grad)


RELU6 = define("Relu6")


def _relu6_kernel(x):
    return torch.clamp(x, 0, 6)


def relu6(features, name=None):
    """`min(max(features, 0), 6)`."""
    return _unary(RELU6, _relu6_kernel, features, _RELU_TYPES)


def _relu6_grad_kernel(g, y):
    return _aten.hardtanh_backward(g, y, 0.0, 6.0)


RELU6_GRAD, relu6_grad = _grad_op(RELU6, _relu6_grad_kernel, of_output=True)
_piecewise_linear_second_order(RELU6_GRAD, relu6_grad)


LEAKY_RELU = define("LeakyRelu")


def _leaky_relu_kernel(x, alpha):
    return torch.where(x > 0, x, x * alpha)


def leaky_relu(features, alpha=0.2, name=None):
    """`features` where positive, else `alpha * features`. Integers are computed as float32."""
    x = features if type(features) is Tensor else convert_to_tensor(features)
    if x._dtype.is_integer:
        x = cast(x, _F32)
    if hasattr(alpha, "item"):
        alpha = alpha.item()
    alpha = float(np.float32(alpha))  # TF's attr is a C float, also for float64 features
    return _unary(LEAKY_RELU, _leaky_relu_kernel, x, FLOATS, (alpha,))


def _leaky_relu_grad_kernel(g, x, alpha):
    return torch.where(x > 0, g, g * alpha)


LEAKY_RELU_GRAD, leaky_relu_grad = _grad_op(LEAKY_RELU, _leaky_relu_grad_kernel,
                                            of_output=False)
_piecewise_linear_second_order(LEAKY_RELU_GRAD, leaky_relu_grad)


# elu and selu: y <= 0 gives d/dx = scale * (y + alpha * scale) with TF's constants.
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

ELU = define("Elu")
SELU = define("Selu")


def _elu_kernel(x):
    return torch.nn.functional.elu(x)


def elu(features, name=None):
    """`features` where positive, else `exp(features) - 1`."""
    return _unary(ELU, _elu_kernel, features, FLOATS)


def _elu_grad_kernel(g, y):
    return _aten.elu_backward(g, 1.0, 1.0, 1.0, True, y)


ELU_GRAD, elu_grad = _grad_op(ELU, _elu_grad_kernel, of_output=True)
_elu_like_second_order(ELU_GRAD, elu_grad)


def selu(features, name=None):
    """`scale * elu(features)` with alpha and scale from Klambauer et al. (2017)."""
    return _unary(SELU, torch.selu, features, FLOATS)


def _selu_grad_kernel(g, y):
    # TF takes the linear branch at y == 0 (torch's elu_backward takes the other one)
    return torch.where(y < 0, g * (y + _SELU_ALPHA * _SELU_SCALE), g * _SELU_SCALE)


SELU_GRAD, selu_grad = _grad_op(SELU, _selu_grad_kernel, of_output=True)
_elu_like_second_order(SELU_GRAD, selu_grad)


SOFTPLUS = define("Softplus")


def _softplus_kernel(x):
    return torch.nn.functional.softplus(x)


def softplus(features, name=None):
    """`log(exp(features) + 1)`, computed stably."""
    return _unary(SOFTPLUS, _softplus_kernel, features, FLOATS)


def _softplus_grad_kernel(g, x):  # g * sigmoid(x)
    return _aten.softplus_backward(g, x, 1, 20)


SOFTPLUS_GRAD, softplus_grad = _grad_op(SOFTPLUS, _softplus_grad_kernel, of_output=False)


@SOFTPLUS_GRAD.gradient
def _(node, grad):
    dy, x = node.inputs
    if 1 in node.skip_input_indices:
        return softplus_grad(grad, x), None
    s = softplus_grad(ones_like(x), x)  # sigmoid(x), whose derivative is s - s * s
    return softplus_grad(grad, x), multiply(multiply(grad, dy), subtract(s, multiply(s, s)))


SOFTSIGN = define("Softsign")


def _softsign_kernel(x):
    return x / (1 + x.abs())


def softsign(features, name=None):
    """`features / (abs(features) + 1)`."""
    return _unary(SOFTSIGN, _softsign_kernel, features, FLOATS)


def _softsign_grad_kernel(g, x):
    return g / (1 + x.abs()).square()


SOFTSIGN_GRAD, softsign_grad = _grad_op(SOFTSIGN, _softsign_grad_kernel, of_output=False)


@SOFTSIGN_GRAD.gradient
def _(node, grad):
    # d/dx g / (1 + |x|)^2 = -2 g q sign(x) / (1 + |x|) = -2 g q (sign(x) - softsign(x)),
    # with q = 1 / (1 + |x|)^2; sign(x) is built from relu_grad (piecewise constant).
    g, x = node.inputs
    if 1 in node.skip_input_indices:
        return softsign_grad(grad, x), None
    one = ones_like(x)
    sign = subtract(relu_grad(one, x), relu_grad(one, negative(x)))
    q = softsign_grad(one, x)
    dx = multiply(multiply(multiply(grad, g), q), subtract(sign, softsign(x)))
    return softsign_grad(grad, x), multiply(dx, _const(-2.0, x))


def _const(value, like):
    return scalar(value, like._dtype, like._t.device)


# -- gelu and silu: one fused kernel forward, gradients composed of tapeflow ops --------------

GELU = define("Gelu")
# TF casts these two constants from float32 tensors, so float64 gelu sees float32 roundings
_SQRT_HALF, _TANH_K = float(np.float32(0.7071067811865476)), float(np.float32(0.044715))
_TANH_C, _SQRT_PI = 0.7978845608028654, 1.7724538509055159


def _gelu_kernel(x, approximate):
    # TF's formulas: torch's fused gelu is off by ~1e-4 (relative) in the tails in float32
    if approximate == "none":
        return 0.5 * x * torch.erfc(x * -_SQRT_HALF)
    return 0.5 * x * (1.0 + torch.tanh(_TANH_C * (x + _TANH_K * x * x * x)))


def gelu(features, approximate=False, name=None):
    """`features * P(X <= features)` for a standard normal X (`approximate=True`: TF's tanh
    approximation)."""
    x = features if type(features) is Tensor else convert_to_tensor(features)
    if not x._dtype.is_floating:
        raise ValueError("`features.dtype` must be a floating point tensor."
                         f"Received:features.dtype={x._dtype}")
    return execute(GELU, _gelu_kernel, (x,), ("tanh" if approximate else "none",))


@GELU.gradient
def _(node, grad):
    x = node.inputs[0]
    if node.attrs[0] == "none":  # d/dx x erfc(-c x) / 2 = erfc(-c x) / 2 + x c e^(-c²x²) / √π
        cdf = multiply(erfc(multiply(x, _const(-_SQRT_HALF, x))), _const(0.5, x))
        pdf = multiply(exp(multiply(square(x), _const(-_SQRT_HALF * _SQRT_HALF, x))),
                       _const(_SQRT_HALF / _SQRT_PI, x))
        return multiply(grad, add(cdf, multiply(x, pdf)))
    # y = x (1 + t) / 2 with t = tanh(c (x + k x^3))
    x2 = square(x)
    t = tanh(multiply(multiply(x, add(multiply(x2, _const(_TANH_K, x)), _const(1.0, x))),
                      _const(_TANH_C, x)))
    du = multiply(add(multiply(x2, _const(3 * _TANH_K, x)), _const(1.0, x)), _const(_TANH_C, x))
    slope = add(multiply(add(t, _const(1.0, x)), _const(0.5, x)),
                multiply(multiply(multiply(x, _const(0.5, x)), subtract(_const(1.0, x),
                                                                        square(t))), du))
    return multiply(grad, slope)


SILU = define("Silu")


def silu(features, beta=1.0):
    """`features * sigmoid(beta * features)` (also `tf.nn.swish`). With the default beta it is
    one fused kernel; another beta (which may be a tensor, and gets a gradient) composes."""
    x = features if type(features) is Tensor else convert_to_tensor(features)
    if isinstance(beta, (int, float)) and beta == 1.0:
        return execute(SILU, torch.nn.functional.silu, (x,))
    beta = cast(beta, x._dtype)
    return multiply(x, sigmoid(multiply(beta, x)))


swish = silu


@SILU.gradient
def _(node, grad):
    x = node.inputs[0]
    s = sigmoid(x)  # d/dx x s(x) = s (1 + x (1 - s))
    return multiply(grad, multiply(s, add(_const(1.0, x), multiply(x, subtract(_const(1.0, x),
                                                                                 s)))))


# -- softmax -----------------------------------------------------------------------------------

SOFTMAX = define("Softmax")
LOG_SOFTMAX = define("LogSoftmax")


def _check_axis(x, axis):
    n = x._t.ndim
    if not -n <= axis < n:
        raise InvalidArgumentError(
            None, None, f"`dim` must be in the range [-{n}, {n}) where {n} is the number of "
            f"dimensions in the input. Received: dim={axis}")
    return axis % n


def _softmax_like(op, kernel, logits, axis):
    x = logits if type(logits) is Tensor else convert_to_tensor(logits)
    if x._dtype is not _F32 and x._dtype not in FLOATS:
        out = "softmax" if op is SOFTMAX else "logsoftmax"
        check_dtype(x, _FLOAT_NAMES_ORDER, op, signature=f"logits:T -> {out}:T")
    n = x._t.ndim
    if n == 0:
        raise kernel_error("logits must have >= 1 dimension, got []", op, x._t.device)
    if axis is None or axis == -1:
        axis = n - 1
    else:
        axis = _check_axis(x, int(axis))
    return execute(op, kernel, (x,), (axis,))


def softmax(logits, axis=None, name=None):
    """`exp(logits) / reduce_sum(exp(logits), axis, keepdims=True)` (axis defaults to -1)."""
    return _softmax_like(SOFTMAX, torch.softmax, logits, axis)


def log_softmax(logits, axis=None, name=None):
    """`logits - log(reduce_sum(exp(logits), axis, keepdims=True))` (axis defaults to -1)."""
    return _softmax_like(LOG_SOFTMAX, torch.log_softmax, logits, axis)


def softmax_raw(x, axis):
    """Softmax over a normalised axis of a float tensor (for gradients and compositions)."""
    return execute(SOFTMAX, torch.softmax, (x,), (axis,))


def softmax_backward(grad, y, axis):
    """The vector-Jacobian product of softmax: `(grad - sum(grad * y)) * y`."""
    dot = reduce_sum_raw(multiply(grad, y), (axis,), True)
    return multiply(subtract(grad, dot), y)


@SOFTMAX.gradient
def _(node, grad):
    return softmax_backward(grad, node.outputs[0], node.attrs[0])


@LOG_SOFTMAX.gradient
def _(node, grad):
    axis = node.attrs[0]
    return subtract(grad, multiply(reduce_sum_raw(grad, (axis,), True),
                                   softmax_raw(node.inputs[0], axis)))


# -- bias_add and l2_loss ----------------------------------------------------------------------

BIAS_ADD = define("BiasAdd")


def _bias_add_kernel(x, b, channel_axis):
    if channel_axis == -1:
        return x + b
    return x + b.reshape((-1,) + (1,) * (x.ndim - 2))


def bias_add(value, bias, data_format=None, name=None):
    """`value + bias` with `bias` (1-D) along the channel axis: the last one, or axis 1 when
    `data_format` starts with "NC"."""
    x, b = binary_operands(value, bias, BIAS_ADD)
    if data_format is not None and not isinstance(data_format, str):
        raise ValueError(f"data_format must be a string, got {data_format!r}")
    nchw = data_format is not None and data_format.startswith("NC")
    if x._t.ndim < 2:
        raise kernel_error(f"Input tensor must be at least 2D: {_dims(x)}", BIAS_ADD,
                           x._t.device, name_suffix=False)
    if b._t.ndim != 1:
        raise kernel_error(f"Biases must be 1D: {_dims(b)}", BIAS_ADD, x._t.device,
                           name_suffix=False)
    channels = x._t.shape[1 if nchw else -1]
    if b._t.shape[0] != channels:
        raise kernel_error(f"Must provide as many biases as the last dimension of the input "
                           f"tensor: {_dims(b)} vs. {_dims(x)}", BIAS_ADD, x._t.device,
                           name_suffix=False)
    return execute(BIAS_ADD, _bias_add_kernel, (x, b), (1 if nchw else -1,))


def _dims(t):
    return "[" + ",".join(str(d) for d in t._t.shape) + "]"


@BIAS_ADD.gradient
def _(node, grad):
    channel_axis = node.attrs[0] % grad._t.ndim
    if 1 in node.skip_input_indices:
        return grad, None
    axes = tuple(i for i in range(grad._t.ndim) if i != channel_axis)
    return grad, reduce_sum_raw(grad, axes, False)


def adds_last_axis_bias(step):
    """Whether a plan step adds its second input along the last axis of its first: a plain
    Add (the operands' shapes decide what it broadcasts) or an N..C BiasAdd."""
    return step.kind == "op" and not step.multi and len(step.ins) == 2 and (
        (step.op is ADD and step.kernel is torch.add and not step.attrs)
        or (step.op is BIAS_ADD and step.attrs == (-1,)))


@rewrite("fuse_matmul_bias_relu")
def _fuse_linear(program):
    """MatMul -> Add/BiasAdd [-> Relu] chains become one `_gemm.linear` call, as TF's grappler
    remapper makes `_FusedMatMul`: the product is stored once instead of being written, read
    and written twice more (same bits). A chain fuses only when each intermediate result has
    no other reader (no other step, not a function output); the fused step takes the place of
    the last step it replaces, where all of its inputs are computed."""
    steps = program.steps
    sole_reader, producer = program.sole_readers().get, program.producers()
    replaced = {}   # step index -> fused step (or None: dropped)
    for n, s in enumerate(steps):
        if not adds_last_axis_bias(s):
            continue
        m = producer.get(s.ins[0])
        if m is None or m in replaced or steps[m].op is not MATMUL or \
                steps[m].kernel is not _gemm.matmul or sole_reader(s.ins[0]) != n:
            continue
        last, activation = n, "none"
        k = sole_reader(s.outs[0])
        if k is not None:
            r = steps[k]
            if r.kind == "op" and r.op is RELU and not r.multi:
                last, activation = k, "relu"
        replaced[m] = None
        if last != n:
            replaced[n] = None
        replaced[last] = steps[last].replace(kernel=_gemm.linear,
                                             ins=(*steps[m].ins, s.ins[1]),
                                             attrs=(activation,))
    if replaced:
        program.steps = [replaced.get(n, s) for n, s in enumerate(steps)
                         if replaced.get(n, s) is not None]


L2_LOSS = define("L2Loss")


def _l2_loss_kernel(x):
    return torch.sum(x * x) * 0.5


def l2_loss(t, name=None):
    """`sum(t ** 2) / 2`."""
    return _unary(L2_LOSS, _l2_loss_kernel, t, FLOATS, signature="t:T -> output:T")


@L2_LOSS.gradient
def _(node, grad):
    return multiply(node.inputs[0], grad)
