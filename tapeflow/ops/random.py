"""Random ops (`tf.random.*`) and the owner of the random seed.

TensorFlow's seed rules, kept exactly (values differ: torch's generators are not TF's Philox):
- no global seed, no op seed: fresh, non-reproducible numbers;
- global seed, no op seed: each op call takes the next op seed of a sequence that
  `set_seed` restarts, so a program's sequence of random calls repeats after `set_seed`;
- op seed (with the global seed, or TF's default global seed when none is set): the pair names
  one stream, which advances from call to call and restarts when `set_seed` is called.
A stream is a `torch.Generator` on the op's device ("same seed, same numbers, per device").
All of this state lives in `_Seeds` below; `generator(device, seed)` is its one accessor, used
by these ops and by Keras initializers and dropout. Random ops have no gradient.
"""
import operator
import random as _pyrandom

import numpy as np
import torch

from tapeflow._core import dtypes
from tapeflow._core.context import current_device
from tapeflow._core.errors import NotFoundError
from tapeflow._core.shape import TensorShape
from tapeflow._core.tensor import convert_to_tensor, wrap
from tapeflow.ops import _gemm
from tapeflow.ops._op import as_size, define, error, execute, kernel_error, known_values, tf_type_name
from tapeflow.ops.math import add, multiply, subtract

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1
_MASK64 = 2**64 - 1
_FLOATS = (dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64)
_UNIFORM_TYPES = _FLOATS + (dtypes.int32, dtypes.int64)
_SHAPE_TYPES = (dtypes.int32, dtypes.int64)
_FLOAT_SET = frozenset(_FLOATS)  # hashed membership: cheaper than DType.__eq__ over a tuple


# -- the seed state -----------------------------------------------------------------------------

def _mix(a, b):
    """One 64-bit torch seed from a (global, op) seed pair (splitmix64 finaliser)."""
    x = (a * 0x9E3779B97F4A7C15 + b) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _seed_int(seed):
    """TF accepts any seed it can hash into an int (even floats); so do we."""
    try:
        return int(seed)
    except (TypeError, ValueError):
        return _mix(sum(str(seed).encode()), len(str(seed)))


def _new_generator(device, seed=None):
    g = torch.Generator(device=device)
    if seed is None:
        g.seed()
    else:
        g.manual_seed(seed)
    return g


class _Seeds:
    """The global seed, the op-seed sequence it drives, and the generators of each stream."""

    def __init__(self):
        self.global_seed = None
        self.op_seeds = None       # random.Random(global_seed): the op seeds of unseeded ops
        self.streams = {}          # (device, global seed, op seed) -> torch.Generator
        self.unseeded = {}         # device -> non-deterministic torch.Generator

    def set(self, seed):
        self.global_seed = None if seed is None else _seed_int(seed)
        self.op_seeds = None if seed is None else _pyrandom.Random(self.global_seed)
        self.streams.clear()

    def generator(self, device, op_seed):
        if op_seed is None:
            if self.global_seed is None:
                g = self.unseeded.get(device)
                if g is None:
                    g = self.unseeded[device] = _new_generator(device)
                return g
            # A fresh stream per call, named by the next op seed of the sequence (TF's
            # internal_operation_seed), so the n-th random op after set_seed is reproducible.
            return _new_generator(device, _mix(self.global_seed,
                                               self.op_seeds.randint(0, _MAXINT32)))
        global_seed = DEFAULT_GRAPH_SEED if self.global_seed is None else self.global_seed
        key = (device, global_seed, op_seed)
        g = self.streams.get(key)
        if g is None:
            g = self.streams[key] = _new_generator(device, _mix(global_seed, op_seed))
        return g


_seeds = _Seeds()


def set_seed(seed):
    """Sets the global random seed (`None` clears it); random ops after it repeat their numbers.

    Example:
    >>> tf.random.set_seed(42)
    >>> a = tf.random.uniform([2]); tf.random.set_seed(42); b = tf.random.uniform([2])
    >>> bool(tf.reduce_all(a == b))
    True
    """
    _seeds.set(seed)


