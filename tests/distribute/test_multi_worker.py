"""Real multi-worker jobs: 2-3 worker processes on 127.0.0.1 (free ports, TF_CONFIG, Gloo),
started by `tapeflow.distribute.launch`, which always stops them. What they run is in
scenarios.py; the one-process references run the same code here, with no cluster.

Expected dataset splits are what TF 2.21's MultiWorkerMirroredStrategy gives for the same
pipelines on two local workers (run once by hand; TF needs a minute per job on this machine).
"""
import json
import os
import pathlib
import sys

import numpy as np
import pytest

from tapeflow.distribute.launch import launch, local_cluster
from tests.distribute import scenarios

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _run(name, out, workers, timeout=400, **kwargs):
    env = dict(kwargs.pop("env", {}), PYTHONPATH=str(ROOT))
    results = launch([sys.executable, "-m", "tests.distribute.scenarios", name, str(out)],
                     workers, timeout=timeout, env=env, cwd=str(ROOT), **kwargs)
    return results


def _load(out, name, index):
    with open(os.path.join(out, f"{name}-{index}.json")) as f:
        return json.load(f)


def _ok(results):
    for r in results:
        assert r.returncode == 0, f"worker {r.index} exited {r.returncode}:\n{r.output[-4000:]}"


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """One 2-worker job running the custom loop, Keras and sharding scenarios."""
    out = tmp_path_factory.mktemp("train")
    for i in range(4):
        (out / f"f{i}.txt").write_text("".join(f"{i * 10 + k}\n" for k in range(5)))
    _ok(_run("train", out, 2))
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The custom loop and Keras scenarios in this process: one worker, the same global
    batches."""
    out = tmp_path_factory.mktemp("reference")
    scenarios.custom_loop(str(out))
    scenarios.keras_fit(str(out))
    return out


def _assert_close(a, b, atol=2e-6):
    for x, y in zip(a, b):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=atol)


def test_custom_loop_on_two_workers_matches_one_process(job, reference):
    w0, w1, one = (_load(job, "custom_loop", 0), _load(job, "custom_loop", 1),
                   _load(reference, "custom_loop", 0))
    assert (w0["replicas"], one["replicas"]) == (2, 1)
    assert w0["w"] == w1["w"] and w0["b"] == w1["b"]  # mirrored: bit for bit
    _assert_close([w0["w"], w0["b"], w0["losses"]], [one["w"], one["b"], one["losses"]])


def test_keras_fit_on_two_workers_matches_one_process(job, reference):
    w0, w1, one = (_load(job, "keras_fit", 0), _load(job, "keras_fit", 1),
                   _load(reference, "keras_fit", 0))
    assert w0["weights"] == w1["weights"]
    _assert_close(w0["weights"], one["weights"])
    for key in ("loss", "mae"):  # metrics aggregated over the workers, as one process
        _assert_close([w0["history"][key], w1["history"][key]], [one["history"][key]] * 2)
    assert w0["evaluate"] == w1["evaluate"]
    _assert_close([w0["evaluate"]["loss"]], [one["evaluate"]["loss"]], atol=1e-5)
    assert w0["predict"] == w1["predict"] and len(w0["predict"]) == 13
    _assert_close([w0["predict"]], [one["predict"]], atol=1e-5)


def test_shuffled_fit_gives_every_row_to_exactly_one_worker_per_epoch(job):
    seen = [_load(job, "keras_fit", i)["seen"] for i in (0, 1)]
    steps = len(seen[0]) // 2  # 20 rows, global batch 6: 4 steps an epoch
    assert len(seen[0]) == len(seen[1]) == 8
    for epoch in range(2):
        rows = [r for worker in seen for batch in worker[epoch * steps:(epoch + 1) * steps]
                for r in batch]
        assert sorted(rows) == list(range(20))
    # the global batch of 6 is split 3 + 3, the last one (2 rows) 1 + 1
    assert [len(b) for b in seen[0][:4]] == [3, 3, 3, 1]


TF_SPLITS = {  # worker 0, worker 1: TF 2.21, MultiWorkerMirroredStrategy, 2 local workers
    "range-auto": ([[0, 1], [4, 5], [8]], [[2, 3], [6, 7], [9]]),
    "range-data": ([[0, 1], [4, 5], [8]], [[2, 3], [6, 7], [9]]),
    "range-off": ([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]],) * 2,
    "text-auto": ([[0, 1], [2, 3], [4, 20], [21, 22], [23, 24]],
                  [[10, 11], [12, 13], [14, 30], [31, 32], [33, 34]]),
    "text-file": ([[0, 1], [2, 3], [4, 20], [21, 22], [23, 24]],
                  [[10, 11], [12, 13], [14, 30], [31, 32], [33, 34]]),
    "list-interleave": ([[0, 1], [2, 3], [4, 20], [21, 22], [23, 24]],
                        [[10, 11], [12, 13], [14, 30], [31, 32], [33, 34]]),
}


@pytest.mark.parametrize("case", sorted(TF_SPLITS))
def test_dataset_auto_sharding_as_tf(job, case):
    got = tuple(_load(job, "sharding", i)[case] for i in (0, 1))
    assert got == TF_SPLITS[case]


def test_dataset_sharding_errors_and_fallbacks(job):
    w0, w1 = _load(job, "sharding", 0), _load(job, "sharding", 1)
    assert w0["range-file"].startswith("NotFoundError: Found an unshardable source dataset")
    assert w0["text1-file"].startswith(
        "InvalidArgumentError: Could not apply FILE based sharding: the dataset only has 1 "
        "file(s), which is not enough for the required 2 shards/workers.")
    # AUTO with one file falls back to DATA: every row to one worker, the 1-row batch too
    assert (w0["text1-auto"], w1["text1-auto"]) == ([[0, 1], [4]], [[2, 3], []])
    # uneven files: the worker that runs out first gets empty batches until all have
    assert (w0["text3-file"], w1["text3-file"]) == (
        [[0, 1], [2, 3], [4, 20], [21, 22], [23, 24]], [[10, 11], [12, 13], [14], [], []])
    # distribute_datasets_from_function: each worker's own pipeline, per-replica batches
    assert (w0["from_function"], w1["from_function"]) == ([[0, 2], [4, 6], [8, 10]],
                                                         [[1, 3], [5, 7], [9, 11]])


def test_killed_worker_is_named_and_backup_resumes_without_losing_an_epoch(tmp_path):
    cluster = local_cluster(3)
    crashed = _run("backup", tmp_path, 3, cluster=cluster, env={"KILL_AT": "2"}, grace=90)
    codes = {r.index: r.returncode for r in crashed}
    assert codes == {0: 3, 1: 17, 2: 3}, [r.output[-2000:] for r in crashed]
    for i in (0, 2):  # both survivors name the dead task and its address
        failure = _load(tmp_path, "backup-error", i)
        # (a survivor that notices late may also find the other survivor gone by then)
        assert failure["error"].startswith(
            "UnavailableError: Collective ops is aborted by: task /job:worker/"), failure
        assert f"/job:worker/replica:0/task:1 at {cluster['worker'][1]}" in failure["error"]
        assert f"(seen by /job:worker/replica:0/task:{i} at {cluster['worker'][i]})" in \
            failure["error"]
        assert failure["begun"] == [0, 1, 2]
        assert failure["seconds"] < 60, failure  # far inside the 60 s timeout: no hang
    resumed = _run("backup", tmp_path, 3)
    _ok(resumed)
    done = [_load(tmp_path, "backup", i) for i in range(3)]
    assert [d["begun"] for d in done] == [[2, 3]] * 3  # epochs 0 and 1 were not redone
    assert done[0]["weights"] == done[1]["weights"] == done[2]["weights"]
    reference = tmp_path / "reference"
    reference.mkdir()
    scenarios.backup(str(reference))  # the same fit, uninterrupted, in one process
    _assert_close(done[0]["weights"], _load(reference, "backup", 0)["weights"], atol=1e-5)
    assert not (tmp_path / "backup").exists()  # the chief deleted the finished backup


@pytest.mark.parametrize("started", [0, 1], ids=["chief-waits", "worker-waits"])
def test_a_worker_that_never_connects_is_named_within_the_timeout(tmp_path, started):
    cluster = local_cluster(2)
    (r,) = _run("never_connects", tmp_path, 2, cluster=cluster, only=[started],
                env={"SCENARIO_COLLECTIVE_TIMEOUT": "4"})
    assert r.returncode == 0, r.output[-3000:]
    failure = _load(tmp_path, "never", started)["error"]
    missing = 1 - started
    assert failure.startswith(f"UnavailableError: Collective ops is aborted by: task "
                              f"/job:worker/replica:0/task:{missing} at "
                              f"{cluster['worker'][missing]} did not join the job"), failure
    assert _load(tmp_path, "never", started)["seconds"] < 30
