"""Process-tree statistics read from /proc: which processes a server runs, and their memory."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path


def tree(pid: int) -> set[int]:
    """``pid`` and every descendant (uvicorn's workers, their helpers)."""
    seen, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            with contextlib.suppress(OSError):
                for child in map(int, (task / "children").read_text().split()):
                    if child not in seen:
                        seen.add(child)
                        todo.append(child)
    return seen


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, in MB."""
    total = 0
    for p in tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def smaps_mb(pid: int) -> dict[str, float]:
    """Memory of one process from ``/proc/<pid>/smaps_rollup``, in MB: ``Rss`` (every resident
    page it maps, shared ones counted in full), ``Pss`` (each shared page divided by the number
    of processes mapping it: the sum over processes is the machine's real use),
    ``Shared_Clean``, ``Private_Clean`` and ``Private_Dirty`` (anonymous memory of its own)."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1]) / 1024
    return out


def wait_ready(url: str, attempts: int, interval: float = 0.25) -> bool:
    """Poll ``url/readyz`` until it answers 200 (True) or ``attempts`` polls have failed."""
    import httpx

    for _ in range(attempts):
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    return False