def get_global_seed():
    return _seeds.global_seed


def generator(device=None, seed=None):
    """The `torch.Generator` a random op with op seed `seed` draws from on `device` (default:
    the current device), by TF's seed rules. Keras initializers and dropout use this too."""
    if device is None:
        device = current_device()
    return _seeds.generator(device, None if seed is None else _seed_int(seed))


# -- argument checks -----------------------------------------------------------------------------

def _shape(shape, op):
    """A shape argument (list, tuple, TensorShape or 1-D int tensor) as a tuple of ints."""
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)):
        try:
            dims = tuple(operator.index(d) for d in shape)
        except TypeError:
            dims = None
        if dims is not None:
            return _check_dims(dims, op)
    t = convert_to_tensor(shape)
    if t._dtype not in _SHAPE_TYPES:
        raise _attr_error("T", t._dtype, _SHAPE_TYPES, op)
    if t.ndim != 1:
        raise _kernel_error(f"shape must be a vector of {{int32,int64}}, got shape "
                            f"{list(t.shape)}", op)
    return _check_dims(tuple(as_size(d) for d in known_values(t)), op)


def _check_dims(dims, op):
    for d in dims:
        if d < 0:
            raise _kernel_error(f"Dimension {d} must be >= 0", op)
    return dims


_STATEFUL = "attr=seed:int,default=0; attr=seed2:int,default=0; "
_SHAPE_T = "attr=T:type,allowed=[DT_INT32, DT_INT64]; is_stateful=true"
_FLOAT_SIGNATURE = (f"shape:T -> output:dtype; {_STATEFUL}attr=dtype:type,allowed=[DT_HALF, "
                    f"DT_BFLOAT16, DT_FLOAT, DT_DOUBLE]; {_SHAPE_T}")
_SIGNATURES = {
    "RandomStandardNormal": _FLOAT_SIGNATURE, "RandomUniform": _FLOAT_SIGNATURE,
    "TruncatedNormal": _FLOAT_SIGNATURE,
    "RandomUniformInt": f"shape:T, minval:Tout, maxval:Tout -> output:Tout; {_STATEFUL}"
                        f"attr=Tout:type,allowed=[DT_INT32, DT_INT64]; {_SHAPE_T}",
}


def _attr_error(attr, dtype, allowed, op):
    """TF's text for a dtype attr outside the allowed list (with the op's signature)."""
    text = (f"Value for attr '{attr}' of {tf_type_name(dtype)} is not in the list of allowed "
            f"values: {', '.join(tf_type_name(d) for d in allowed)}\n\t; NodeDef: "
            f"{{{{node {op.name}}}}}")
    if op.name in _SIGNATURES:
        text += f"; Op<name={op.name}; signature={_SIGNATURES[op.name]}>"
    return error(text, op)


def _kernel_error(message, op):
    return kernel_error(message, op, current_device())


def _dtype_arg(dtype, accepted):
    dtype = dtypes.as_dtype(dtype)
    if all(dtype is not d for d in accepted):  # dtypes are singletons
        names = ", ".join(f"tf.{d.name}" for d in accepted)
        raise ValueError(f"Argument `dtype` got invalid value {dtype}. Accepted dtypes are "
                         f"({names}).")
    return dtype


def _param(value, dtype, name):
    """mean/stddev/minval/maxval as a tensor of `dtype`, with TF's 'name: ...' error text."""
    try:
        return convert_to_tensor(value, dtype=dtype)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None


def _is_python(value, number):
    return type(value) in (int, float) and value == number


# -- kernels -------------------------------------------------------------------------------------

def _normal_kernel(shape, dtype, device, gen):
    return torch.randn(shape, dtype=dtype, device=device, generator=gen)


