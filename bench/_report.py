"""Write a benchmark's results as a markdown section under bench/results/ (assembled into
BENCHMARKS.md by ``python -m bench.assemble``)."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    """A one-line description of this machine."""
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores{mem}, {platform.processor() or platform.machine()}, Python {platform.python_version()}"


def write_section(part: str, title: str, command: str, body: str) -> Path:
    """Write ``bench/results/<part>.md`` with a heading, the command, the machine and ``body``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{part}.md"
    now = datetime.now(UTC).strftime("%Y-%m-%d")
    path.write_text(
        f"## {title}\n\nCommand: `{command}`  \nMachine: {machine()}  \nDate: {now}\n\n{body}\n"
    )
    return path


def replace_subsection(path: Path, heading: str, title: str, lines: list[str]) -> Path:
    """Rewrite only the ``title`` subsection (up to the next ``### ``) of the results file
    ``path``, which starts with ``heading`` when it is new."""
    text = path.read_text() if path.is_file() else heading + "\n\n"
    head, sep, rest = text.partition(title)
    tail = ""
    if sep and "\n### " in rest:
        tail = rest[rest.index("\n### ") :]
    path.write_text(head.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n" + tail)
    return path
