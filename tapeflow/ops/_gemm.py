"""Dense float32 products on the CPU, through oneDNN.

TensorFlow multiplies float32 matrices on x86 with oneDNN; torch's `mm` goes to MKL's sgemm,
which on AMD processors takes its AVX2 path even where AVX-512 is there: on the 2-core EPYC
(Zen 5) that CI runs on, a 128x784 @ 784x512 product takes 530 us in `torch.mm` and 265 us in
oneDNN. torch ships oneDNN's inner product as `mkldnn::_linear_pointwise` (the kernel its own
compiler emits for `Linear`), which takes plain dense tensors of any strides, so `matmul` below
sends large enough float32 products there and everything else to `torch.matmul`.

oneDNN looks up a cached primitive per call (about 11 us), so small products stay with torch:
below `_MIN_MACS` multiply-adds, or with fewer than `_MIN_ROWS` rows, torch is as fast or faster.
"""
import torch

from tapeflow._core import threads

_MIN_MACS = 1 << 19
_MIN_ROWS = 16


def _probe():
    """oneDNN's inner product, when this torch build has it and it gives the right answer."""
    try:
        op = torch.ops.mkldnn._linear_pointwise
        a, b = torch.ones(2, 3), torch.ones(4, 3)
        if not torch.equal(op(a, b, None, "none", [], ""), torch.full((2, 4), 3.0)):
            return None
    except (AttributeError, RuntimeError):
        return None
    return op


_inner_product = _probe()
_F32 = torch.float32
_compiling = torch.compiler.is_compiling


def follow_load():
    """Lets torch's threads follow the machine's load (`threads.tick`, every 0.5 s at most)
    from a large product or convolution: an eager loop of them, with no tape or tf.function
    around it to tick, would otherwise keep two threads fighting another process for a core
    (a 256x256 matmul with one core busy: 1.8x TF's time). Never while torch.compile traces."""
    if not _compiling():
        threads.tick()


def _large(a, b):
    """Whether `a @ b` takes oneDNN: float32 on the CPU, `b` a matrix, and big enough."""
    if b.ndim != 2 or a.dtype is not _F32 or b.dtype is not _F32 or not a.is_cpu or \
            _inner_product is None:
        return False
    k, n = b.shape
    rows = a.numel() // k if k else 0
    # under torch.compile (jit_compile=True) Inductor lowers and fuses torch's matmul itself,
    # and cannot lower oneDNN's inner product from a transposed view
    return rows >= _MIN_ROWS and rows * k * n >= _MIN_MACS and not _compiling()


def matmul(a, b):
    """`a @ b` for torch tensors; `a` of rank >= 2 with a matrix `b` (batch dimensions of `a`
    are more rows) goes to oneDNN when `_large`, anything else to `torch.matmul`.

    oneDNN's inner product streams its source operand well only when that is row-major: with a
    transposed view `a` (the weight gradient `x^T @ dy`) it runs 1.3-3x slower. Then the
    product runs as `(b^T @ a^T)^T`, a transposed view, when `b^T` is row-major or `a` has far
    more rows than `b` columns (a 512x128 @ 128x10 gradient: 73 -> 29 us), and otherwise on a
    row-major copy of `a` (128x784 @ 784x512: 354 -> 38 + 273 us)."""
    if _large(a, b):
        follow_load()
        if a.ndim == 2 and not a.is_contiguous():
            bt = b.t()
            if bt.is_contiguous() or a.shape[0] >= 4 * b.shape[1]:
                return _inner_product(bt, a, None, "none", [], "").t()
            a = a.contiguous()
        return _inner_product(a, b.t(), None, "none", [], "")
    return torch.matmul(a, b)


def addmm(bias, a, b, out=None):
    """`bias + a @ b` for matrices `a`, `b` and a `bias` of the product's shape or a row;
    written into `out` when given."""
    if _large(a, b):
        follow_load()
        product = _inner_product(a, b.t(), None, "none", [], "")
        return torch.add(product, bias, out=out)
    return torch.addmm(bias, a, b, out=out)


def linear(x, w, bias, activation):
    """`activation(x @ w + bias)` with `activation` "none" or "relu": one oneDNN call with
    bias and ReLU applied as the product is stored, when `_large` and `bias` is a row; else the
    same kernels a traced graph would run one by one. oneDNN adds the bias and clamps after
    the float32 accumulation, so both ways give the same bits."""
    if bias.ndim == 1 and _large(x, w) and x.is_contiguous() and bias.dtype is _F32 and \
            bias.shape[0] == w.shape[1]:
        follow_load()
        return _inner_product(x, w.t(), bias, activation, [], "")
    out = torch.add(matmul(x, w), bias)
    return torch.relu(out) if activation == "relu" else out
