"""Core types: dtypes, TensorShape, Tensor, Variable, devices, errors. Imports nothing above."""
import os

# torch's OpenMP workers keep libgomp's default wait policy (spin briefly, then sleep): fast on
# an idle machine; on a busy one tapeflow runs fewer threads instead (see _core/threads.py).


def _keep_freed_memory():
    """glibc hands each freed block above its mmap threshold (a 784x512 float32 weight is
    1.6 MB) back to the kernel, so the next step's tensor of that size page-faults all its
    pages in again: about 300 faults per eager MLP step. Keep blocks up to 32 MB in the heap
    and up to 128 MB of free heap before trimming, as TF's own CPU allocator keeps its pool.
    glibc only; explicit MALLOC_*_ settings in the environment win."""
    if any(k.startswith(("MALLOC_MMAP_", "MALLOC_TRIM_")) for k in os.environ) or \
            "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return
    try:
        import ctypes
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 << 20)
    mallopt(m_trim_threshold, 128 << 20)


_keep_freed_memory()
