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

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from service.media import MediaInfo

if TYPE_CHECKING:
    from service.context import Services
    from service.generator import GeneratedMedia
    from service.requests import GenerateRequest
    from service.verdict import Thresholds

log = logging.getLogger("provkit.signals")

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


@dataclass
class GenerateJob:
    """One generation in flight, as the signals' generate-side hooks see it.

    The record (``record_id``, status ``pending``) and its ``mark_id`` exist before any hook
    runs. ``media`` is the generation core's output (the ``mark`` phase may replace its audio
    tracks); ``files`` are the ``(kind, path)`` pairs written in ``work`` (filled before the
    ``stamp`` phase; kind ``video`` or ``audio``). ``facts`` collects what each signal adds to
    the receipt, under its name. A hook that changes anything outside ``work`` registers how to
    take it back with :meth:`on_undo`; on any failure the pipeline runs those in reverse order.
    """

    svc: Services
    request: GenerateRequest
    record_id: int
    mark_id: int
    model: str
    created_at: datetime
    media: GeneratedMedia
    work: Path
    files: list[tuple[str, Path]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    _undo: list[tuple[str, Callable[[], object]]] = field(default_factory=list, repr=False)

    @property
    def mark_hex(self) -> str:
        """The mark id as 16 hex digits (the media folder's and the payload's name)."""
        return f"{self.mark_id:016x}"

    @property
    def payload(self) -> bytes:
        """The watermark payload: the mark id, 8 bytes big-endian."""
        return self.mark_id.to_bytes(8, "big")

    def on_undo(self, what: str, fn: Callable[[], object]) -> None:
        """Register ``fn`` to take back a change (``what`` names it in the log if it fails)."""
        self._undo.append((what, fn))

    def undo(self) -> None:
        """Take back every registered change, newest first; failures are logged, not raised."""
        while self._undo:
            what, fn = self._undo.pop()
            try:
                fn()
            except Exception:  # the record goes anyway; recovery sweeps what is left
                log.exception("could not undo %s of generation %s", what, self.mark_hex)


class Signal(ABC):
    """A provenance signal (see the module docstring).

    ``name`` keys its evidence in the verdict document; ``cost`` orders the loop (cheapest
    first: what ``fast`` mode needs); ``reasons`` maps each reason code it may claim to its text
    in English and Chinese (Python format fields, e.g. ``{p:.1e}``).

    On the generate side a signal puts in what its check will later look for, in three phases
    (each a no-op unless overridden; within a phase, signals run by ``generate_order``, lowest
    first): :meth:`mark` changes the media in memory before files are written (the watermark),
    :meth:`stamp` changes the written files (metadata labels, manifests), :meth:`enrol` records
    the final files where verify will look (index entries, hashes) and registers its undo.
    """

    name: ClassVar[str]
    cost: ClassVar[int]
    reasons: ClassVar[dict[str, dict[str, str]]] = {}
    generate_order: ClassVar[int] = 50

    def mark(self, job: GenerateJob) -> None:
        """Generate phase 1: change ``job.media`` in memory (files are not written yet)."""
        return None

    def stamp(self, job: GenerateJob) -> None:
        """Generate phase 2: change the files in ``job.files`` (all written, in ``job.work``)."""
        return None

    def enrol(self, job: GenerateJob) -> None:
        """Generate phase 3: the files are final; check them and record what verify needs,
        registering each change outside ``job.work`` with :meth:`GenerateJob.on_undo`."""
        return None

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
