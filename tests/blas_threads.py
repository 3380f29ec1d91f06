"""NumPy's own BLAS thread count, as threadpoolctl reports it (a test helper)."""

from threadpoolctl import threadpool_info


def numpy_blas_threads() -> list[int]:
    """Threads of NumPy's BLAS, the network's (SciPy may load another one later)."""
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    return ([i["num_threads"] for i in blas if "numpy" in i["filepath"]]
            or [i["num_threads"] for i in blas])
