"""Robustness of video fingerprint matching: recall@1 with the correct offset, false matches.

Sources: the ThreatExchange sample videos (real phone footage) plus procedural videos with motion,
texture and scene cuts. Each transform of the issue is applied alone with ffmpeg to an excerpt of
every source; a query counts as found when the best match is its source at the right offset
(±0.5 s). False matches: unrelated procedural queries against an index of unrelated sources.

Run: ``python -m bench.fingerprint_robustness [--quick]``; writes ``bench/results/fingerprint.md``.
``--sources``/``--transforms``/``--no-false-matches`` run a subset (printed, not written), and
misses are logged with their candidates.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from provenance.fingerprint import (
    FingerprintIndex,
    VideoFingerprint,
    VideoMatch,
    fingerprint_query,
    fingerprint_video,
    from_hex,
)
from provenance.fingerprint.index import QUERY_SAMPLE_FPS
from provenance.fingerprint.pdq import hamming, hamming_matrix, pdq_hash
from provenance.fingerprint.synthetic import synthetic_frames, write_synthetic_video
from provenance.fingerprint.windows import QUERY_CROP, WINDOWS, window_box
from provenance.registry.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PROVKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "bench" / "results" / "fingerprint.md"
TOLERANCE_S = 0.5

SEPIA = "colorchannelmixer=.393:.769:.189:0:.349:.686:.168:0:.272:.534:.131"
#: name → (ffmpeg video filter, extra output args, excerpt seconds). Filters written ``KIND:…``
#: are graphs built by :func:`graph` (logos, caption bars, picture-in-picture, split screens).
TRANSFORMS: dict[str, tuple[str, list[str], float]] = {
    "H.264 re-encode CRF 35": ("null", ["-crf", "35"], 12.0),
    "downscale to 360p": ("scale=-2:360", [], 12.0),
    "crop 10 % of each border": ("crop=iw*0.8:ih*0.8", [], 12.0),
    "add letterbox bars": ("scale=iw:trunc(ih*0.75/2)*2,pad=iw:ih/0.75:0:(oh-ih)/2", [], 12.0),
    "brightness +20 %": ("lutyuv=y=clipval*1.2", [], 12.0),
    "brightness -20 %": ("lutyuv=y=clipval*0.8", [], 12.0),
    "contrast +20 %": ("eq=contrast=1.2", [], 12.0),
    "contrast -20 %": ("eq=contrast=0.8", [], 12.0),
    "greyscale": ("hue=s=0", [], 12.0),
    "sepia": (SEPIA, [], 12.0),
    "small logo": ("LOGO:0.12", [], 12.0),
    "large logo": ("LOGO:0.35", [], 12.0),
    "horizontal flip": ("hflip", [], 12.0),
    "30 → 24 fps": ("fps=24", [], 12.0),
    "5 s excerpt": ("null", [], 5.0),
}
#: the reframing transforms of issue 16 (crops, re-cuts, picture-in-picture, split screens,
#: large overlays); every one ends in an even-sized frame
REFRAME: dict[str, tuple[str, list[str], float]] = {
    "crop 5 % of each border": ("crop=trunc(iw*0.9/2)*2:trunc(ih*0.9/2)*2", [], 12.0),
    "crop 7.5 % of each border": ("crop=trunc(iw*0.85/2)*2:trunc(ih*0.85/2)*2", [], 12.0),
    "crop 15 % of each border": ("crop=trunc(iw*0.7/2)*2:trunc(ih*0.7/2)*2", [], 12.0),
    "crop 20 % of each border": ("crop=trunc(iw*0.6/2)*2:trunc(ih*0.6/2)*2", [], 12.0),
    "centred 9:16 re-cut": ("crop=trunc(ih*9/32)*2:ih", [], 12.0),
    "centred 1:1 re-cut": ("crop=trunc(ih/2)*2:ih", [], 12.0),
    "centred 4:5 re-cut": ("crop=trunc(ih*4/10)*2:ih", [], 12.0),
    "9:16 re-cut 15 % left": ("crop=trunc(ih*9/32)*2:ih:(iw-ow)/2-iw*0.15:0", [], 12.0),
    "9:16 re-cut 15 % right": ("crop=trunc(ih*9/32)*2:ih:(iw-ow)/2+iw*0.15:0", [], 12.0),
    "centred 16:9 re-cut of a portrait source": ("crop=iw:trunc(iw*9/32)*2", [], 12.0),
    "picture-in-picture 50 % over video": ("PIP:0.5:video", [], 12.0),
    "picture-in-picture 35 % over video": ("PIP:0.35:video", [], 12.0),
    "picture-in-picture 50 % over flat": ("PIP:0.5:flat", [], 12.0),
    "picture-in-picture 35 % over blur": ("PIP:0.35:blur", [], 12.0),
    "side-by-side split screen": ("SPLIT:h", [], 12.0),
    "top-bottom split screen": ("SPLIT:v", [], 12.0),
    "caption bar 25 % of the height": ("CAPTION:0.25", [], 12.0),
    "logo 25 % of the frame": ("LOGO:0.5:frame", [], 12.0),
    "logo 160 px wide": ("LOGO:0.5", [], 12.0),
    "caption bar 25 % at the top": ("CAPTION:0.25:top", [], 12.0),
}
ALL_TRANSFORMS = {**TRANSFORMS, **REFRAME}
#: rows added after the others, each with the seed of its own excerpt generator (the other
#: rows keep their excerpts)
LATE_ROWS = {"logo 160 px wide": 8, "caption bar 25 % at the top": 9}


def applies(name: str, width: int, height: int) -> bool:
    """Whether a transform applies to a source of this size: re-cuts of landscape sources to
    narrower frames only to landscape ones, the 16:9 re-cut only to portrait ones."""
    if "re-cut" not in name:
        return True
    return height > width if "portrait" in name else width > height


def ensure_tools() -> None:
    """Install ffmpeg when missing (Debian package)."""
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure_media_tools.sh"), "ffmpeg"], check=True)


def ffmpeg(args: list[str]) -> None:
    """Run ffmpeg quietly; raise on failure."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-threads", "1"]
    subprocess.run(cmd + args, check=True)


