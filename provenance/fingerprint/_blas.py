"""Run numpy's matrix products on one BLAS thread while hashing.

The products that hash a frame are small; OpenBLAS threads them anyway, and on a busy machine its
spinning threads make hashing many times slower. Fingerprinting is parallelized over videos, not
inside a matrix product, so the hot path pins OpenBLAS to one thread and restores it afterwards.
(This is what ``threadpoolctl`` does, for the one library used here.)
"""

from __future__ import annotations

import ctypes
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_funcs: list[tuple[Any, Any]] | None = None
_depth = 0
_saved: list[int] = []


def _find() -> list[tuple[Any, Any]]:
    found: list[tuple[Any, Any]] = []
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return found
    libs = sorted({line.split()[-1] for line in maps.splitlines() if "openblas" in line.lower()})
    for lib in libs:
        if not lib.startswith("/") or ".so" not in lib:
            continue
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                get = getattr(handle, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(handle, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    get.restype = ctypes.c_int
                    put.argtypes = [ctypes.c_int]
                    found.append((get, put))
                    break
            else:
                continue
            break
    return found


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Within the block, OpenBLAS (if loaded) uses one thread; re-entrant."""
    global _funcs, _depth, _saved
    with _lock:
        if _funcs is None:
            _funcs = _find()
        if _depth == 0:
            _saved = [int(get()) for get, _ in _funcs]
            for _, put in _funcs:
                put(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for (_, put), n in zip(_funcs, _saved, strict=True):
                    put(n)


def on_one_blas_thread(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run ``fn`` inside :func:`single_blas_thread`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with single_blas_thread():
            return fn(*args, **kwargs)

    return wrapper
