"""The registry walker: every differentiable op passes a finite-difference gradient check.

Collects `GRAD_CASES` from every `tests/ops/test_*.py` (and `tests/autodiff/test_*.py`)
module, runs `tests.gradcheck.check_gradient` on each in float64, and fails when a registered
differentiable op has no case at all, so a new op cannot arrive without a checked gradient.
"""
import importlib
import pathlib

import pytest

import tapeflow  # noqa: F401 (registers the ops)
from tapeflow.ops._op import REGISTRY
from tests.gradcheck import check_gradient

TESTS = pathlib.Path(__file__).resolve().parent.parent
MODULE_DIRS = ("ops", "autodiff")


def _collect():
    cases, broken = [], {}
    for folder in MODULE_DIRS:
        for path in sorted((TESTS / folder).glob("test_*.py")):
            name = f"tests.{folder}.{path.stem}"
            if name == __name__:
                continue
            try:
                module = importlib.import_module(name)
            except Exception as e:  # noqa: BLE001 - reported by test_case_modules_import
                broken[name] = f"{type(e).__name__}: {e}"
                continue
            cases.extend(getattr(module, "GRAD_CASES", []))
    return cases, broken


CASES, BROKEN = _collect()


def test_case_modules_import():
    assert BROKEN == {}, f"op test modules that fail to import: {BROKEN}"


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradient_matches_finite_differences(case):
    check_gradient(case)


def test_every_differentiable_op_has_a_case():
    covered = {case.op for case in CASES}
    missing = sorted(name for name, op in REGISTRY.items()
                     if op.differentiable and name not in covered)
    assert missing == [], (f"{len(missing)} differentiable ops have no GradCase in any "
                           f"tests/ops/test_*.py GRAD_CASES list: {', '.join(missing)}")


def test_cases_name_registered_ops():
    unknown = sorted({case.op for case in CASES} - set(REGISTRY))
    assert unknown == [], f"GRAD_CASES name ops that are not registered: {unknown}"


def test_cases_exercise_their_op():
    """A case must actually run the op it names (else the coverage check means nothing)."""
    import numpy as np

    import tapeflow as tf
    seen = {}

    class Spy:
        def record_op(self, op, kernel, inputs, attrs, outputs):
            seen.setdefault(current, set()).add(op.name)

        def read_variable(self, variable, tensor):
            return tensor

        def assign_variable(self, variable, value, kind):
            return False

    from tapeflow._core.dispatch import pop_recorder, push_recorder
    bad = []
    for case in CASES:
        current = repr(case)
        spy = Spy()
        push_recorder(spy)
        try:
            with tf.GradientTape() as t:
                xs = [tf.constant(np.array(x, dtype=np.float64)) for x in case.inputs]
                t.watch(xs)
                case.fn(*xs)
        finally:
            pop_recorder(spy)
        if case.op not in seen.get(current, set()):
            bad.append(current)
    assert bad == [], f"cases that never run the op they name: {bad}"
