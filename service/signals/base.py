"""The signal interface: one small contract that every provenance signal fulfils.

A **signal** is one way of tying an upload to a generation record: the exact file hash, the audio
watermark, the video fingerprint, and next a codec-robust watermark layer, a C2PA manifest, an
AI-content label. :func:`service.pipeline.verify` runs them as a loop, cheapest first; the verdict
folds their claims without knowing which signal made them. A new signal is one new module in this
package (see :mod:`service.signals`)::

    @register
    class Loudness(Signal):
        name, cost = "loudness", 15
        reasons = {"too_loud": {"en": "louder than {lufs:.0f} LUFS", "zh": "响度超过 {lufs:.0f} LUFS"}}

        def skip_reason(self, upload, ctx):
            return None if upload.info.has_audio else "the file has no audio"

        def check(self, upload, ctx):
            ...
            return self.result("pass", claims=[Claim("weak", "too_loud", {"lufs": -5.0})])

Outcomes use the certificate checks' vocabulary: ``pass`` (checked, and it found evidence),
``fail`` (checked, and it found none), ``skip`` (not run: it does not apply, was not asked for,
or an earlier signal was already conclusive), ``error`` (could not check: the ``reason`` says
why), ``pending`` (reserved for signals that answer later).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from service.media import MediaInfo

if TYPE_CHECKING:
    from service.context import Services
    from service.verdict import Thresholds

Outcome = Literal["pass", "fail", "skip", "pending", "error"]
Strength = Literal["strong", "weak"]


@dataclass(frozen=True)
class Claim:
    """What a signal says about the upload's origin.

    ``strong`` claims name a generation record (``record_id``) and make the verdict
    ``generated``; ``weak`` ones (a faint mark, a match on a video that is not a generation) make
    it at most ``inconclusive``. ``code`` is a stable reason code and ``params`` the values its
    text needs (see the signal's ``reasons``).
    """

    strength: Strength
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    record_id: int | None = None

    def __post_init__(self) -> None:
        if self.strength == "strong" and self.record_id is None:
            raise ValueError(f"a strong claim ({self.code}) must name a generation record")


@dataclass(frozen=True)
class SignalResult:
    """One signal's answer: its outcome, claims and evidence (JSON-ready, the signal's own
    fields), and why it was skipped or failed to check."""

    name: str
    outcome: Outcome
    claims: tuple[Claim, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def view(self) -> dict[str, Any]:
        """The signal as the verdict document shows it: its evidence, outcome and reason."""
        return {**self.evidence, "outcome": self.outcome, "reason": self.reason}


@dataclass(frozen=True)
class Upload:
    """The file being verified, probed once."""

    path: Path
    sha256: str
    info: MediaInfo


@dataclass
class VerifyContext:
    """What a signal may read while it checks: the services, the options, the synchronous
    decode budget, and the results of the signals that ran before it."""

    svc: Services
    mode: str
    thresholds: Thresholds
    budget_s: float | None = None
    results: list[SignalResult] = field(default_factory=list)

    def claims(self) -> list[Claim]:
        """Every claim made so far, in signal order."""
        return [c for r in self.results for c in r.claims]

    def named_records(self) -> set[int]:
        """Generation records that earlier signals named with a strong claim."""
        return {c.record_id for c in self.claims() if c.strength == "strong" and c.record_id}


class Signal(ABC):
    """A provenance signal (see the module docstring).

    ``name`` keys its evidence in the verdict document; ``cost`` orders the loop (cheapest
    first: what ``fast`` mode needs); ``reasons`` maps each reason code it may claim to its text
    in English and Chinese (Python format fields, e.g. ``{p:.1e}``).
    """

    name: ClassVar[str]
    cost: ClassVar[int]
    reasons: ClassVar[dict[str, dict[str, str]]] = {}

    def skip_reason(self, upload: Upload, ctx: VerifyContext) -> str | None:
        """Why the signal does not apply to ``upload`` (None: it applies)."""
        return None

    @abstractmethod
    def check(self, upload: Upload, ctx: VerifyContext) -> SignalResult:
        """Check ``upload``. Raise :class:`~service.media.MediaError` for media that cannot be
        decoded at all (the whole verification fails with 422); say ``error`` for anything that
        only this signal cannot check."""

    def blank(self) -> dict[str, Any]:
        """The evidence fields of a signal that did not run (the same keys as a checked one)."""
        return {}

    def result(
        self,
        outcome: Outcome,
        *,
        claims: list[Claim] | tuple[Claim, ...] = (),
        evidence: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> SignalResult:
        """A result of this signal; evidence defaults to :meth:`blank`."""
        ev = self.blank() if evidence is None else evidence
        return SignalResult(self.name, outcome, tuple(claims), ev, reason)

    def skipped(self, reason: str) -> SignalResult:
        """The result of a signal that did not run, and why."""
        return self.result("skip", reason=reason)