_NUMPY_FROM = 1 << 14  # elements from which numpy's generator pays for its seeding
_NUMPY_FLOATS = {torch.float32: np.float32, torch.float64: np.float64}


def _uniform_kernel(shape, dtype, device, gen):
    """U[0, 1) numbers from the stream `gen`. A large float draw on the CPU takes one 63-bit
    seed from the stream for numpy's PCG64, which fills it 2.6x faster than torch's
    Mersenne twister (dropout's 128x1600: 0.37 ms, not 0.97): the stream still advances
    and repeats as TF's seed rules say."""
    np_dtype = _NUMPY_FLOATS.get(dtype)
    if np_dtype is not None and gen.device.type == "cpu" and not _gemm._compiling():
        n = 1
        for d in shape:
            n *= d
        if n >= _NUMPY_FROM:
            seed = int(torch.randint(0, 2**63 - 1, (), generator=gen))
            bits = np.random.Generator(np.random.PCG64(seed))
            return torch.from_numpy(bits.random(tuple(shape), dtype=np_dtype))
    return torch.rand(shape, dtype=dtype, device=device, generator=gen)


def _uniform_int_kernel(shape, low, high, dtype, device, gen):
    return torch.randint(low, high, shape, dtype=dtype, device=device, generator=gen)


_PHI_MINUS_2 = 0.022750131948179195  # P(N(0, 1) < -2)


def _truncated_kernel(shape, dtype, device, gen):
    # Inverse CDF on [P(-2), P(2)]: the distribution of "resample beyond 2 stddev" without a
    # data-dependent loop (no host sync on GPUs).
    work = torch.float64 if dtype == torch.float64 else torch.float32
    u = torch.rand(shape, dtype=work, device=device, generator=gen)
    p = u.mul_(1 - 2 * _PHI_MINUS_2).add_(_PHI_MINUS_2)
    x = torch.erfinv(p.mul_(2).sub_(1)).mul_(2 ** 0.5).clamp_(-2.0, 2.0)
    return x.to(dtype)


def _shuffle_kernel(t, gen):
    if t.ndim == 0:
        return t
    perm = torch.randperm(t.shape[0], generator=gen, device=gen.device)
    if isinstance(t, np.ndarray):
        return t[perm.numpy()]
    return t[perm.to(t.device)]


def _multinomial_kernel(logits, num_samples, dtype, gen):
    batch, classes = logits.shape
    if num_samples == 0 or batch == 0:
        return torch.empty((batch, num_samples), dtype=dtype, device=logits.device)
    x = logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits
    top = x.max(dim=1, keepdim=True).values
    bad = ~torch.isfinite(top)  # rows of -inf (or nan): TF returns `classes` for them
    probs = torch.where(bad, 1.0, torch.exp(x - top))
    out = torch.multinomial(probs, num_samples, replacement=True, generator=gen)
    return torch.where(bad, classes, out).to(dtype)


# -- ops -----------------------------------------------------------------------------------------

NORMAL = define("RandomStandardNormal", differentiable=False, stateful=True)
UNIFORM = define("RandomUniform", differentiable=False, stateful=True)
UNIFORM_INT = define("RandomUniformInt", differentiable=False, stateful=True)
TRUNCATED = define("TruncatedNormal", differentiable=False, stateful=True)
SHUFFLE = define("RandomShuffle", differentiable=False, stateful=True)
MULTINOMIAL = define("Multinomial", differentiable=False, stateful=True)
# While tracing, a draw is only a shape: these kernels would draw real numbers on the device
# they are given (and a trace would bake them in as constants).
NORMAL.meta_fn = UNIFORM.meta_fn = TRUNCATED.meta_fn = \
    lambda shape, dtype, device, gen: torch.empty(shape, dtype=dtype, device="meta")
UNIFORM_INT.meta_fn = \
    lambda shape, low, high, dtype, device, gen: torch.empty(shape, dtype=dtype, device="meta")
