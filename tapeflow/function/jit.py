"""`jit_compile=True`: a tf.function's plan compiled by `torch.compile` (Inductor, fused
kernels), or, when torch.compile cannot take the plan, the plain plan after one warning.

The compiled plan is the plain plan's code over a copy of its kernel table in which kernels
marked `host_check` (they read values on the host to raise TF's error, or print) run eagerly
between the compiled regions (`torch.compiler.disable`: a clean graph break), so a label out of
range raises the same error with the same text as without jit_compile. Compilation happens on
the first call. If it fails, that call and every later one run the plain plan; the variables
the plan writes are first put back as they were (kernels are pure and a write replaces a
variable's tensor, so the references taken before the call are its state).
"""
import types

import torch

from tapeflow._core.logs import warn

BACKEND = "inductor"  # torch.compile's backend (tests use lighter ones)
_WARNING = ("jit_compile=True: torch.compile cannot compile this tf.function (%s: %s); it runs "
            "without jit compilation.")


def _compile_failure(e):
    """Whether `e` is torch.compile failing (Dynamo cannot trace, Inductor cannot lower, no C
    compiler), as opposed to an error of the computation itself (TF's, from a host check)."""
    return isinstance(e, torch._dynamo.exc.TorchDynamoException) or \
        type(e).__module__.startswith(("torch._dynamo", "torch._inductor"))


def _reason(e):
    """(class name, first line) of what made compilation fail: the backend's own error when
    Dynamo wraps one."""
    e = getattr(e, "inner_exception", None) or e
    return type(e).__name__, (str(e).strip().splitlines() or [""])[0][:200]


class CompiledPlan:
    """What a jit-compiled plan's `run` is: the compiled function while it works, the plain
    one once compilation failed."""

    def __init__(self, plan):
        self._plain = plan.run
        env = dict(plan.env)
        for name, value in plan.env.items():
            if getattr(value, "host_check", False):
                env[name] = torch.compiler.disable(value, recursive=True)
        code = plan.run.__code__
        self._compiled = torch.compile(types.FunctionType(code, env, "plan"), dynamic=False,
                                       backend=BACKEND)
        # the variables the plan writes (`v_assign<n>._t = ...`, graph.py's compile_plan)
        self._written = [v for k, v in env.items() if k.startswith("v_assign")]
        self.failure = None  # (error class, text) of why compilation failed, once it has

    def __call__(self, *args):
        if self.failure is not None:
            return self._plain(*args)
        before = [v._t for v in self._written]
        try:
            return self._compiled(*args)
        except Exception as e:
            if not _compile_failure(e):
                raise
            for v, t in zip(self._written, before):
                v._t = t
            self.failure = _reason(e)
            warn(_WARNING, *self.failure)
        return self._plain(*args)


def jit_plan(plan):
    """`plan` with its `run` compiled by torch.compile (see the module docstring)."""
    try:
        plan.run = CompiledPlan(plan)
    except Exception as e:  # noqa: BLE001 - torch.compile unavailable: keep the plain plan
        warn(_WARNING, *_reason(e))
    return plan
