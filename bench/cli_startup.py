"""Start-up time of the ``provkit`` command line: medians of several fresh processes, with the
CPU time (user + system, from ``wait4``) beside the wall time, and the load average.

The bar is 0.3 s of CPU per command for ``--help`` screens and for commands that do not touch the
store. CPU time is what the command itself costs; wall time on a shared machine also counts the
time it waited for a core, so both are reported, with ``/proc/loadavg`` before and after.

"eager" first imports what the former entry point imported (every command module's top-level
dependencies: SQLAlchemy, Alembic, SciPy, FAISS, the screener); "lazy" is the shipped entry
point, which imports only the module of the command it runs, and that module's heavy
dependencies only when the command runs. Peak memory (max RSS) comes from ``wait4`` too.
``python -X importtime -m service.cli <command>`` shows what one command imports.

Run: ``python -m bench.cli_startup [--runs 7] [--quick]`` → ``bench/results/cli.md``
(``--quick``: 3 runs, no eager comparison and no embed timing; for iterating).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._report import write_section

ROOT = Path(__file__).resolve().parents[1]

_LAZY = "from service.cli.main import main; main()"
#: What importing the former entry point loaded: every command module's top-level imports
#: (the store, migrations, API keys, the DSP and fingerprint stacks, the screener, the request
#: models), all before parsing the command line.
FORMER_IMPORTS = (
    "service.schema",
    "provenance.registry",
    "service.auth",
    "service.settings",
    "watermark",
    "provenance.fingerprint",
    "screening.policy",
    "service.requests",
    "tqdm",
)
_EAGER = (
    "import importlib\n"
    f"for module in {FORMER_IMPORTS!r}:\n"
    "    importlib.import_module(module)\n"
    "from service.cli.main import main\n"
    "main()"
)

#: (label, argv after ``provkit``, expected exit code); none of them touches the store. ``{tmp}``
#: is the run's scratch folder (holding ``in.wav``, one second of silence without a label).
CASES: list[tuple[str, list[str], int]] = [
    ("provkit --help", ["--help"], 0),
    ("provkit --version", ["--version"], 0),
    ("provkit watermark --help", ["watermark", "--help"], 0),
    ("provkit watermark detect --help", ["watermark", "detect", "--help"], 0),
    ("provkit screen --help", ["screen", "--help"], 0),
    ("provkit cert --help", ["cert", "--help"], 0),
    ("provkit label read --help", ["label", "read", "--help"], 0),
    ("provkit c2pa --help", ["c2pa", "--help"], 0),
    ("provkit video --help", ["video", "--help"], 0),
    ("provkit info --help", ["info", "--help"], 0),
    ("provkit label read in.wav (runs; no label: exit 1)", ["label", "read", "in.wav"], 1),
    ("provkit watermark keygen (runs)", ["watermark", "keygen", "wm.key", "--force"], 0),
    ("provkit cert keygen (runs)", ["cert", "keygen", "issuer.key"], 0),
]
BAR_CPU_S = 0.3


class Run:
    """One fresh process: wall and CPU seconds, max RSS (KiB)."""

    def __init__(self, wall: float, cpu: float, rss_kib: int) -> None:
        self.wall, self.cpu, self.rss_kib = wall, cpu, rss_kib


def _run(code: str, argv: list[str], cwd: Path, expect: int = 0) -> Run:
    """Run ``code`` with ``argv`` in a fresh interpreter and measure it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROVKIT_DATA_DIR": str(cwd / "var")}
    for old in ("issuer.key", "issuer.key.pub"):  # what the keygen cases write
        (cwd / old).unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    if rc != expect:
        raise RuntimeError(f"provkit {' '.join(argv)} exited {rc}, not {expect}")
    if (cwd / "var").exists():
        raise RuntimeError(f"provkit {' '.join(argv)} created a store")
    return Run(wall, usage.ru_utime + usage.ru_stime, int(usage.ru_maxrss))


def _median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        int(statistics.median(r.rss_kib for r in runs)),
    )


