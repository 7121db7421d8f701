"""List the benchmarks (``python -m bench``)."""

from __future__ import annotations

import pkgutil
from pathlib import Path

if __name__ == "__main__":
    here = Path(__file__).parent
    print("benchmarks (run: python -m bench.<name>):")
    for m in pkgutil.iter_modules([str(here)]):
        if not m.name.startswith("_"):
            print("  bench." + m.name)
