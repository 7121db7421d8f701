"""Fold the claims of every signal into one verdict: generated / not_found / inconclusive.

Pure logic over plain data, so every rule is unit-tested without media. The verdict does not know
which signal made a claim (see :mod:`service.signals`):

* ``generated`` — at least one **strong** claim, which always names a generation record (a
  watermark decoded with p ≤ ``wm_strong`` whose payload is a registered ``mark_id``; a
  fingerprint match of ≥ ``fp_min_frames`` frames and score ≥ ``fp_strong`` on a generated
  video; the file's SHA-256 equal to a registered media hash). Strong claims naming different
  records (a compilation, or one generation's soundtrack over another's video) are still
  ``generated``: the verdict points at the best-supported record and says how many there are.
* ``inconclusive`` — only **weak** claims: a mark with a p-value between ``wm_strong`` and
  ``wm_weak``, a mark whose payload is in no record, a short fingerprint match, a match on a
  registered video that is not a generation.
* ``not_found`` — no claim at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.signals.base import Claim


@dataclass(frozen=True)
class Thresholds:
    """The signals' decision thresholds (false-positive budgets come from the watermark and
    fingerprint benches). Each signal reads its own."""

    wm_strong: float = 1e-6
    wm_weak: float = 1e-3
    fp_strong: float = 0.5
    fp_min_frames: int = 3


#: The verdict's own reason codes; each signal carries the texts of its own codes.
VERDICT_REASONS: dict[str, dict[str, str]] = {
    "several_generations": {
        "en": "evidence points at {count} generations",
        "zh": "证据指向 {count} 条生成记录",
    },
    "nothing": {
        "en": "no watermark, fingerprint or hash match",
        "zh": "没有水印、指纹或哈希匹配",
    },
}


@dataclass(frozen=True)
class Reason:
    """One reason for a verdict: a stable ``code`` and the values its text needs."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"code": ..., **params}``, JSON-ready."""
        return {"code": self.code, **self.params}


@dataclass(frozen=True)
class Verdict:
    """The verdict, the record it points to, and why (coded reasons)."""

    verdict: str
    record_id: int | None
    why: tuple[Reason, ...]


def decide(claims: Iterable[Claim]) -> Verdict:
    """Apply the rules in the module docstring to the signals' claims, in signal order."""
    strong: dict[int, list[Reason]] = {}
    weak: list[Reason] = []
    for c in claims:
        reason = Reason(c.code, dict(c.params))
        if c.strength == "strong" and c.record_id is not None:
            strong.setdefault(c.record_id, []).append(reason)
        else:
            weak.append(reason)
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