def graph(vf: str, out: Path) -> tuple[list[str], str]:
    """Extra inputs and the filter graph (ending in ``[v]``) of a ``KIND:…`` transform.

    Input 0 is the excerpt; input 1 is the logo image or the unrelated video (:data:`OTHER`).
    ``LOGO:f``: a still 16:9 test pattern 320·``f`` pixels wide in the top-right corner
    (small, ``f`` = 0.12: 38 px; large, 0.35: 112 px); ``LOGO:f:frame``: the pattern ``f`` of
    the frame's width and height (0.5: a quarter of the frame). ``CAPTION:f``: a near-opaque
    dark bar over the bottom ``f`` of the height (``CAPTION:f:top``: over the top). ``PIP:s:bg``: the excerpt scaled by ``s`` over ``bg`` (``video``: the unrelated
    video, inset bottom-right; ``flat``: grey, inset top-left; ``blur``: the excerpt itself
    blurred, inset centred). ``SPLIT:h``/``SPLIT:v``: the excerpt beside (left of) or above an
    unrelated video, both at half size.
    """
    kind, *args = vf.split(":")
    if kind == "LOGO":
        frac = float(args[0])
        logo = out.with_name("logo.png")
        if not logo.exists():
            ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180", "-frames:v", "1", str(logo)])
        # in scale2ref, main_w is the logo's own width (320) and iw the frame's
        size = f"iw*{frac}:h=ih*{frac}" if args[1:] == ["frame"] else f"main_w*{frac}:h=ow/mdar"
        g = (
            f"[1:v][0:v]scale2ref=w={size}[logo][base];"
            "[base][logo]overlay=W-w-W*0.03:H*0.04:shortest=1[v]"
        )
        return ["-loop", "1", "-i", str(logo)], g
    if kind == "CAPTION":
        frac = float(args[0])
        y = "0" if args[1:] == ["top"] else f"ih*{1 - frac}"
        return [], f"[0:v]drawbox=x=0:y={y}:w=iw:h=ih*{frac}:color=0x181818@0.9:t=fill[v]"
    other = ["-i", str(OTHER)]
    if kind == "PIP":
        s, bg = float(args[0]), args[1]
        fg = f"[0:v]split[a][b];[b]scale=trunc(iw*{s}/2)*2:trunc(ih*{s}/2)*2[fg];"
        if bg == "video":
            return other, (
                fg + "[1:v][a]scale2ref[bg][ref];[ref]nullsink;"
                "[bg][fg]overlay=W-w-W*0.04:H-h-H*0.06:shortest=1[v]"
            )
        if bg == "flat":
            return [], fg + "[a]drawbox=t=fill:color=0x5a6470[bg];[bg][fg]overlay=W*0.05:H*0.08[v]"
        return [], fg + "[a]boxblur=16:2[bg];[bg][fg]overlay=(W-w)/2:(H-h)/2[v]"
    if kind == "SPLIT":
        half = "[0:v]scale=trunc(iw/4)*2:trunc(ih/4)*2,setsar=1[a];"
        other_half = "[1:v][a0]scale2ref[b][a];"
        stack = "hstack" if args[0] == "h" else "vstack"
        return other, (
            half.replace("[a];", "[a0];")
            + other_half
            + f"[b]setsar=1[b1];[a][b1]{stack}=shortest=1[v]"
        )
    raise ValueError(f"unknown transform {vf!r}")