def _scratch(cwd: Path) -> None:
    """One second of 16-bit mono silence, without any label (written without numpy)."""
    rate, n = 16_000, 16_000
    data = bytes(2 * n)
    head = b"RIFF" + (36 + len(data)).to_bytes(4, "little") + b"WAVEfmt "
    head += (16).to_bytes(4, "little") + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
    head += rate.to_bytes(4, "little") + (2 * rate).to_bytes(4, "little")
    head += (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    (cwd / "in.wav").write_bytes(head + b"data" + len(data).to_bytes(4, "little") + data)


def measure(runs: int, eager: bool) -> list[tuple[str, Run | None, Run]]:
    """Per case: label, eager median (or None), lazy median.

    Eager and lazy runs alternate, so that load on the machine hits both alike."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        _scratch(cwd)
        for label, argv, expect in CASES:
            e_runs, l_runs = [], []
            _run(_LAZY, argv, cwd, expect)  # warm the file cache
            for _ in range(runs):
                if eager:
                    e_runs.append(_run(_EAGER, argv, cwd, expect))
                l_runs.append(_run(_LAZY, argv, cwd, expect))
            rows.append((label, _median(e_runs) if eager else None, _median(l_runs)))
    return rows


def measure_embed(runs: int) -> tuple[float, float, float]:
    """A 60 s 48 kHz stereo 16-bit WAV marked file to file: median seconds of the whole command
    (fresh process, eager and lazy) and of ``watermark.embed_file`` called in this process."""
    import numpy as np
    import soundfile as sf

    from watermark import WatermarkKey, embed_file

    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        rng = np.random.default_rng(7)
        audio = (rng.standard_normal((60 * 48_000, 2)) * 3000).astype(np.int16)
        sf.write(cwd / "in.wav", audio, 48_000, subtype="PCM_16")
        key = WatermarkKey.generate()
        key.save(cwd / "wm.key")
        argv = ["watermark", "embed", "in.wav", "out.wav", "--key", "wm.key"]
        argv += ["--payload", "0123456789abcdef"]
        eager, lazy, lib = [], [], []
        embed_file(cwd / "in.wav", cwd / "lib.wav", bytes(8), key)  # warm caches
        for _ in range(runs):
            eager.append(_run(_EAGER, argv, cwd).wall)
            lazy.append(_run(_LAZY, argv, cwd).wall)
            t0 = time.perf_counter()
            embed_file(cwd / "in.wav", cwd / "lib.wav", bytes(8), key)
            lib.append(time.perf_counter() - t0)
    return statistics.median(eager), statistics.median(lazy), statistics.median(lib)


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def main() -> None:
    """Measure and write ``bench/results/cli.md``."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="3 runs, lazy only, no embed timing")
    args = ap.parse_args()
    runs = 3 if args.quick else args.runs
    load_before = _loadavg()
    with tempfile.TemporaryDirectory() as tmp:
        floor = _median([_run("pass", [], Path(tmp)) for _ in range(runs)])
    rows = measure(runs, eager=not args.quick)
    load_after = _loadavg()
    lines = [
        f"Median of {runs} fresh processes per command"
        + (", eager and lazy runs alternating" if not args.quick else "")
        + ". CPU = user + system time of the process (what the command costs); wall also counts "
        "waiting for a core on a shared machine. eager = what the former entry point imported, "
        f"loaded first; lazy = the shipped entry point. Bar: CPU ≤ {BAR_CPU_S} s.",
        "",
        f"Load average (1, 5, 15 min) before: {load_before}; after: {load_after}. "
        f"Interpreter floor (`python -c pass`): wall {floor.wall:.2f} s, CPU {floor.cpu:.2f} s.",
        "",
        "| command | eager wall (s) | eager CPU (s) | lazy wall (s) | lazy CPU (s) | bar | "
        "eager max RSS (MB) | lazy max RSS (MB) |",
        "|---|---:|---:|---:|---:|:-:|---:|---:|",
    ]
    for label, e, la in rows:
        ok = "✓" if la.cpu <= BAR_CPU_S else "✗"
        ew = f"{e.wall:.2f}" if e else "–"
        ec = f"{e.cpu:.2f}" if e else "–"
        em = f"{e.rss_kib / 1024:.0f}" if e else "–"
        lines.append(
            f"| `{label}` | {ew} | {ec} | {la.wall:.2f} | {la.cpu:.2f} | {ok} | {em} | "
            f"{la.rss_kib / 1024:.0f} |"
        )
    if not args.quick:
        e_s, la_s, lib = measure_embed(runs)
        lines += [
            "",
            "A 60 s, 48 kHz stereo 16-bit WAV marked file to file (both layers), median of "
            f"{runs}; × real time = 60 s / wall time:",
            "",
            "| path | wall (s) | × real time |",
            "|---|---:|---:|",
            f"| `provkit watermark embed` (fresh process, eager imports) | {e_s:.2f} | "
            f"{60 / e_s:.0f}× |",
            f"| `provkit watermark embed` (fresh process, shipped) | {la_s:.2f} | "
            f"{60 / la_s:.0f}× |",
            f"| `watermark.embed_file` (in process, already imported) | {lib:.2f} | "
            f"{60 / lib:.0f}× |",
        ]
    command = "python -m bench.cli_startup " + ("--quick" if args.quick else f"--runs {runs}")
    if args.quick:
        print("\n".join(lines))
        return
    path = write_section("cli", "Command-line start-up", command, "\n".join(lines))
    print(path.read_text())


if __name__ == "__main__":
    main()
