"""Query-side regions: the rectangles of a query frame that may each show a registered video.

A re-post often shows the source inside a bigger picture: small in a corner of a reaction video
(picture-in-picture), beside or above another clip (split screen), in the middle of a flat or
blurred background (a landscape clip posted in a portrait frame). Whole-frame PDQ then hashes
the composite, which matches nothing. Every such composite has the same tell: **straight edges
that stay put while the picture on both sides moves**. So, per batch of sampled frames:

```
  frames (n, h, w) ──► |Δx|, |Δy| between neighbouring pixels (every 2nd pixel)
                   ──► persistent: above EDGE_LEVEL on ≥ PERSIST of the frames
                   ──► columns / rows whose persistent pixels span ≥ MIN_SPAN of the frame
                   ──► rectangles whose four sides are such lines (or the frame's border)
                       and whose sides are covered ≥ SIDE_COVER: the content regions,
                       best first by how often their sides' edges hold over the batch
```

Each region is hashed as its own query row (same time as its frame); the vote by (source,
offset) is unchanged, so a split screen of two registered videos finds both. Nothing is found
in a frame without such edges, and then the query costs what it did.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Box = tuple[int, int, int, int]

#: Luminance step (0–255) across an edge pixel.
EDGE_LEVEL = 6.0
#: Share of the batch's frames on which an edge pixel must be present.
PERSIST = 0.6
#: Shortest persistent line, as a share of the frame's height (columns) or width (rows).
MIN_SPAN = 0.2
#: Share of a rectangle's side that persistent edge pixels must cover.
SIDE_COVER = 0.6
#: Smallest and largest region, as shares of the frame's area.
MIN_AREA, MAX_AREA = 0.06, 0.9
#: A pixel is still when its luminance's standard deviation over the batch is below this; a
#: region may be at most MAX_STILL still (a logo's box is not a region).
MIN_MOTION, MAX_STILL = 2.0, 0.25
#: Most regions returned per batch (the best-supported first).
MAX_REGIONS = 4
#: Most candidate lines per axis (the rectangles tried grow with the fourth power of them).
MAX_LINES = 12


def _lines(persistent: npt.NDArray[np.bool_], span: float) -> list[int]:
    """Indices (along axis 1) of lines whose persistent pixels cover ``span`` of axis 0, peaks
    only (a thick edge counts once)."""
    cover = persistent.mean(axis=0)
    idx = np.nonzero(cover >= span)[0]
    out: list[int] = []
    for i in idx:
        if out and i - out[-1] <= 2:
            if cover[i] > cover[out[-1]]:
                out[-1] = int(i)
            continue
        out.append(int(i))
    if len(out) > MAX_LINES:  # a textured, hand-held clip: keep the best-covered lines
        out = sorted(sorted(out, key=lambda i: -cover[i])[:MAX_LINES])
    return out


def content_regions(luma: npt.NDArray[np.float32]) -> list[Box]:
    """Content rectangles ``(y0, y1, x0, x1)`` of a batch of frames ``(n, h, w)``, or ``[]``.

    Needs at least 4 frames (persistence means nothing on fewer). The whole frame is never
    returned; a region is at least :data:`MIN_AREA` and at most :data:`MAX_AREA` of it.
    """
    y = np.asarray(luma, dtype=np.float32)
    n, h, w = y.shape
    if n < 4 or h < 32 or w < 32:
        return []
    s = y[:, ::2, ::2]
    sh, sw = s.shape[1:]
    # an edge between columns x-1 and x (rows y-1 and y) that holds on most frames
    fx = (np.abs(np.diff(s, axis=2)) > EDGE_LEVEL).mean(axis=0)  # (sh, sw-1)
    fy = (np.abs(np.diff(s, axis=1)) > EDGE_LEVEL).mean(axis=0)  # (sh-1, sw)
    vx, vy = fx >= PERSIST, fy >= PERSIST
    # a region shows video: its pixels change (a static logo's box is not a region)
    still = s.std(axis=0) < MIN_MOTION
    cols = _lines(vx, MIN_SPAN)
    rows = _lines(vy.T, MIN_SPAN)
    if not cols and not rows:
        return []
    xs = sorted({0, sw, *(c + 1 for c in cols)})
    ys = sorted({0, sh, *(r + 1 for r in rows)})

    def vside(x: int, a: int, b: int) -> tuple[float, float]:
        if x in (0, sw):
            return 1.0, 1.0
        if b <= a:
            return 0.0, 0.0
        c = fx[a:b, max(0, x - 2) : x + 1].max(axis=1)
        return float((c >= PERSIST).mean()), float(c.mean())

    def hside(yy: int, a: int, b: int) -> tuple[float, float]:
        if yy in (0, sh):
            return 1.0, 1.0
        if b <= a:
            return 0.0, 0.0
        c = fy[max(0, yy - 2) : yy + 1, a:b].max(axis=0)
        return float((c >= PERSIST).mean()), float(c.mean())

    found: list[tuple[float, Box]] = []
    for i, x0 in enumerate(xs):
        for x1 in xs[i + 1 :]:
            for j, y0 in enumerate(ys):
                for y1 in ys[j + 1 :]:
                    area = (x1 - x0) * (y1 - y0) / (sw * sh)
                    if not MIN_AREA <= area <= MAX_AREA:
                        continue
                    sides = (
                        vside(x0, y0, y1),
                        vside(x1, y0, y1),
                        hside(y0, x0, x1),
                        hside(y1, x0, x1),
                    )
                    if min(cover for cover, _ in sides) < SIDE_COVER:
                        continue
                    inner = (x0 != 0) + (x1 != sw) + (y0 != 0) + (y1 != sh)
                    if inner == 0:
                        continue
                    if float(still[y0:y1, x0:x1].mean()) > MAX_STILL:
                        continue
                    box = (y0 * 2, min(h, y1 * 2), x0 * 2, min(w, x1 * 2))
                    # ranked by how steadily the sides hold: a content region's border holds
                    # on nearly every frame, a persistent texture edge inside it on fewer
                    found.append((float(np.mean([f for _, f in sides])) + 0.01 * inner, box))
    found.sort(key=lambda f: -f[0])
    return [box for _, box in found[:MAX_REGIONS]]