#: the unrelated video that picture-in-picture and split screens show beside the excerpt
#: (generated once per run, never registered)
OTHER = Path()


def transform(src: Path, out: Path, start: float, length: float, vf: str, extra: list[str]) -> None:
    """Excerpt ``[start, start + length)`` of ``src`` with video filter ``vf`` into ``out``."""
    enc = ["-an", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    if "-crf" not in extra:
        enc += ["-crf", "23"]
    inp = ["-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", str(src)]
    if vf.split(":")[0] in ("LOGO", "CAPTION", "PIP", "SPLIT"):
        inputs, g = graph(vf, out)
        ffmpeg([*inp, *inputs, "-filter_complex", g, "-map", "[v]", *enc, *extra, str(out)])
        return
    ffmpeg([*inp, "-vf", vf, *enc, *extra, str(out)])


def concat(a: Path, sa: float, b: Path, sb: float, length: float, out: Path) -> None:
    """``length`` seconds of ``a`` from ``sa`` followed by ``length`` seconds of ``b`` from ``sb``."""
    ffmpeg(
        [
            "-ss", f"{sa:.3f}", "-t", f"{length:.3f}", "-i", str(a),
            "-ss", f"{sb:.3f}", "-t", f"{length:.3f}", "-i", str(b),
            "-filter_complex",
            "[0:v]scale=640:360,setsar=1,fps=30[a];[1:v]scale=640:360,setsar=1,fps=30[b];"
            "[a][b]concat=n=2:v=1[v]",
            "-map", "[v]", "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", str(out),
        ]
    )  # fmt: skip


def pad_bars(src: Path, start: float, length: float, out: Path) -> None:
    """A letterboxed copy of ``[start, start + length)`` of ``src`` (bars of 1/8 of the height)."""
    transform(src, out, start, length, "pad=iw:ih*4/3:0:(oh-ih)/2", [])


def query(path: Path) -> VideoFingerprint:
    """Fingerprint a query as ``provkit video trace`` does."""
    return fingerprint_query(path, sample_fps=QUERY_SAMPLE_FPS)


def from_reference(path: Path) -> VideoFingerprint:
    """A 1 frame/s fingerprint made from upstream's vPDQ hash file (every frame listed)."""
    rows = [r.split(",") for r in path.read_text().splitlines() if r.strip()]
    t = np.array([float(r[3]) for r in rows])
    q = np.array([int(r[1]) for r in rows], dtype=np.int32)
    h = from_hex([r[2] for r in rows])
    keep = np.zeros(len(rows), bool)
    keep[np.searchsorted(t, np.arange(0, t[-1] + 1e-9, 1.0) - 1e-6)] = True
    keep &= q >= 50
    return VideoFingerprint(h[keep], t[keep], q[keep], None, float(t[-1]))


@dataclass
class Row:
    """Counts of one table row."""

    found: int = 0
    total: int = 0
    offset_err: list[float] | None = None

    def add(self, ok: bool, err: float | None = None) -> None:
        self.total += 1
        self.found += int(ok)
        if err is not None:
            self.offset_err = [*(self.offset_err or []), err]


def best_is(matches: list, video_id: str, offset: float | None) -> tuple[bool, float | None]:
    """Whether the top match is ``video_id`` at ``offset`` (±0.5 s), and the offset error."""
    if not matches or matches[0].video_id != video_id:
        return False, None
    if offset is None:
        return True, None
    err = abs(matches[0].offset_s - offset)
    return err <= TOLERANCE_S, err


def diagnose(
    matches: list[VideoMatch], video_id: str, offset: float | None, qfp: VideoFingerprint
) -> str:
    """A miss explained: query frames, then every candidate with its score, frames and offset."""
    want = f"want {video_id}" + (f" @ {offset:+.2f} s" if offset is not None else "")
    head = f"{want}; query {len(qfp)} frames over {qfp.duration:.1f} s"
    cands = [
        f"{m.video_id}{' (mirrored)' if m.mirrored else ''} score {m.score:.2f} "
        f"frames {m.matched_frames} offset {m.offset_s:+.2f} q[{m.query_range[0]:.1f}, "
        f"{m.query_range[1]:.1f}]"
        for m in matches[:4]
    ]
    return head + "; " + ("; ".join(cands) if cands else "no candidates")


def _selected(name: str, only: list[str] | None) -> bool:
    return only is None or any(o.lower() in name.lower() for o in only)


def run(
    quick: bool,
    log: Callable[[str], None],
    *,
    only_sources: list[str] | None = None,
    only_transforms: list[str] | None = None,
    false_matches: bool = True,
    work: Path | None = None,
    n_false: int | None = None,
    n_procedural: int | None = None,
) -> str:
    """The whole bench; ``only_*`` restrict the queries (by substring of the source id or the
    transform name) without changing the random excerpts of the others, ``work`` keeps the
    generated sources between runs, ``n_procedural`` sets the number of procedural sources
    (default 4 with ``quick``, 20 without)."""
    ensure_tools()
    n_src = n_procedural or (4 if quick else 20)
    seconds = 30.0 if quick else 60.0
    n_false = n_false or (150 if quick else 1000)
    width, height = (640, 360) if quick else (854, 480)
    excerpt = 8.0 if quick else 12.0
    rng = np.random.default_rng(7)
    late_rngs = {name: np.random.default_rng(seed) for name, seed in LATE_ROWS.items()}
    if work is None:
        work = Path(tempfile.mkdtemp(prefix="fpbench-"))
    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work / 'bench.db'}"
    for old in work.glob("*.db"):
        old.unlink()
    upgrade(url)
    index = FingerprintIndex(url, None, autosave=False)
    te = SHARED / "threatexchange" / "videos"
    sources: list[tuple[str, Path, float]] = []
    t0 = time.perf_counter()
    for i in range(n_src):
        path = work / f"proc{i:02d}-{width}x{height}-{seconds:.0f}.mp4"
        if not path.is_file():
            write_synthetic_video(
                path, seconds, width=width, height=height, fps=30, seed=100 + i, scene_s=5.0, crf=20
            )
        sources.append((f"proc{i:02d}", path, seconds))
    for name in ("chair-orig-22-sd-bar", "pattern-hd-no-bar"):
        if (te / f"{name}.mp4").is_file():
            sources.append((name, te / f"{name}.mp4", 0.0))
    global OTHER
    OTHER = work / f"other-{width}x{height}-{seconds:.0f}.mp4"
    if not OTHER.is_file():
        write_synthetic_video(
            OTHER, seconds, width=width, height=height, fps=30, seed=99, scene_s=5.0, crf=20
        )
    for vid, path, _ in sources:
        index.add(vid, fingerprint_video(path))
    sources = [(v, p, d or index_duration(p)) for v, p, d in sources]
    sizes = {v: frame_size(p) for v, p, _ in sources}
    log(
        f"{len(sources)} sources registered in {time.perf_counter() - t0:.0f} s ({index.n_frames} frame hashes)"
    )

    rows: dict[str, Row] = {name: Row() for name in ALL_TRANSFORMS}
    rows["2 excerpts of different sources"] = Row()
    rows["remove letterbox bars"] = Row()
    q_times: list[float] = []
    for vid, path, dur in sources:
        for name, (vf, extra, length) in ALL_TRANSFORMS.items():
            length = min(length if length < 12.0 else excerpt, dur - 1.0)
            # rows added later draw from their own generator: the others keep their excerpts
            draw = late_rngs.get(name, rng)
            start = float(np.round(draw.uniform(0, max(0.0, dur - length - 0.5)) * 30) / 30)
            if not (_selected(vid, only_sources) and _selected(name, only_transforms)):
                continue
            if not applies(name, *sizes[vid]):
                continue
            out = work / "q.mp4"
            transform(path, out, start, length, vf, extra)
            qfp = query(out)
            t1 = time.perf_counter()
            matches = index.search(qfp)
            q_times.append(time.perf_counter() - t1)
            ok, err = best_is(matches, vid, start)
            rows[name].add(ok, err)
            if not ok:
                log(f"miss: {name}: {diagnose(matches, vid, start, qfp)}")
            else:
                log(
                    f"found: {name}: {vid}"
                    + (f" (offset error {err:.2f} s)" if err is not None else "")
                )
    # compilations: 6 s of one source then 6 s of another
    long_sources = [s for s in sources if s[2] >= 8.0]
    for i, (vid, path, dur) in enumerate(long_sources):
        vid2, path2, dur2 = long_sources[(i + 1) % len(long_sources)]
        sa = float(np.round(rng.uniform(0, dur - 7) * 30) / 30)
        sb = float(np.round(rng.uniform(0, dur2 - 7) * 30) / 30)
        name = "2 excerpts of different sources"
        if not (
            _selected(name, only_transforms)
            and (_selected(vid, only_sources) or _selected(vid2, only_sources))
        ):
            continue
        out = work / "comp.mp4"
        concat(path, sa, path2, sb, 6.0, out)
        qfp = query(out)
        matches = index.search(qfp)
        found = {m.video_id: m.offset_s for m in matches[:2]}
        ok = vid in found and vid2 in found
        ok = (
            ok
            and abs(found[vid] - sa) <= TOLERANCE_S
            and abs(found[vid2] - (sb - 6.0)) <= TOLERANCE_S
        )
        rows["2 excerpts of different sources"].add(ok)
        if not ok:
            log(
                f"miss: compilation {vid}@{sa:.2f} + {vid2}@{sb - 6.0:+.2f}: "
                + diagnose(matches, vid, sa, qfp)
            )
    te_rows: list[tuple[str, str, str, str]] = []
    if _selected("remove letterbox bars", only_transforms):
        # bar removal: letterboxed sources registered in their own index, queried without bars
        bar_url = f"sqlite:///{work / 'bars.db'}"
        upgrade(bar_url)
        bars = FingerprintIndex(bar_url, None, autosave=False)
        segments: list[tuple[str, Path, float]] = []
        for vid, path, dur in sources:
            if vid.startswith("proc"):
                a = float(np.round(rng.uniform(0, dur - 20) * 30) / 30)
                if not _selected(vid, only_sources):
                    continue
                padded = work / f"{vid}-bar.mp4"
                pad_bars(path, a, 20.0, padded)
                bars.add(vid, fingerprint_video(padded))
                segments.append((vid, path, a))
        ref_hashes = SHARED / "threatexchange" / "vpdq-hashes" / "chair-orig-22-hd-no-bar.txt"
        if ref_hashes.is_file():
            bars.add("chair-orig-22-hd-no-bar", from_reference(ref_hashes))
        for vid, path, a in segments:
            start = a + float(np.round(rng.uniform(0, 7) * 30) / 30)
            out = work / "nobar.mp4"
            transform(path, out, start, 12.0, "null", [])
            ok, err = best_is(bars.search(query(out)), vid, start - a)
            rows["remove letterbox bars"].add(ok, err)
        if ref_hashes.is_file():
            # the -bar samples (SD, letterboxed) against the HD source without bars (upstream hashes)
            for name in ("chair-orig-22-sd-bar", "chair-22-sd-grey-bar", "chair-22-sd-sepia-bar"):
                m = bars.search(query(te / f"{name}.mp4"))
                ok, err = best_is(m, "chair-orig-22-hd-no-bar", 0.0)
                rows["remove letterbox bars"].add(ok, err)
                te_rows.append(
                    (f"{name} → chair-orig-22-hd-no-bar (upstream hashes)", *_describe(m))
                )
    if only_transforms is None and only_sources is None:
        # the upstream variants against their registered SD sources
        for name, src in (
            ("chair-22-sd-grey-bar", "chair-orig-22-sd-bar"),
            ("chair-22-sd-sepia-bar", "chair-orig-22-sd-bar"),
            ("chair-22-with-small-logo-bar", "chair-orig-22-sd-bar"),
            ("chair-22-with-large-logo-bar", "chair-orig-22-sd-bar"),
            ("chair-20-sd-bar", "chair-orig-22-sd-bar"),
            ("chair-19-sd-bar", "chair-orig-22-sd-bar"),
            ("pattern-sd-grey-bar", "pattern-hd-no-bar"),
            ("pattern-sd-with-small-logo-bar", "pattern-hd-no-bar"),
            ("pattern-sd-with-large-logo-bar", "pattern-hd-no-bar"),
            ("doorknob-hd-no-bar", "(none)"),
        ):
            if (te / f"{name}.mp4").is_file():
                m = index.search(query(te / f"{name}.mp4"))
                te_rows.append((f"{name} → {src}", *_describe(m)))

    false_hits, n_fq, fm_frames = 0, 0, 0
    te_queries: list[Path] = []
    if false_matches:
        # false matches: unrelated queries against an index of unrelated sources
        t2 = time.perf_counter()
        fm_url = f"sqlite:///{work / 'false.db'}"
        upgrade(fm_url)
        fm = FingerprintIndex(fm_url, None, autosave=False)
        items = []
        for i in range(n_false):
            frames = synthetic_frames(
                30.0, width=160, height=90, fps=4, seed=10_000 + i, scene_s=5.0
            )
            items.append((f"u{i}", fingerprint_video(frames, frame_rate=4)))
        fm.add_many(items)
        for i in range(n_false):
            frames = synthetic_frames(
                10.0, width=160, height=90, fps=4, seed=50_000 + i, scene_s=5.0
            )
            false_hits += int(bool(fm.search(fingerprint_query(frames, frame_rate=4))))
        # and the real sample videos of other scenes
        te_queries = sorted(te.glob("*.mp4")) if te.is_dir() else []
        for p in te_queries:
            false_hits += int(bool(fm.search(query(p))))
        n_fq = n_false + len(te_queries)
        log(f"false-match run: {time.perf_counter() - t2:.0f} s")
        fm_frames = fm.n_frames

    clip_ms = query_time_720p(work)
    log(f"10 s 720p clip: fingerprint + search median {clip_ms:.0f} ms")
    rows = {k: r for k, r in rows.items() if r.total}
    total = sum(r.total for r in rows.values())
    n_found = sum(r.found for r in rows.values())
    lines = [
        f"Sources: {len(sources)} ({n_src} procedural {width}x{height} 30 fps × {seconds:.0f} s with "
        "motion, texture and a cut every 5 s, plus the ThreatExchange samples chair-orig-22-sd-bar "
        "and pattern-hd-no-bar). Each transform is applied alone with ffmpeg to a random excerpt "
        f"({excerpt:.0f} s unless stated) of every source. Found = the best match is the source with "
        f"|offset error| ≤ {TOLERANCE_S} s. Queries are fingerprinted as `fingerprint_query` does "
        f"({QUERY_SAMPLE_FPS:g} frames/s plus frames where the picture moves), sources at "
        "1 frame/s + scene cuts; default thresholds (31 bits anchor, 48 bits vote). "
        "Logos are a still test-pattern image in the top-right corner: small 38 px wide, "
        "large 112 px, '160 px' 160 px wide (on 640-wide frames: 6 %, 17.5 %, 25 % of the "
        "width), and '25 % of the frame' half the frame's width and height. Caption bars are a "
        "near-opaque dark band over the bottom (or top) of the frame. Picture-in-picture and "
        "split screens put the excerpt beside an unrelated, unregistered procedural video.",
        "",
        "| transform | recall@1 (offset ±0.5 s) | queries | median offset error |",
        "|---|---|---|---|",
    ]
    for name, r in rows.items():
        med = f"{np.median(r.offset_err):.2f} s" if r.offset_err else "–"
        lines.append(f"| {name} | {r.found / max(r.total, 1):.3f} | {r.total} | {med} |")
    lines.append(f"| **overall** | **{n_found / max(total, 1):.3f}** | {total} | |")
    if not total:  # a false-match run alone: no table of transforms
        lines = lines[:1]
    if te_rows:
        lines += [
            "",
            "Upstream sample variants (real phone video; no ground-truth offset for the trimmed "
            "cuts):",
            "",
            "| query → expected source | best match | score | offset |",
            "|---|---|---|---|",
        ]
    for row in te_rows:
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        (
            f"False matches: **{false_hits}** of {n_fq} unrelated queries ({n_false} procedural "
            f"10 s clips with other seeds + {len(te_queries)} upstream sample videos, all "
            "fingerprinted as queries) against an index of "
            f"{n_false} unrelated procedural sources of 30 s ({fm_frames} frame hashes)."
            if false_matches
            else "False matches: not measured in this run (`--no-false-matches`)."
        ),
        "",
        (
            f"Search time per query, fingerprinting excluded (small index, {len(q_times)} "
            f"queries): median {1000 * float(np.median(q_times)):.1f} ms (FAISS's threads make "
            "it swing with the machine's load)."
            if q_times
            else "Search time per query: no transform queries in this run."
        ),
        "",
        f"Query time for a 10 s 1280x720 clip (decode, fingerprint as a query, search this index): "
        f"median of 3 **{clip_ms:.0f} ms**.",
    ]
    return "\n".join(lines)


