"""Combine the evidence of every signal into one verdict: generated / not_found / inconclusive.

Pure logic over plain data, so every rule is unit-tested without media:

* ``generated`` — a strong signal points at a known generation record: a watermark decoded with a
  p-value at or below ``wm_strong`` whose payload is a registered ``mark_id``; or a fingerprint
  match with at least ``fp_min_frames`` matched frames and score ≥ ``fp_strong`` on a registered
  video; or the file's SHA-256 equals a registered media hash. Strong signals naming different
  records (a compilation, or one generation's soundtrack over another's video) are still
  ``generated``: the verdict points at the best-supported record and says how many there are.
* ``inconclusive`` — only weak or dangling evidence: a mark with a p-value between ``wm_strong``
  and ``wm_weak``, a mark whose payload is in no record, or a short fingerprint match.
* ``not_found`` — no signal fired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds (false-positive budgets come from the watermark/fingerprint benches)."""

    wm_strong: float = 1e-6
    wm_weak: float = 1e-3
    fp_strong: float = 0.5
    fp_min_frames: int = 3


@dataclass
class Evidence:
    """What each signal found, with the generation record ids it maps to (None: no record)."""

    wm_found: bool = False
    wm_p_value: float = 1.0
    wm_record: int | None = None
    fp_matches: list[dict[str, Any]] = field(default_factory=list)  # VideoMatch dicts + "record"
    hash_records: list[int] = field(default_factory=list)


#: English text of each reason code (the web page carries its own translations of the same codes).
REASON_TEXT: dict[str, str] = {
    "hash": "exact media hash of a registered file",
    "watermark": "watermark decoded (p={p:.1e}) and points to a registered generation",
    "watermark_unregistered": "watermark decoded but its payload matches no registered generation",
    "watermark_weak": "weak watermark evidence (p={p:.1e})",
    "fingerprint": "video fingerprint matches {video_id} at offset {offset_s:.1f} s ({frames} frames)",
    "fingerprint_not_generation": "video fingerprint matches {video_id}, not a generation",
    "fingerprint_short": "short fingerprint match with {video_id} ({frames} frames)",
    "several_generations": "evidence points at {count} generations",
    "nothing": "no watermark, fingerprint or hash match",
}


@dataclass(frozen=True)
class Reason:
    """One reason for a verdict: a stable ``code`` and the values its text needs."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The reason in English."""
        return REASON_TEXT[self.code].format(**self.params)

    def to_dict(self) -> dict[str, Any]:
        """``{"code": ..., **params}``, JSON-ready."""
        return {"code": self.code, **self.params}


@dataclass(frozen=True)
class Verdict:
    """The verdict, the record it points to, and why (coded, see :data:`REASON_TEXT`)."""

    verdict: str
    record_id: int | None
    why: tuple[Reason, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons in English."""
        return tuple(r.text for r in self.why)


def decide(ev: Evidence, th: Thresholds = Thresholds()) -> Verdict:
    """Apply the rules in the module docstring."""
    strong: dict[int, list[Reason]] = {}
    weak: list[Reason] = []
    for rid in ev.hash_records:
        strong.setdefault(rid, []).append(Reason("hash"))
    if ev.wm_found and ev.wm_p_value <= th.wm_strong:
        if ev.wm_record is not None:
            strong.setdefault(ev.wm_record, []).append(Reason("watermark", {"p": ev.wm_p_value}))
        else:
            weak.append(Reason("watermark_unregistered"))
    elif ev.wm_found or ev.wm_p_value <= th.wm_weak:
        weak.append(Reason("watermark_weak", {"p": ev.wm_p_value}))
    for m in ev.fp_matches:
        fp_rid = m.get("record")
        frames = int(m.get("matched_frames", 0))
        score = float(m.get("score", 0.0))
        video_id = str(m.get("video_id"))
        if frames >= th.fp_min_frames and score >= th.fp_strong:
            if fp_rid is not None:
                offset = float(m.get("offset_s", 0.0))
                strong.setdefault(int(fp_rid), []).append(
                    Reason(
                        "fingerprint",
                        {"video_id": video_id, "offset_s": offset, "frames": frames},
                    )
                )
            else:
                weak.append(Reason("fingerprint_not_generation", {"video_id": video_id}))
        else:
            weak.append(Reason("fingerprint_short", {"video_id": video_id, "frames": frames}))
    if len(strong) == 1:
        only, why = next(iter(strong.items()))
        return Verdict("generated", only, tuple(why))
    if len(strong) > 1:
        # a compilation of several generations is still generated; point at the best-supported
        best = max(strong, key=lambda r: len(strong[r]))
        all_why = tuple(w for ws in strong.values() for w in ws)
        return Verdict(
            "generated", best, (*all_why, Reason("several_generations", {"count": len(strong)}))
        )
    if weak:
        return Verdict("inconclusive", None, tuple(weak))
    return Verdict("not_found", None, (Reason("nothing"),))
