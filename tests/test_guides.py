"""Programs in the style of TensorFlow's own guides (tests/guides/*.py), run unchanged under real
TensorFlow and under `tapeflow run`: their stdout must be identical.

The programs print shapes, dtypes, names and values that do not depend on the random number
generator (or are rounded), so the comparison is exact. To pay for interpreter and library
start-up once, tests/guides/_runner.py runs all programs in one process per library (the two
processes side by side), with a header line before each program's output. A program listed
in EXPECTED_TO_DIFFER collects what tapeflow does not match yet: it is expected to differ,
strictly, so that closing a gap shows up here; such programs run last so that their failure
cannot disturb the others (none is listed now: graph_gaps.py, AutoGraph's, passes).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

GUIDES = Path(__file__).parent / "guides"
ROOT = Path(__file__).parent.parent
EXPECTED_TO_DIFFER = {}
PROGRAMS = sorted((p.stem for p in GUIDES.glob("*.py") if not p.stem.startswith("_")),
                  key=lambda n: (n in EXPECTED_TO_DIFFER, n))
TIMEOUT = 400


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0",
               CUDA_VISIBLE_DEVICES="", PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _sections(stdout):
    """{program: its stdout lines} from the runner's output."""
    out, current = {}, None
    for line in stdout.splitlines():
        if line.startswith("=== ") and line[4:] in PROGRAMS:
            current = out.setdefault(line[4:], [])
        elif current is not None:
            current.append(line)
    return out


@pytest.fixture(scope="module")
def outputs(realtf):
    """(TensorFlow's, tapeflow's) per-program stdout and each run's stderr."""
    env, runner = _env(), str(GUIDES / "_runner.py")
    commands = ([sys.executable, runner, *PROGRAMS],
                [sys.executable, "-m", "tapeflow", "run", runner, *PROGRAMS])
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env, cwd=GUIDES) for c in commands]
    results = [p.communicate(timeout=TIMEOUT) for p in procs]
    return [(_sections(out), err) for out, err in results]


def _param(name):
    if name in EXPECTED_TO_DIFFER:
        return pytest.param(name, marks=pytest.mark.xfail(
            strict=True, reason=f"known gaps: {EXPECTED_TO_DIFFER[name]}"))
    return name


def test_programs_found():
    assert len(PROGRAMS) >= 8 and {"modules", "graph_gaps", "autograph"} <= set(PROGRAMS)


@pytest.mark.parametrize("name", [_param(n) for n in PROGRAMS])
def test_guide_program_prints_what_tensorflow_prints(outputs, name):
    (real, real_err), (ours, err) = outputs
    assert name in real and not any(line.startswith("!!! ") for line in real[name]), \
        f"the program fails under real TensorFlow:\n{real_err[-3000:]}"
    assert name in ours, f"tapeflow run did not reach {name}:\n{err[-3000:]}"
    failed = [line for line in ours[name] if line.startswith("!!! ")]
    assert not failed, f"{failed[0]}\n{err[-3000:]}"
    assert ours[name] == real[name]
