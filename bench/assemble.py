"""Assemble BENCHMARKS.md from the per-part results in bench/results/ (``python -m bench.assemble``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = [
    "watermark",
    "fingerprint",
    "index_scale",
    "screening",
    "certificate",
    "c2pa",
    "service",
    "security",
    "recovery",
    "cli",
]
HEADER = """# Benchmarks

Measured numbers behind the claims in the README and docs/. Every section names the command that
produced it and the machine it ran on; rerun the command to refresh the section
(`python -m bench.<name>` writes `bench/results/<part>.md`), then `python -m bench.assemble`.
Speed figures are medians over repeated runs on a shared 2-core machine: compare ratios, not
absolute numbers, across machines.
"""


def main() -> None:
    results = ROOT / "bench" / "results"
    parts = sorted(
        results.glob("*.md"), key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else 99, p.stem)
    )
    body = [HEADER]
    for p in parts:
        text = p.read_text().strip()
        if text.startswith("# "):  # a part titled at level 1: nest it under the page title
            text = "\n".join("#" + ln if ln.startswith("#") else ln for ln in text.splitlines())
        body.append(text + "\n")
    (ROOT / "BENCHMARKS.md").write_text("\n".join(body))
    print(f"BENCHMARKS.md: {len(parts)} sections")


if __name__ == "__main__":
    main()
