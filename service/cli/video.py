"""``provkit video``: register, trace, remove and hash videos by their PDQ frame fingerprints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from provenance.fingerprint import (
    FingerprintError,
    FingerprintIndex,
    fingerprint_query,
    fingerprint_video,
)
from provenance.fingerprint.index import QUERY_SAMPLE_FPS
from provenance.fingerprint.video import VideoFingerprint
from service.cli.common import echo_json, fail, services

#: File name suffixes taken when adding a folder.
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mpg", ".mpeg", ".flv"}


def _index() -> FingerprintIndex:
    return services().fingerprints


def _fingerprint(path: Path, query: bool = False, **kwargs: Any) -> VideoFingerprint:
    try:
        if query:
            return fingerprint_query(path, **kwargs)
        return fingerprint_video(path, **kwargs)
    except FingerprintError as exc:
        msg = str(exc)
        fail(msg if path.name in msg else f"{path.name}: {msg}")


@click.group("video")
def video() -> None:
    """Video fingerprints: register videos and trace copies back to them."""


@video.command("add")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--id", "video_id", help="Id of the video (default: the file name without suffix).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def video_add(path: Path, video_id: str | None, as_json: bool) -> None:
    """Register the video at PATH (a folder: every video in it, ids from the file names)."""
    if path.is_dir():
        if video_id:
            fail("--id names one video; a folder's videos take their file names as ids")
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        if not files:
            fail(f"no video files in {path}")
        # fingerprint everything first, so that a bad file leaves the store untouched
        items = [
            (f.stem, _fingerprint(f))
            for f in tqdm(files, desc="fingerprinting", unit="video", disable=None)
        ]
    else:
        items = [(video_id or path.stem, _fingerprint(path))]
    index = _index()
    try:
        frames = index.add_many(items)
    except FingerprintError as exc:
        fail(str(exc))
    finally:
        index.close()
    if as_json:
        echo_json({"added": [v for v, _ in items], "frames": frames})
        return
    for v, fp in items:
        click.echo(f"added {v}: {len(fp)} frame hashes over {fp.duration:.1f} s")


@video.command("trace")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help='Print {"matches": [...]} as JSON.')
@click.option(
    "--fps",
    type=click.FloatRange(min=0.1, max=60),
    default=QUERY_SAMPLE_FPS,
    show_default=True,
    help="Frames per second sampled from the query.",
)
def video_trace(path: Path, as_json: bool, fps: float) -> None:
    """Find the registered videos (and time offsets) the video at PATH comes from."""
    fp = _fingerprint(path, query=True, sample_fps=fps)
    index = _index()
    try:
        matches = index.search(fp)
    finally:
        index.close()
    if as_json:
        echo_json({"matches": [m.to_dict() for m in matches]})
        return
    if not matches:
        click.echo("no match")
        return
    for m in matches:
        q0, q1 = m.query_range
        r0, r1 = m.ref_range
        flip = " (mirrored)" if m.mirrored else ""
        click.echo(
            f"{m.video_id}\tscore {m.score:.2f}\toffset {m.offset_s:+.2f} s\t"
            f"query {q0:.1f}-{q1:.1f} s\tsource {r0:.1f}-{r1:.1f} s\t"
            f"{m.matched_frames} frames{flip}"
        )


@video.command("remove")
@click.argument("video_id")
def video_remove(video_id: str) -> None:
    """Delete a registered video (from the store and from search)."""
    index = _index()
    try:
        n = index.remove(video_id)
    except FingerprintError as exc:
        fail(str(exc))
    finally:
        index.close()
    click.echo(f"removed {video_id} ({n} frame hashes)")


@video.command("hash")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--fps",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Frames per second sampled (0: every frame).",
)
@click.option(
    "--min-quality",
    type=click.IntRange(0, 100),
    default=50,
    show_default=True,
    help="Drop frames below this PDQ quality.",
)
@click.option("--keep-bars", is_flag=True, help="Hash letterbox/pillarbox bars too.")
def video_hash(path: Path, fps: float, min_quality: int, keep_bars: bool) -> None:
    """Print one `time,quality,pdq_hex` line per sampled frame of the video at PATH."""
    fp = _fingerprint(
        path, sample_fps=fps or 0.0, min_quality=min_quality, remove_bars=not keep_bars
    )
    for line in fp.lines():
        click.echo(line)