def query_time_720p(work: Path) -> float:
    """Median milliseconds (of 3) to fingerprint a 10 s 1280x720 clip as a query and search it."""
    clip = work / "clip-1280x720-10.mp4"
    if not clip.is_file():
        write_synthetic_video(clip, 10.0, width=1280, height=720, fps=30, seed=5, scene_s=5.0)
    url = f"sqlite:///{work / 'clip.db'}"
    upgrade(url)
    idx = FingerprintIndex(url, None, autosave=False)
    idx.add("clip", fingerprint_video(clip))
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        idx.search(query(clip))
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def window_table(n_clips: int = 6, n_unrelated: int = 400) -> str:
    """What each reference window buys: frame-level recall of the copies it is for, and its
    cost in rows and near hits among unrelated frames.

    On procedural 640x360 clips (seeds 900+, used nowhere else), every transform of the issue
    that a window serves is applied to the frames directly (no codec); a query frame counts when
    one of its rows (whole picture, or its central 94 %) is within 31 bits of a stored row of
    its own frame, with all windows and with all but the one in question. False cost: rows of
    ``n_unrelated`` frames of other clips within 31 bits of any stored window row.
    """
    ys = []
    for i in range(n_clips):
        for f in synthetic_frames(10.0, width=640, height=360, fps=1, seed=900 + i, scene_s=5.0):
            ys.append(f.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))
    y = np.stack(ys)
    n, h, w = y.shape
    pic = (0, h, 0, w)
    full = pdq_hash(y)[0]
    stored = {"full": full, "c80": pdq_hash(_box(y, _central_box(pic, h, w, 0.8)))[0]}
    for win in WINDOWS:
        b = window_box(win, h, w, pic)
        if b is not None:
            stored[win.name] = pdq_hash(_box(y, b))[0]

    def crop(p: float) -> Callable[[np.ndarray], np.ndarray]:
        return lambda a: a[:, round(h * p) : h - round(h * p), round(w * p) : w - round(w * p)]

    def recut(aspect: float, shift: float = 0.0) -> Callable[[np.ndarray], np.ndarray]:
        ww = round(h * aspect)
        x0 = round((w - ww) / 2 + shift * w)
        return lambda a: a[:, :, x0 : x0 + ww]

    copies = {
        "crop 5 %": crop(0.05),
        "crop 7.5 %": crop(0.075),
        "crop 10 %": crop(0.1),
        "crop 15 %": crop(0.15),
        "crop 20 %": crop(0.2),
        "9:16 centred": recut(9 / 16),
        "1:1 centred": recut(1.0),
        "4:5 centred": recut(0.8),
        "9:16 15 % left": recut(9 / 16, -0.15),
        "9:16 15 % right": recut(9 / 16, 0.15),
        # large overlays: the part of the frame the query hashes (the bar cut off as a dark
        # bar; the 45 % a quarter-frame corner logo leaves)
        "caption bar 25 %": lambda a: a[:, : round(h * 0.75)],
        "caption bar 25 % at the top": lambda a: a[:, round(h * 0.25) :],
        "top-right logo 25 %": lambda a: a[:, :, : round(w * 0.45)],
        "top-left logo 25 %": lambda a: a[:, :, w - round(w * 0.45) :],
    }
    rows_q: dict[str, list[np.ndarray]] = {}
    for name, fn in copies.items():
        q = fn(y)
        qh, qw = q.shape[1:]
        rows_q[name] = [
            pdq_hash(q)[0],
            pdq_hash(_box(q, _central_box((0, qh, 0, qw), qh, qw, QUERY_CROP)))[0],
        ]

    def recall(name: str, drop: str | None) -> float:
        best = np.full(n, 256)
        for k, ref in stored.items():
            if k != drop:
                for qrow in rows_q[name]:
                    best = np.minimum(best, hamming(qrow, ref))
        return float((best <= 31).mean())

    others = []
    for i in range(n_unrelated // 10):
        for f in synthetic_frames(10.0, width=640, height=360, fps=1, seed=5000 + i, scene_s=5.0):
            others.append(f.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))
    oh = pdq_hash(np.stack(others))[0]
    lines = [
        f"Frame-level, {n} frames of {n_clips} procedural 640x360 clips (seeds 900+, not used "
        "elsewhere); a copy's frame counts when its whole picture or its central 94 % is within "
        "31 bits of a stored row of its source frame. Near hits: unrelated frames (of "
        f"{len(oh)}) within 31 bits of any of the window's {n} stored rows.",
        "",
        "| stored row | rows per landscape frame | copies it serves: recall with / without it | near hits |",
        "|---|---|---|---|",
    ]
    for k, ref in stored.items():
        served = [c for c in copies if recall(c, None) - recall(c, k) > 0]
        cell = "; ".join(f"{c}: {recall(c, None):.2f} / {recall(c, k):.2f}" for c in served)
        near = int((hamming_matrix(oh, ref) <= 31).any(axis=1).sum())
        lines.append(f"| {k} | 1 | {cell or '–'} | {near} |")
    return "\n".join(lines)


