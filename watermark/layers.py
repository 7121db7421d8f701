"""The two layers, their per-layer results and how they combine into one :class:`Detection`.

* ``high``: 20.1–20.7 kHz spread spectrum (:mod:`watermark.embed`, :mod:`watermark.detect`);
  leaves everything below 19.5 kHz untouched, exists only at 44.1 kHz and above, dies in codecs
  that cut the band.
* ``robust``: level pattern in 1–5.5 kHz (:mod:`watermark.robust`); survives codecs,
  resampling to 16 kHz and speed changes, audible band, any rate from 16 kHz.

Both carry the same 64-bit payload under the same key. **Combination**: each layer reports its
own p-value ``p_i``; the combined p-value is ``min(1, m · min_i p_i)`` over the ``m`` layers that
ran (Bonferroni), so the combined false-detection probability stays below the threshold
whatever the dependence between the layers. The combined payload and segments are those of the
layer with the smallest p-value that read a payload.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from watermark.errors import WatermarkError

#: All layers, in the order they are reported.
LAYERS = ("high", "robust")
#: Default decision threshold on the p-value (false detections per file).
DEFAULT_THRESHOLD = 1e-6
HIGH_MIN_RATE = 44100
ROBUST_MIN_RATE = 16000
#: Detection of the robust layer also reads 8 kHz audio (telephony), from the part of the band
#: that is left (1–4 kHz).
ROBUST_MIN_DETECT_RATE = 8000
MAX_RATE = 384000


def high_applies(sample_rate: int) -> bool:
    """Whether the high band exists at this rate (>= 44.1 kHz, a multiple of 300 Hz)."""
    return HIGH_MIN_RATE <= sample_rate <= MAX_RATE and sample_rate % 300 == 0


def robust_applies(sample_rate: int, *, detecting: bool = False) -> bool:
    """Whether the robust layer supports this rate (16 kHz, or 8 kHz for detection, up to
    384 kHz; a multiple of 50 Hz)."""
    low = ROBUST_MIN_DETECT_RATE if detecting else ROBUST_MIN_RATE
    return low <= sample_rate <= MAX_RATE and sample_rate % 50 == 0


def resolve_layers(
    layers: Iterable[str] | str | None, sample_rate: int, *, detecting: bool = False
) -> tuple[str, ...]:
    """The layers to run: ``None`` means every layer that applies at ``sample_rate``.

    Naming a layer that does not apply raises :class:`WatermarkError` (the high band is refused
    below 44.1 kHz exactly as before); so does an unknown name or an empty selection.
    """
    if layers is None:
        chosen = tuple(
            name
            for name, ok in (
                ("high", high_applies(sample_rate)),
                ("robust", robust_applies(sample_rate, detecting=detecting)),
            )
            if ok
        )
        if not chosen:
            raise WatermarkError(
                f"unsupported sample rate {sample_rate} Hz (use 16000 to {MAX_RATE} Hz; the high "
                "band needs 44100 Hz or more)"
            )
        return chosen
    names = [layers] if isinstance(layers, str) else list(layers)
    bad = [n for n in names if n not in LAYERS]
    if bad or not names:
        raise WatermarkError(f"layers must be a non-empty subset of {', '.join(LAYERS)}")
    if "robust" in names and not robust_applies(sample_rate, detecting=detecting):
        raise WatermarkError(
            f"unsupported sample rate {sample_rate} Hz for the robust layer (16000 to {MAX_RATE} "
            "Hz, a multiple of 50 Hz)"
        )
    return tuple(n for n in LAYERS if n in names)


def parse_layers(text: str) -> tuple[str, ...]:
    """``"high,robust"`` -> ``("high", "robust")`` (the CLI's ``--layers``)."""
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    bad = [n for n in names if n not in LAYERS]
    if bad or not names:
        raise WatermarkError(f"--layers takes a comma-separated subset of {','.join(LAYERS)}")
    return names


@dataclass(frozen=True)
class LayerResult:
    """One layer's verdict: ``speed`` is the playback speed it found (1.0 = unchanged)."""

    layer: str
    found: bool
    payload: bytes | None
    p_value: float
    segments: list[tuple[float, float]] = field(default_factory=list)
    speed: float = 1.0

    def to_json(self) -> dict[str, object]:
        """JSON object of one layer."""
        return {
            "found": self.found,
            "payload": self.payload.hex() if self.payload is not None else None,
            "p_value": self.p_value,
            "segments": [[round(a, 3), round(b, 3)] for a, b in self.segments],
            "speed": round(self.speed, 5),
        }


@dataclass(frozen=True)
class Detection:
    """Result of :func:`watermark.detect`.

    ``found``, ``payload``, ``p_value`` and ``segments`` are the **combined** result (see the
    module docstring): ``found`` is ``p_value <= threshold``; ``payload`` the CRC-checked 8 bytes
    or None; ``p_value`` bounds the probability that unmarked audio (or audio marked with
    another key) gives a result at least this strong; ``segments`` are (start_s, end_s) ranges
    that carry the mark. ``layers`` holds each layer that ran, by name.
    """

    found: bool
    payload: bytes | None
    p_value: float
    segments: list[tuple[float, float]] = field(default_factory=list)
    layers: dict[str, LayerResult] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The JSON object of ``provkit watermark detect --json``."""
        return {
            "found": self.found,
            "payload": self.payload.hex() if self.payload is not None else None,
            "p_value": self.p_value,
            "segments": [[round(a, 3), round(b, 3)] for a, b in self.segments],
            "layers": {name: r.to_json() for name, r in self.layers.items()},
        }


def combine(results: list[LayerResult], threshold: float) -> Detection:
    """Fold per-layer results into one :class:`Detection` (Bonferroni over the layers)."""
    if not results:
        return Detection(False, None, 1.0, [], {})
    by_p = sorted(results, key=lambda r: r.p_value)
    p = min(1.0, len(results) * by_p[0].p_value)
    found = p <= threshold
    src = next((r for r in by_p if r.payload is not None), by_p[0]) if found else None
    return Detection(
        found,
        src.payload if src is not None else None,
        p,
        list(src.segments) if src is not None else [],
        {r.layer: r for r in results},
    )
