"""Temporal voting: turn per-frame hash hits into source videos with time offsets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class VideoMatch:
    """A registered video that part of the query came from.

    ``offset_s`` maps query time to source time (``t_ref = t_query + offset_s``); ``query_range``
    and ``ref_range`` are the matched spans in seconds; ``matched_frames`` counts the query frames
    that voted for this (video, offset); ``score`` is the share of the query's frames they are
    (0–1). ``mirrored`` is true when the query is a horizontally flipped copy.
    """

    video_id: str
    score: float
    offset_s: float
    query_range: tuple[float, float]
    ref_range: tuple[float, float]
    matched_frames: int
    mirrored: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "video_id": self.video_id,
            "score": round(self.score, 4),
            "offset_s": round(self.offset_s, 3),
            "query_range": [round(self.query_range[0], 3), round(self.query_range[1], 3)],
            "ref_range": [round(self.ref_range[0], 3), round(self.ref_range[1], 3)],
            "matched_frames": self.matched_frames,
            "mirrored": self.mirrored,
        }


@dataclass(frozen=True)
class Cluster:
    """One (video, offset) group of hits found by :func:`vote`."""

    video: int
    offset_s: float
    query_frames: npt.NDArray[np.int64]
    query_range: tuple[float, float]
    ref_range: tuple[float, float]
    mirrored: bool
    anchored: bool = True


def vote(
    query_index: npt.NDArray[np.int64],
    query_times: npt.NDArray[np.float64],
    video: npt.NDArray[np.int64],
    ref_times: npt.NDArray[np.float64],
    distance: npt.NDArray[np.int32],
    mirrored: npt.NDArray[np.bool_],
    *,
    min_frames: int = 3,
    anchor_distance: int = 255,
    bin_s: float = 1.0,
    max_results: int = 20,
) -> list[Cluster]:
    """Group hits by (video, time offset) and return the supported groups, best first.

    Each hit says "query frame ``query_index`` looks like frame ``ref_times`` of ``video``". Hits
    vote for the offset ``ref_time - query_time`` in bins of ``bin_s`` seconds; a bin's support is
    the number of distinct query frames with a hit in it or its two neighbours. The best bin of all
    becomes a cluster when it has at least ``min_frames`` frames; ``anchored`` tells whether one
    of its hits is within ``anchor_distance`` bits (the caller decides what an unanchored cluster
    needs). Its query frames are then withdrawn from that video and the next best bin is taken,
    so a compilation of several sources (or of several parts of one source) gives several
    clusters. The offset is the median offset of the closest hits of the cluster.

    Query rows with the same time are one frame (a query's central crop and content regions
    are rows of their frame): support counts frames, and a cluster's ``query_frames`` holds
    one row per frame, its closest hit's.
    """
    qi = np.asarray(query_index, dtype=np.int64)
    vid = np.asarray(video, dtype=np.int64)
    tr = np.asarray(ref_times, dtype=np.float64)
    dist = np.asarray(distance, dtype=np.int64)
    mir = np.asarray(mirrored, dtype=bool)
    times = np.asarray(query_times, dtype=np.float64)
    tq = times[qi]
    # the frame of each hit: rows of one frame share its time
    frame_of_row = np.unique(times, return_inverse=True)[1].reshape(-1)
    fq = frame_of_row[qi] if len(qi) else qi
    off = tr - tq
    b = np.round(off / bin_s).astype(np.int64)
    out: list[Cluster] = []
    if not len(qi):
        return out
    # one int64 key per (video, bin, query frame): cheap to make unique
    b0 = int(b.min()) - 1
    nb = int(b.max()) - b0 + 2
    nq = int(fq.max()) + 1
    alive = np.ones(len(qi), dtype=bool)
    while alive.any() and len(out) < max_results:
        a = np.nonzero(alive)[0]
        sb = (b[a][:, None] + np.array([-1, 0, 1])[None, :]).ravel() - b0
        keys = (np.repeat(vid[a], 3) * nb + sb) * nq + np.repeat(fq[a], 3)
        bins, counts = np.unique(np.unique(keys) // nq, return_counts=True)
        best = int(np.argmax(counts))
        if counts[best] < min_frames:
            break
        v, center = int(bins[best] // nb), int(bins[best] % nb) + b0
        members = a[(vid[a] == v) & (np.abs(b[a] - center) <= 1)]
        anchored = int(dist[members].min()) <= anchor_distance
        # per query frame its closest hit (ties: nearest to the bin centre)
        key = np.lexsort((np.abs(off[members] - center * bin_s), dist[members], fq[members]))
        ordered = members[key]
        first = np.ones(len(ordered), dtype=bool)
        first[1:] = fq[ordered][1:] != fq[ordered][:-1]
        chosen = ordered[first]
        # the offset comes from the closest half of the frames (the best-aligned ones)
        close = chosen[dist[chosen] <= np.median(dist[chosen])]
        frames = qi[chosen]
        out.append(
            Cluster(
                video=v,
                offset_s=float(np.median(off[close])),
                query_frames=frames,
                query_range=(float(tq[chosen].min()), float(tq[chosen].max())),
                ref_range=(float(tr[chosen].min()), float(tr[chosen].max())),
                mirrored=bool(mir[chosen].mean() > 0.5),
                anchored=anchored,
            )
        )
        alive &= ~((vid == v) & np.isin(fq, fq[chosen]))
    return out
