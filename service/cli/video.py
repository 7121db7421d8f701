"""``provkit video``: register, trace, remove and hash videos by their PDQ frame fingerprints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from service.cli.common import echo_json, fail, negative, services

if TYPE_CHECKING:
    from provenance.fingerprint import FingerprintIndex
    from provenance.fingerprint.video import VideoFingerprint

# Each command imports the fingerprint stack when it runs, so that ``provkit video --help`` stays
# fast. The query sampling rate is ``provenance.fingerprint.index.QUERY_SAMPLE_FPS`` (a test holds
# the two equal).
QUERY_SAMPLE_FPS = 4.0

#: File name suffixes taken when adding a folder.
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mpg", ".mpeg", ".flv"}


def _index() -> FingerprintIndex:
    return services().fingerprints


def _fingerprint(path: Path, query: bool = False, **kwargs: Any) -> VideoFingerprint:
    from provenance.fingerprint import FingerprintError, fingerprint_query, fingerprint_video

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
    from tqdm import tqdm

    from provenance.fingerprint import FingerprintError

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
        click.echo(f"added {v}: {len(fp)} frames over {fp.duration:.1f} s")


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
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def video_remove(video_id: str, as_json: bool) -> None:
    """Delete a registered video (from the store and from search); exit 1 when there is none."""
    from provenance.fingerprint import FingerprintError

    index = _index()
    try:
        n = index.remove(video_id)
    except FingerprintError as exc:
        negative(str(exc))
    finally:
        index.close()
    if as_json:
        echo_json({"removed": video_id, "hashes": n})
        return
    # the store keeps several hashes per registered frame (the full frame, central crops and
    # re-cut windows: docs/fingerprint.md), so this is a multiple of the frames `video add` printed
    click.echo(f"removed {video_id} ({n} hashes: each frame's full picture, crops and windows)")


@video.command("reindex")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def video_reindex(as_json: bool) -> None:
    """Rebuild the fingerprint index (local file or Milvus collection) from the store."""
    from provenance.fingerprint import FingerprintError

    try:
        index = _index()
        n = index.reindex()
        videos = len(index.videos())
    except FingerprintError as exc:
        fail(str(exc))
    index.close()
    if as_json:
        echo_json({"videos": videos, "hashes": n, "engine": index.kind})
        return
    click.echo(f"reindexed {videos} videos ({n} frame hashes, {index.kind})")


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
@click.option("--json", "as_json", is_flag=True, help='Print {"frames": [...]} as JSON.')
@click.option(
    "--vpdq",
    is_flag=True,
    help="vPDQ-compatible hashes instead: every frame, bars kept, no quality cut, one "
    "`frame,quality,pdq_hex,seconds` line each (vPDQ's file format; other options ignored).",
)
def video_hash(
    path: Path, fps: float, min_quality: int, keep_bars: bool, as_json: bool, vpdq: bool
) -> None:
    """Print one `time,quality,pdq_hex` line per sampled frame of the video at PATH."""
    if vpdq:
        from provenance.fingerprint import FingerprintError
        from provenance.fingerprint.vpdq import vpdq_hash

        try:
            frames = vpdq_hash(path)
        except FingerprintError as exc:
            msg = str(exc)
            fail(msg if path.name in msg else f"{path.name}: {msg}")
        if as_json:
            echo_json(
                {
                    "frames": [
                        {
                            "frame": f.frame_number,
                            "time_s": f.timestamp,
                            "quality": f.quality,
                            "pdq": f.pdq_hex,
                        }
                        for f in frames
                    ]
                }
            )
            return
        for frame in frames:
            click.echo(frame.line())
        return
    fp = _fingerprint(
        path, sample_fps=fps or 0.0, min_quality=min_quality, remove_bars=not keep_bars
    )
    if as_json:
        rows = []
        for line in fp.lines():
            t, q, h = line.split(",")
            rows.append({"time_s": float(t), "quality": int(q), "pdq": h})
        echo_json({"frames": rows, "duration_s": fp.duration})
        return
    for line in fp.lines():
        click.echo(line)
