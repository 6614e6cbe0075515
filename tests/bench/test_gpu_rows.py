"""The GPU-only rows of `python -m bench --device cuda`, exercised small on the CPU so the code
that only a GPU session measures cannot rot unnoticed."""
from bench.harness import measure
from bench.workloads import all_workloads, bf16_mlp_step


def test_bf16_mlp_step_runs_for_both_contenders():
    results = measure(bf16_mlp_step(width=64, depth=2, batch=16, device="cpu"), quick=True,
                      log=lambda line: None, isolate=False)  # (a workload made here, not listed)
    assert [r.contender for r in results] == ["tapeflow function", "PyTorch"]
    assert all(r.seconds > 0 and not r.missing for r in results)


def test_cuda_list_holds_the_gpu_rows():
    import bench.workloads as w
    try:
        names = [x.name for x in all_workloads(quick=True, device="cuda")]
    finally:
        w.DEVICE = "cpu"
    assert "bf16_mlp_step" in names and "mlp_step" in names
