"""The embedder's speed work must not change what it writes.

``data/robust_speed_pin.npz`` holds, for three seeded 5 s clips (48 kHz stereo and 44.1 kHz
mono with both layers, 16 kHz mono with the robust layer), the mark (marked minus host, first
channel) at 4,000 seeded sample positions, its RMS, and the log10 p-value of each layer, all as
the embedder wrote them before it synthesized the robust mark at the output rate. The mark must
stay within 1e-4 of full scale of that, and detection must read the same payload with about the
same strength.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from watermark import WatermarkKey, detect, embed
from watermark.robust import embed as robust_embed
from watermark.robust.spectrum import from_internal, istft, to_internal

MusicFn = Callable[..., np.ndarray]

PIN = Path(__file__).parent / "data" / "robust_speed_pin.npz"


@pytest.mark.parametrize(
    ("name", "sr", "channels"), [("s48", 48000, 2), ("s441", 44100, 1), ("s16", 16000, 1)]
)
def test_marked_output_is_pinned(
    name: str, sr: int, channels: int, make_music: MusicFn, key: WatermarkKey, payload: bytes
) -> None:
    ref = np.load(PIN)
    x = make_music(sr, 5.0, channels=channels, seed=14).astype(np.float32)
    if channels == 1:
        x = x[:, 0]
    marked = embed(x, sr, payload, key)
    d = (marked.astype(np.float64) - x).reshape(x.shape[0], -1)[:, 0]
    assert np.abs(d[ref[f"{name}_idx"]] - ref[f"{name}_val"]).max() < 1e-4
    assert abs(np.sqrt(np.mean(d**2)) - float(ref[f"{name}_rms"])) < 1e-6
    det = detect(marked, sr, key)
    assert det.found and det.payload == payload
    logp = [np.log10(r.p_value) for r in det.layers.values()]
    assert np.allclose(logp, ref[f"{name}_logp"], atol=1.0)


@pytest.mark.parametrize(("sr", "n"), [(48000, 48000 * 3 + 7), (32000, 32000 * 3), (96000, 96001)])
def test_native_synthesis_matches_resampled(sr: int, n: int, make_music: MusicFn) -> None:
    """The mark synthesized at the output rate equals the 16 kHz synthesis resampled, to within
    1e-4 of full scale everywhere, ends included."""
    key = WatermarkKey(bytes(range(32)))
    x = make_music(sr, n / sr, channels=1, seed=3)[:n, 0].astype(np.float32)
    y = to_internal(x, sr)
    full, band, lam = robust_embed._mark_spectrum(y, key, bytes(8), 0, -20.0)
    old = from_internal(istft(robust_embed._fill(full.copy(), band, lam), y.size), sr, n)
    new = robust_embed._synth_native(full, band, lam, y.size, sr, n)
    assert new.shape == (n,) and new.dtype == np.float32
    assert np.abs(new - old).max() < 1e-4
    assert np.abs(new - old).max() < 2e-3 * np.abs(old).max()
