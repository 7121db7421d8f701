"""Reference-side windows: extra hashes of each registered frame for reframed copies.

PDQ hashes a whole picture, so a copy that shows only part of it (a 16:9 clip re-cut to 9:16
for a short-video app, a few per cent cropped off every border) hashes to something unrelated.
Measured on procedural 640x360 frames, the hash of a central crop moves by about 50 bits when
its scale is 5 % off and the hash of a 9:16 window by over 100 bits when it slides by 5 % of
the frame's width: a window matches a re-cut only when it covers nearly the same pixels. So
registration (1 frame/s, cheap in time) also hashes the windows that platforms and re-posters
actually cut, and stores each as one more row of the frame:

```
    landscape picture (bars removed)            portrait picture
    ┌───────────────────────────────────┐       ┌──────────┐
    │  c90 ⊃ c80 ⊃ c70 ⊃ c60: centred   │       │          │
    │  crops of the frame               │       ├──────────┤ a16x9: centred,
    │        ┌────┬─────┬────┐          │       │          │ full width
    │        │ -l │a9x16│ -r │ (also    │       ├──────────┤
    │        │    │a1x1 │    │  a1x1,   │       │          │
    │        └────┴─────┴────┘  a4x5)   │       └──────────┘
    └───────────────────────────────────┘
    a9x16 / a1x1 / a4x5: full height, centred; a9x16-l / -r: 9:16 moved 15 % of the width
    t75 / b75: the top / bottom 75 % of the picture, full width (what a caption bar over the
    bottom / the top leaves)
    l45 / r45: the left / right 45 % of the picture, full height (what a logo over a corner
    quarter of the frame leaves, placed up to 5 % of the width past the middle)
```

Central crops are taken of the *frame* (what a copy cropped at its borders keeps); a query that
is itself a crop in between two of these scales is met half way by the query's own central
crop (:data:`QUERY_CROP`, see :mod:`provenance.fingerprint.regions`). The windows that do not
apply to a picture (a 9:16 window of a portrait frame) are not stored.
"""

from __future__ import annotations

from dataclasses import dataclass

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Window:
    """A region of a registered picture hashed as one more row of its frame.

    ``scale`` (central crops): the share of the frame's width and height kept, centred.
    ``aspect`` (re-cuts): width / height of a window that spans the picture's full height
    (or full width, when the window is wider than the picture), moved by ``shift`` × the
    picture's width from the centre; its other side is measured on the *frame* (a re-cut is
    cut from the frame as posted, bars included). ``part`` (what a large overlay leaves):
    ``(y0, y1, x0, x1)`` as shares of the picture's height and width.
    """

    name: str
    scale: float | None = None
    aspect: float | None = None
    shift: float = 0.0
    part: tuple[float, float, float, float] | None = None


#: The windows registration stores, in row order (variant ``2 + i`` in the store). The
#: central 80 % is the older ``crop`` hash (variant 1) and is not repeated here.
WINDOWS: tuple[Window, ...] = (
    Window("c90", scale=0.9),
    Window("c70", scale=0.7),
    Window("c60", scale=0.6),
    Window("a9x16", aspect=9 / 16),
    Window("a1x1", aspect=1.0),
    Window("a4x5", aspect=4 / 5),
    Window("a9x16-l", aspect=9 / 16, shift=-0.15),
    Window("a9x16-r", aspect=9 / 16, shift=0.15),
    Window("a16x9", aspect=16 / 9),
    Window("t75", part=(0.0, 0.75, 0.0, 1.0)),
    Window("l45", part=(0.0, 1.0, 0.0, 0.45)),
    Window("r45", part=(0.0, 1.0, 0.55, 1.0)),
    Window("b75", part=(0.25, 1.0, 0.0, 1.0)),
)
#: Scale of the central crop a query also hashes (meets the reference crops half way).
QUERY_CROP = 0.94


def window_box(window: Window, h: int, w: int, pic: Box) -> Box | None:
    """The ``(y0, y1, x0, x1)`` box of ``window`` in an ``h``×``w`` frame whose picture (bars
    removed) is ``pic``, or ``None`` when the window does not apply (it would be the whole
    picture, or almost).
    """
    y0, y1, x0, x1 = pic
    ph, pw = y1 - y0, x1 - x0
    if window.scale is not None:
        dh, dw = round(h * (1 - window.scale) / 2), round(w * (1 - window.scale) / 2)
        box = (max(y0, dh), min(y1, h - dh), max(x0, dw), min(x1, w - dw))
    elif window.aspect is not None:
        # the re-cut is of the frame as posted: its size comes from the frame's side
        ww, hh = round(h * window.aspect), round(w / window.aspect)
        if pw > min(ww, ph * window.aspect) * 1.1:  # a narrower window: full height
            ww = min(ww, pw)
            left = x0 + round((pw - ww) / 2 + window.shift * pw)
            if left < x0 or left + ww > x1:
                return None
            box = (y0, y1, left, left + ww)
        elif ph > min(hh, pw / window.aspect) * 1.1 and window.shift == 0.0:  # wider: full width
            hh = min(hh, ph)
            top = y0 + round((ph - hh) / 2)
            box = (top, top + hh, x0, x1)
        else:
            return None
    elif window.part is not None:
        fy0, fy1, fx0, fx1 = window.part
        box = (
            y0 + round(ph * fy0),
            y0 + round(ph * fy1),
            x0 + round(pw * fx0),
            x0 + round(pw * fx1),
        )
    else:
        return None
    by0, by1, bx0, bx1 = box
    if by1 - by0 < 8 or bx1 - bx0 < 8:
        return None
    if (by1 - by0) * (bx1 - bx0) > 0.97 * ph * pw:
        return None
    return box
