"""`python -m bench --quick` runs and reports every workload and contender (never a timing
threshold: speed is reported by the benchmark, not asserted by tests)."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, realtf):
    out = tmp_path_factory.mktemp("bench")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--in-process",
                           "--out", str(out), "--markdown", str(out / "benchmarks.md")],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout, json.loads((out / "quick-cpu.json").read_text()), \
        (out / "benchmarks.md").read_text()


def test_every_workload_and_contender_is_reported(quick_run):
    from bench.workloads import all_workloads
    stdout, report, _ = quick_run
    names = [w["name"] for w in report["workloads"]]
    for w in all_workloads(quick=True):
        assert w.name in names
        assert f"\n{w.name}: " in stdout
        got = {r["contender"]: r for r in report["workloads"][names.index(w.name)]["results"]}
        assert set(got) == set(w.contenders)
        for r in got.values():  # a time, or the reason it is missing — never silently dropped
            assert (r["seconds"] is not None and r["seconds"] > 0) or r["missing"]
    assert [r["contender"] for r in report["peak_memory"]] == ["tapeflow", "Keras 3 (TF)"]


def test_ratios_and_machine_description(quick_run):
    stdout, report, markdown = quick_run
    assert "ratio tapeflow / TensorFlow" in stdout
    for key in ("cpu", "cpu_count", "tapeflow", "tensorflow", "torch", "gpu", "device"):
        assert key in report["machine"]
    assert markdown.startswith("# Benchmarks") and "| eager_add |" in markdown


def test_contenders_run_in_processes_of_their_own(tmp_path, realtf):
    """The default: one worker process per contender, driven over a pipe; a busy run says so."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", "eager_add",
                           "--busy", "1", "--out", str(tmp_path),
                           "--markdown", str(tmp_path / "b.md")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "quick-cpu.json").read_text())
    assert report["machine"]["busy_processes"] == 1 and not report["machine"]["in_process"]
    results = report["workloads"][0]["results"]
    assert [r["contender"] for r in results] == ["tapeflow", "TensorFlow", "PyTorch"]
    assert all(r["seconds"] > 0 for r in results)
    assert "## CPU busy:" in (tmp_path / "b.md").read_text()


def test_a_worker_reports_a_missing_contender_and_its_times():
    from bench.harness import Worker
    from bench.workloads import eager_add
    worker = Worker(eager_add(), "PyTorch", True, "cpu")
    try:
        assert worker.missing is None
        assert 0 < worker.time(3) < 5
    finally:
        worker.close()
    assert worker.proc.returncode == 0