def _box(a: np.ndarray, b: tuple[int, int, int, int]) -> np.ndarray:
    return a[:, b[0] : b[1], b[2] : b[3]]


def _central_box(
    pic: tuple[int, int, int, int], h: int, w: int, scale: float
) -> tuple[int, int, int, int]:
    dh, dw = round((pic[1] - pic[0]) * (1 - scale) / 2), round((pic[3] - pic[2]) * (1 - scale) / 2)
    return (pic[0] + dh, pic[1] - dh, pic[2] + dw, pic[3] - dw)


def frame_size(path: Path) -> tuple[int, int]:
    """Width and height of a video file's frames."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return int(s.codec_context.width), int(s.codec_context.height)


def index_duration(path: Path) -> float:
    """Duration of a video file in seconds."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        if s.duration is not None and s.time_base is not None:
            return float(s.duration * s.time_base)
        return float((c.duration or 0) / 1_000_000)


def _describe(matches: list) -> tuple[str, str, str]:
    if not matches:
        return ("no match", "–", "–")
    m = matches[0]
    flip = " (mirrored)" if m.mirrored else ""
    return (f"{m.video_id}{flip}", f"{m.score:.2f}", f"{m.offset_s:+.2f} s")


def machine() -> str:
    """The machine, in one line."""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        mem = "unknown RAM"
    return (
        f"{os.cpu_count()} cores, {mem}, {platform.machine()}, Python {platform.python_version()}"
    )


