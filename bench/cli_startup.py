"""Start-up time of the ``provkit`` command line: medians of several runs, as hyperfine reports.

Each command runs as a fresh process. "eager" first imports what the former entry point imported
(every command module's top-level dependencies: SQLAlchemy, Alembic, SciPy, FAISS, the screener);
"lazy" is the shipped entry point, which imports only the module of the command it runs, and
that module's heavy dependencies only when the command runs. Peak memory (max RSS) comes from ``wait4``.

Run: ``python -m bench.cli_startup [--runs 7]`` → ``bench/results/cli.md``.
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

#: (label, argv after ``provkit``); none of them touches the store.
CASES: list[tuple[str, list[str]]] = [
    ("provkit --help", ["--help"]),
    ("provkit --version", ["--version"]),
    ("provkit screen --help", ["screen", "--help"]),
    ("provkit cert --help", ["cert", "--help"]),
    ("provkit watermark --help", ["watermark", "--help"]),
    ("provkit video --help", ["video", "--help"]),
]


def _run(code: str, argv: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and max RSS (KiB) of one run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROVKIT_DATA_DIR": str(cwd / "var")}
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
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"provkit {' '.join(argv)} exited {proc.returncode}")
    return wall, int(usage.ru_maxrss)


def measure(runs: int) -> list[tuple[str, float, float, int, int]]:
    """Per case: label, eager median s, lazy median s, eager and lazy median max RSS (KiB).

    Eager and lazy runs alternate, so that load on the machine hits both alike."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        for label, argv in CASES:
            e_t, l_t, e_m, l_m = [], [], [], []
            _run(_LAZY, argv, cwd)  # warm the file cache
            for _ in range(runs):
                t, m = _run(_EAGER, argv, cwd)
                e_t.append(t)
                e_m.append(m)
                t, m = _run(_LAZY, argv, cwd)
                l_t.append(t)
                l_m.append(m)
            rows.append(
                (
                    label,
                    statistics.median(e_t),
                    statistics.median(l_t),
                    int(statistics.median(e_m)),
                    int(statistics.median(l_m)),
                )
            )
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
            eager.append(_run(_EAGER, argv, cwd)[0])
            lazy.append(_run(_LAZY, argv, cwd)[0])
            t0 = time.perf_counter()
            embed_file(cwd / "in.wav", cwd / "lib.wav", bytes(8), key)
            lib.append(time.perf_counter() - t0)
    return statistics.median(eager), statistics.median(lazy), statistics.median(lib)


def main() -> None:
    """Measure and write ``bench/results/cli.md``."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    rows = measure(args.runs)
    lines = [
        f"Median of {args.runs} fresh processes per command, eager and lazy runs alternating; "
        "eager = what the former entry point imported, loaded first; lazy = the shipped entry "
        "point. The machine was shared with other work while this ran: read the ratios.",
        "",
        "| command | eager (s) | lazy (s) | speed-up | eager max RSS (MB) | lazy max RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    floor = statistics.median(_run("pass", [], ROOT)[0] for _ in range(args.runs))
    lines.insert(1, f"Interpreter floor in the same run (`python -c pass`): {floor:.2f} s.")
    for label, e, la, em, lm in rows:
        lines.append(
            f"| `{label}` | {e:.2f} | {la:.2f} | {e / la:.1f}× | {em / 1024:.0f} | {lm / 1024:.0f} |"
        )
    e, la, lib = measure_embed(args.runs)
    lines += [
        "",
        "A 60 s, 48 kHz stereo 16-bit WAV marked file to file (both layers), median of "
        f"{args.runs}; × real time = 60 s / wall time:",
        "",
        "| path | wall (s) | × real time |",
        "|---|---:|---:|",
        f"| `provkit watermark embed` (fresh process, eager imports) | {e:.2f} | {60 / e:.0f}× |",
        f"| `provkit watermark embed` (fresh process, shipped) | {la:.2f} | {60 / la:.0f}× |",
        f"| `watermark.embed_file` (in process, already imported) | {lib:.2f} | {60 / lib:.0f}× |",
    ]
    path = write_section(
        "cli",
        "Command-line start-up",
        f"python -m bench.cli_startup --runs {args.runs}",
        "\n".join(lines),
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
