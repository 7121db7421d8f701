"""Every shell block of README.md and docs/certificate.md marked runnable runs as written.

A block is marked with an HTML comment ``<!-- runnable -->`` on the line before its fence, or
with the fence info ``sh runnable``. Each runs with ``bash -euo pipefail`` in an empty folder,
with this checkout's ``provkit`` first on ``PATH`` and no configuration inherited.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = ("README.md", "docs/certificate.md")
_FENCE = re.compile(
    r"(?P<marker><!--\s*runnable\s*-->\s*\n)?```(?P<info>[^\n]*)\n(?P<body>.*?)\n```", re.S
)


def runnable_blocks(text: str) -> list[str]:
    """The bodies of the shell blocks of ``text`` marked runnable."""
    out = []
    for m in _FENCE.finditer(text):
        info = m.group("info").split()
        marked = m.group("marker") is not None or "runnable" in info[1:]
        if marked and info and info[0] in ("sh", "bash", "shell"):
            out.append(m.group("body"))
    return out


def _cases() -> list[tuple[str, int, str]]:
    cases = []
    for name in FILES:
        for i, body in enumerate(runnable_blocks((ROOT / name).read_text(encoding="utf-8"))):
            cases.append((name, i, body))
    return cases


def test_each_file_has_a_runnable_block() -> None:
    assert {name for name, _, _ in _cases()} == set(FILES)


def test_marker_parsing() -> None:
    text = (
        "x\n<!-- runnable -->\n```sh\necho a\n```\n```sh\necho b\n```\n```sh runnable\necho c\n```"
    )
    assert runnable_blocks(text) == ["echo a", "echo c"]


@pytest.mark.parametrize(("name", "index", "body"), _cases(), ids=lambda v: str(v)[:30])
def test_block_runs(name: str, index: int, body: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVKIT_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env["HOME"] = str(tmp_path)  # no per-user configuration or store
    env["XDG_CONFIG_HOME"] = str(tmp_path / ".config")
    env["XDG_DATA_HOME"] = str(tmp_path / ".local" / "share")
    r = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", body],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, (
        f"{name} block {index} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    )


def test_every_environment_variable_is_documented() -> None:
    """Each ``PROVKIT_*`` variable the code reads (settings fields and direct reads: the packages,
    the test configuration, the scripts, the benchmarks, the Makefile and the container files) is
    in the README's tables."""
    from service.settings import Settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = {f"PROVKIT_{field.upper()}" for field in Settings.model_fields}
    sources = [ROOT / "tests" / "conftest.py", ROOT / "Makefile", ROOT / "Dockerfile"]
    sources += [
        ROOT / "compose.yaml",
        *(ROOT / "scripts").glob("*"),
        *(ROOT / "bench").glob("*.py"),
    ]
    for part in ("service", "provenance", "watermark", "screening"):
        sources += (ROOT / part).rglob("*.py")
    for src in sources:
        names |= set(re.findall(r"PROVKIT_[A-Z][A-Z0-9_]*", src.read_text(encoding="utf-8")))
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert missing == [], missing