def write_section(key: str, title: str, command: str, body: str) -> None:
    """Replace the section ``key`` of ``bench/results/fingerprint.md`` (other sections are kept)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    text = RESULTS.read_text() if RESULTS.is_file() else "# Video fingerprints\n"
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    section = (
        f"<!-- {key} -->\n## {title}\n\nCommand: `{command}`  \nMachine: {machine()}; shared with "
        f"other jobs, so timings are noisy.  \nDate: {date}\n\n{body}\n<!-- /{key} -->\n"
    )
    pattern = re.compile(rf"<!-- {key} -->.*?<!-- /{key} -->\n", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text + "\n" + section
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter sources")
    parser.add_argument(
        "--sources", help="comma-separated substrings of source ids to query (others only indexed)"
    )
    parser.add_argument("--transforms", help="comma-separated substrings of transform names")
    parser.add_argument("--no-false-matches", action="store_true", help="skip the false-match part")
    parser.add_argument("--work", type=Path, help="folder kept between runs (generated sources)")
    parser.add_argument(
        "--procedural", type=int, help="procedural sources (default 4 with --quick, 20 without)"
    )
    parser.add_argument("--false-queries", type=int, help="unrelated queries and sources (≥ 1000)")
    parser.add_argument(
        "--label", help="write the table to its own section (e.g. 'before' a change)", default=""
    )
    parser.add_argument(
        "--windows", action="store_true", help="only the per-window table (frame level, ~1 min)"
    )
    args = parser.parse_args()
    if args.windows:
        table = window_table()
        write_section(
            "fingerprint_windows",
            "Reference windows: what each buys",
            "python -m bench.fingerprint_robustness --windows",
            table,
        )
        print(table)
        return

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    def split(v: str | None) -> list[str] | None:
        return [x.strip() for x in v.split(",") if x.strip()] if v else None

    subset = bool(args.sources or args.transforms or args.no_false_matches)
    t0 = time.perf_counter()
    body = run(
        args.quick,
        log,
        only_sources=split(args.sources),
        only_transforms=split(args.transforms),
        false_matches=not args.no_false_matches,
        work=args.work,
        n_false=args.false_queries,
        n_procedural=args.procedural,
    )
    body += f"\n\nWall time of the run: {time.perf_counter() - t0:.0f} s."
    if args.label or not subset:
        cmd = "python -m bench.fingerprint_robustness" + (" --quick" if args.quick else "")
        if args.procedural:
            cmd += f" --procedural {args.procedural}"
        if args.false_queries:
            cmd += f" --false-queries {args.false_queries}"
        for flag, value in (("--transforms", args.transforms), ("--sources", args.sources)):
            if value:
                cmd += f" {flag} '{value}'"
        if args.no_false_matches:
            cmd += " --no-false-matches"
        title = "Robustness (quick run)" if args.quick else "Robustness"
        key = "fingerprint_robustness"
        if args.label:
            cmd += f" --label '{args.label}'"
            title += f" — {args.label}"
            key += "_" + re.sub(r"[^a-z0-9]+", "_", args.label.lower())
        write_section(key, title, cmd, body)
    print(body)


if __name__ == "__main__":
    main()