SHUFFLE.meta_fn = lambda t, gen: torch.empty_like(t, device="meta")
MULTINOMIAL.meta_fn = lambda logits, num_samples, dtype, gen: torch.empty(
    (logits.shape[0], num_samples), dtype=dtype, device="meta")
STATELESS_NORMAL = define("StatelessRandomNormalV2", differentiable=False)
STATELESS_UNIFORM = define("StatelessRandomUniformV2", differentiable=False)
STATELESS_UNIFORM_INT = define("StatelessRandomUniformIntV2", differentiable=False)
STATELESS_TRUNCATED = define("StatelessTruncatedNormalV2", differentiable=False)
STATELESS_MULTINOMIAL = define("StatelessMultinomial", differentiable=False)
STATELESS_KEY = define("StatelessRandomGetKeyCounter", differentiable=False)


def _scaled(op, kernel, shape, mean, stddev, dtype, gen_for):
    """`kernel` draws standard values; then `* stddev + mean` as TF does (skipped for 0 and 1)."""
    dims = _shape(shape, op)
    dtype = dtypes.as_dtype(dtype)
    plain = _is_python(mean, 0) and _is_python(stddev, 1) and dtype in _FLOAT_SET
    if not plain:
        mean = _param(mean, dtype, "mean")
        stddev = _param(stddev, dtype, "stddev")
    if dtype not in _FLOAT_SET:
        raise _attr_error("dtype", dtype, _FLOATS, op)
    device = current_device()
    out = execute(op, kernel, (), (dims, dtype.torch, device, gen_for(device)))
    return out if plain else add(multiply(out, stddev), mean)


def normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Values from a normal distribution (`tf.random.normal`).

    Example:
    >>> tf.random.normal([2, 3], mean=1.0, stddev=0.5, seed=1).shape
    TensorShape([2, 3])
    """
    return _scaled(NORMAL, _normal_kernel, shape, mean, stddev, dtype,
                   lambda device: generator(device, seed))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal values, re-drawn when more than 2 standard deviations from the mean."""
    return _scaled(TRUNCATED, _truncated_kernel, shape, mean, stddev, dtype,
                   lambda device: generator(device, seed))


def _uniform(ops, shape, minval, maxval, dtype, gen_for):
    float_op, int_op = ops
    dtype = _dtype_arg(dtype, _UNIFORM_TYPES)
    if maxval is None:
        if dtype.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
        maxval = 1
    dims = _shape(shape, int_op if dtype.is_integer else float_op)
    device = current_device()
    if dtype.is_integer:
        low, high = _int_bound(minval, dtype, "min", int_op), _int_bound(maxval, dtype, "max",
                                                                         int_op)
        if low >= high and all(dims):
            raise _kernel_error(f"Need minval < maxval, got {low} >= {high}", int_op)
        return execute(int_op, _uniform_int_kernel, (),
                       (dims, low, max(high, low + 1), dtype.torch, device, gen_for(device)))
    min_zero = type(minval) is int and minval == 0
    max_one = type(maxval) is int and maxval == 1
    if not min_zero or not max_one:
        minval = _param(minval, dtype, "min")
        maxval = _param(maxval, dtype, "max")
    out = execute(float_op, _uniform_kernel, (), (dims, dtype.torch, device, gen_for(device)))
    if min_zero:
        return out if max_one else multiply(out, maxval)
    return add(multiply(out, subtract(maxval, minval)), minval)


def _int_bound(value, dtype, name, op):
    """minval/maxval of an integer uniform as a Python int (a 0-D tensor of `dtype`, as TF)."""
    if type(value) is int and dtype.min <= value <= dtype.max:
        return value
    t = _param(value, dtype, name)
    if t.ndim != 0:
        raise _kernel_error(f"{name}val must be 0-D, got shape {list(t.shape)}", op)
    return int(t)


def uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Values from a uniform distribution on `[minval, maxval)` (`tf.random.uniform`); integer
    dtypes need `maxval`.

    Example:
    >>> tf.random.uniform([3], maxval=10, dtype=tf.int32).dtype
    tf.int32
    """
    return _uniform((UNIFORM, UNIFORM_INT), shape, minval, maxval, dtype,
                    lambda device: generator(device, seed))


def shuffle(value, seed=None, name=None):
    """Randomly shuffles a tensor along its first dimension."""
    value = convert_to_tensor(value)
    device = torch.device("cpu") if value._dtype is dtypes.string else value._t.device
    return execute(SHUFFLE, _shuffle_kernel, (value,), (generator(device, seed),))


def _categorical(op, logits, num_samples, dtype, gen_for):
    logits = convert_to_tensor(logits)
    dtype = _dtype_arg(dtype or dtypes.int64, (dtypes.int32, dtypes.int64))
    n = int(num_samples)
    if logits._dtype not in _FLOATS:
        raise NotFoundError(None, None, (
            f"Could not find device for node: {{{{node {op.name}}}}} = {op.name}"
            f"[T=DT_{logits._dtype.name.upper()}, output_dtype=DT_{dtype.name.upper()}, "
            f"seed=0, seed2=0]\nAll kernels registered for op {op.name}:\n{_MULTINOMIAL_KERNELS}"
            f" [Op:{op.name}] name: "))
    if logits.ndim != 2:
        raise _kernel_error(f"logits should be a matrix, got shape {list(logits.shape)}", op)
    if n < 0:
        raise _kernel_error(f"num_samples should be non-negative, got {n}", op)
    if logits.shape[1] == 0 and n > 0:
        raise _kernel_error("num_classes should be positive, got 0", op)
    return execute(op, _multinomial_kernel, (logits,),
                   (n, dtype.torch, gen_for(logits._t.device)))


_MULTINOMIAL_KERNELS = (
    "  device='XLA_CPU_JIT'; output_dtype in [DT_INT32, DT_INT64]; T in [DT_FLOAT, DT_DOUBLE, "
    "DT_INT32, DT_UINT8, DT_INT16, DT_INT8, DT_INT64, DT_BFLOAT16, DT_UINT16, DT_HALF, "
    "DT_UINT32, DT_UINT64]\n" + "".join(
        f"  device='CPU'; T in [DT_{t}]; output_dtype in [DT_{o}]\n"
        for t in ("DOUBLE", "FLOAT", "BFLOAT16", "HALF") for o in ("INT64", "INT32")))


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """Samples class indices (int64 by default) from unnormalised log-probabilities
    `[batch, num_classes]`; returns `[batch, num_samples]`."""
    return _categorical(MULTINOMIAL, logits, num_samples, dtype,
                        lambda device: generator(device, seed))


# -- stateless ops: the numbers are a function of `seed` (shape [2]) alone -----------------------

def _stateless(seed):
    seed = convert_to_tensor(seed)
    if seed.ndim != 1 or seed.shape[0] != 2:
        raise _kernel_error(f"seed must have shape [2], not {list(seed.shape)}",
                            STATELESS_KEY)
    a, b = (int(v) for v in seed.numpy())
    return lambda device: _new_generator(device, _mix(a & _MASK64, b & _MASK64))


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None,
                     alg="auto_select"):
    return _scaled(STATELESS_NORMAL, _normal_kernel, shape, mean, stddev, dtype,
                   _stateless(seed))


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32,
                               name=None, alg="auto_select"):
    return _scaled(STATELESS_TRUNCATED, _truncated_kernel, shape, mean, stddev, dtype,
                   _stateless(seed))


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype=dtypes.float32, name=None,
                      alg="auto_select"):
    dtype = dtypes.as_dtype(dtype)
    if dtype.is_integer and (minval is None) != (maxval is None):
        raise ValueError(f"For integer `dtype` argument {dtype!r}, argument `minval` and "
                         f"`maxval` must be both None or not None. Got `minval`={minval} and "
                         f"`maxval`={maxval}.")
    if dtype.is_integer and maxval is None:
        minval, maxval = dtype.min, dtype.max
    return _uniform((STATELESS_UNIFORM, STATELESS_UNIFORM_INT), shape, minval, maxval, dtype,
                    _stateless(seed))


def stateless_categorical(logits, num_samples, seed, dtype=dtypes.int64, name=None):
    return _categorical(STATELESS_MULTINOMIAL, logits, num_samples, dtype, _stateless(seed))


# -- tf.random.Generator ---------------------------------------------------------------------------

class Generator:
    """A random number generator with its own state (`tf.random.Generator`).

    Example:
    >>> g = tf.random.Generator.from_seed(1)
    >>> g.normal([2]).shape
    TensorShape([2])
    """

    def __init__(self, seed=None):
        self._seed = seed
        self._generators = {}

    @classmethod
    def from_seed(cls, seed, alg=None):
        return cls(_mix(_seed_int(seed) & _MASK64, 0))

    @classmethod
    def from_non_deterministic_state(cls, alg=None):
        return cls(None)

    @property
    def algorithm(self):
        return 1  # TF's enum value for Philox, its default

    def reset_from_seed(self, seed):
        self._seed = _mix(_seed_int(seed) & _MASK64, 0)
        self._generators.clear()

    def _gen(self, device):
        g = self._generators.get(device)
        if g is None:
            g = self._generators[device] = _new_generator(device, self._seed)
        return g

    def normal(self, shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None):
        return _scaled(NORMAL, _normal_kernel, shape, mean, stddev, dtype, self._gen)

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None):
        return _scaled(TRUNCATED, _truncated_kernel, shape, mean, stddev, dtype, self._gen)

    def uniform(self, shape, minval=0, maxval=None, dtype=dtypes.float32, name=None):
        dtype = dtypes.as_dtype(dtype)
        if dtype.is_integer and (minval is None) != (maxval is None):
            raise ValueError(f"For integer dtype {dtype}, minval and maxval must be both "
                             f"`None` or both non-`None`; got minval={minval} and "
                             f"maxval={maxval}")
        if dtype.is_integer and maxval is None:
            return self.uniform_full_int(shape, dtype)
        return _uniform((UNIFORM, UNIFORM_INT), shape, minval, maxval, dtype, self._gen)

    def uniform_full_int(self, shape, dtype=dtypes.uint64, name=None):
        """Integers over the whole range of `dtype` (int32, int64, uint32 or uint64)."""
        dtype = dtypes.as_dtype(dtype)
        if dtype.is_unsigned:  # the bits of the signed type of the same width
            signed = dtypes.int64 if dtype.size == 8 else dtypes.int32
            bits = _uniform((UNIFORM, UNIFORM_INT), shape, signed.min, signed.max, signed,
                            self._gen)
            return wrap(bits._t.view(dtype.torch), dtype)
        return _uniform((UNIFORM, UNIFORM_INT), shape, dtype.min, dtype.max, dtype, self._gen)

    def make_seeds(self, count=1):
        """`[2, count]` int64 seeds for the stateless ops."""
        return self.uniform_full_int([2, count], dtypes.int64)

    def split(self, count=1):
        """`count` new generators whose seeds are drawn from this one."""
        seeds = self.make_seeds(count).numpy()
        return [Generator(_mix(int(seeds[0, i]) & _MASK64, int(seeds[1, i]) & _MASK64))
                for i in range(count)]


_global_generator = None


def get_global_generator():
    global _global_generator
    if _global_generator is None:
        _global_generator = Generator.from_non_deterministic_state()
    return _global_generator


def set_global_generator(gen):
    global _global_generator
    _global_generator = gen
