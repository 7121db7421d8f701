"""C2PA and AIGC label cost per generated file: what the ``stamp`` phase adds to a generation.

For each format the pipeline writes (a 10 s WAV and FLAC track, a 10 s 640×360 MP4 with AAC
audio, all from the reference generator), the median over ``--runs`` fresh copies of:

* ``label``: writing the sealed AIGC label (mutagen);
* ``sign``: building and signing the manifest into the file (c2pa-rs, Ed25519, signer built
  once as the service does), plus writing the ``.c2pa`` store beside it;
* ``pdq keyframes``: the PDQ hashes of the MP4's key frames for the soft binding (a decode of the
  key frames: fingerprinting work, reported apart from signing);
* ``read``: what verify adds: reading and validating the manifest and reading the label.

The bar (issue #15): signing and labelling add ≤ 20 ms per file, thumbnails and encoding excluded.

Run: ``python -m bench.c2pa_cost`` (``--runs 5`` for a short run). Writes
``bench/results/c2pa.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench._report import write_section
from provenance.c2pa import (
    GenerationFacts,
    ManifestReader,
    ManifestSigner,
    build_manifest,
    create_dev_chain,
)
from provenance.labels import AigcLabel, read_label, write_label
from service.generator import load_generator
from service.media.encode import write_generation
from service.requests import GenerateRequest
from service.signals.c2pa import keyframe_blocks

BAR_MS = 20.0


def _media(folder: Path) -> dict[str, Path]:
    gen = load_generator("service.generator:ReferenceGenerator")
    files: dict[str, Path] = {}
    video = GenerateRequest(prompt="bench", duration_s=10, width=640, height=360, fps=30, seed=1)
    (folder / "v").mkdir()
    for _kind, p in write_generation(folder / "v", gen.generate(video.core_request()), "flac"):
        files[p.suffix] = p
    for fmt in ("wav", "flac"):
        audio = GenerateRequest(prompt="bench", kind="audio", duration_s=10, seed=2)
        (folder / fmt).mkdir()
        for _kind, p in write_generation(folder / fmt, gen.generate(audio.core_request()), fmt):
            files[p.suffix] = p
    return files


def _median_ms(fn: Callable[[Path], object], src: Path, work: Path, runs: int) -> Cost:
    """Median wall and CPU milliseconds of ``fn`` on fresh copies of ``src``."""
    wall, cpu = [], []
    for i in range(runs):
        p = work / f"run{i}{src.suffix}"
        shutil.copy(src, p)
        t, c = time.perf_counter(), time.process_time()
        fn(p)
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - t) * 1000)
        p.unlink()
    return Cost(statistics.median(wall), statistics.median(cpu))


@dataclass(frozen=True)
class Cost:
    """Median wall-clock and process CPU time, in milliseconds."""

    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.cpu:.1f} ms ({self.wall:.1f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        media = _media(d)
        signer = ManifestSigner(create_dev_chain(d / "chain"))
        reader = ManifestReader()
        label = AigcLabel("1", "provkit", "12345").sealed(b"k" * 32)
        work = d / "work"
        work.mkdir()
        rows: list[tuple[str, float, Cost, Cost, Cost, Cost | None, Cost]] = []
        for suffix in (".wav", ".flac", ".mp4"):
            src = media[suffix]
            keyframes = keyframe_blocks(src) if suffix == ".mp4" else ()
            facts = GenerationFacts(
                12345,
                "0123456789abcdef",
                "ref",
                src.name,
                watermark_spans=((0, 10_000),),
                keyframes=keyframes,
            )

            def sign(p: Path, facts: GenerationFacts = facts) -> None:
                store = signer.sign_file(p, build_manifest(facts))
                p.with_name(p.name + ".c2pa").write_bytes(store)

            def stamp(p: Path, sign: Callable[[Path], None] = sign) -> None:
                write_label(p, label)
                sign(p)

            signed = work / f"signed{suffix}"
            shutil.copy(src, signed)
            stamp(signed)

            def read(p: Path, signed: Path = signed) -> None:
                assert reader.read(signed).state == "valid_untrusted"
                assert read_label(signed) is not None

            label_ms = _median_ms(lambda p: write_label(p, label), src, work, args.runs)
            sign_ms = _median_ms(sign, src, work, args.runs)
            both_ms = _median_ms(stamp, src, work, args.runs)
            read_ms = _median_ms(read, src, work, args.runs)
            pdq_ms = (
                _median_ms(keyframe_blocks, src, work, max(3, args.runs // 3))
                if suffix == ".mp4"
                else None
            )
            size_mb = src.stat().st_size / 1e6
            rows.append((suffix[1:].upper(), size_mb, label_ms, sign_ms, both_ms, pdq_ms, read_ms))
    load.append(os.getloadavg()[0])
    lines = [
        "| file (10 s) | size | label | sign + store | label + sign | PDQ key frames | verify read |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, mb, lab, sig, both, pdq, rd in rows:
        lines.append(f"| {name} | {mb:.1f} MB | {lab} | {sig} | **{both}** | {pdq or '—'} | {rd} |")
    worst = max(r[4].cpu for r in rows)
    worst_wall = max(r[4].wall for r in rows)
    verdict = "meets" if worst <= BAR_MS else "misses"
    body = (
        "\n".join(lines)
        + f"\n\nEach cell: median CPU time of the process (median wall-clock time in brackets) over "
        f"{args.runs} fresh copies (PDQ: {max(3, args.runs // 3)}). Labelling and signing together "
        f"cost at most {worst:.1f} ms of CPU per file ({worst_wall:.1f} ms wall): this {verdict} the "
        f"≤ {BAR_MS:.0f} ms bar. The machine's cores are shared with other work (1-minute load "
        f"average {load[0]:.1f} at the start, {load[1]:.1f} at the end, on {os.cpu_count()} cores), so "
        "wall-clock times move with its load; CPU time is the cost a generation pays. Signing is Ed25519 "
        "with a development chain (c2pa-rs through c2pa-python); it hashes every byte for the "
        "hard binding, so it grows with file size. The PDQ key-frame hashes for the video's soft "
        "binding decode the key frames: fingerprinting work, shown apart. `verify read` is what "
        "the c2pa and label signals add to verifying the signed file.\n"
    )
    path = write_section(
        "c2pa", "C2PA manifests and AIGC labels: cost per file", "python -m bench.c2pa_cost", body
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
