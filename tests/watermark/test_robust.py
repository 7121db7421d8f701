"""The robust layer (1–5.5 kHz) and the two-layer API: rates, layers, speed, codecs, p-values."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from watermark import LayerResult, WatermarkError, WatermarkKey, detect, detect_file, embed
from watermark.frame import coded_bits
from watermark.layers import combine, resolve_layers
from watermark.robust import detect_robust, features, spectrum
from watermark.robust import embed as robust_embed
from watermark.robust.detect import search, soft_bits
from watermark.robust.features import band_features, pool_matrix, pool_taps
from watermark.robust.grid import (
    BANDS,
    BIN_HI,
    BIN_LO,
    CELLS,
    GROUPS,
    HOP,
    PHASES,
    SYNC_CELLS,
    cell_signs,
    robust_layout,
)
from watermark.robust.spectrum import MAG_SCALE, Analyzer, stft, to_internal

PAYLOAD = bytes.fromhex("0123456789abcdef")
ROBUST = ("robust",)
Music = Callable[..., np.ndarray]


@pytest.fixture(scope="module")
def marked10(key: WatermarkKey, make_music: Music) -> tuple[np.ndarray, np.ndarray]:
    """10 s of 48 kHz stereo music and the same with both layers."""
    x = make_music(48000, 10.0, seed=31).astype(np.float32)
    return x, embed(x, 48000, PAYLOAD, key)


@pytest.mark.parametrize("sr", [16000, 22050, 24000, 32000, 44100, 48000])
def test_rates(sr: int, key: WatermarkKey, make_music: Music) -> None:
    x = make_music(sr, 8.0, channels=1, seed=sr)[:, 0].astype(np.float32)
    det = detect(embed(x, sr, PAYLOAD, key), sr, key)
    assert det.found and det.payload == PAYLOAD
    assert det.layers["robust"].found and det.layers["robust"].payload == PAYLOAD
    assert ("high" in det.layers) == (sr >= 44100)


def test_both_layers_and_combination(
    marked10: tuple[np.ndarray, np.ndarray], key: WatermarkKey, other_key: WatermarkKey
) -> None:
    x, m = marked10
    det = detect(m, 48000, key)
    hi, rb = det.layers["high"], det.layers["robust"]
    assert hi.payload == rb.payload == det.payload == PAYLOAD
    assert det.p_value == pytest.approx(2 * min(hi.p_value, rb.p_value))
    assert rb.speed == 1.0 and rb.segments and rb.segments[0][0] == 0.0
    assert np.abs(m).max() <= 1.0
    for d in (detect(m, 48000, other_key), detect(x, 48000, key)):
        assert not d.found and d.payload is None and d.p_value > 1e-3
        assert all(not r.found for r in d.layers.values())


def test_robust_mark_stays_in_its_band(key: WatermarkKey, make_music: Music) -> None:
    x = make_music(48000, 4.0, seed=32)
    d = (embed(x, 48000, PAYLOAD, key, layers=ROBUST) - x)[:, 0]
    f, p = signal.welch(d, fs=48000, nperseg=4096)
    assert p[f > 7000].sum() < 1e-4 * p.sum()  # robust mark: 1-5.5 kHz (plus window leakage)
    assert p[(f > 900) & (f < 5800)].sum() > 0.98 * p.sum()


def test_robust_strength_knob_and_snr(key: WatermarkKey, make_music: Music) -> None:
    x = make_music(48000, 6.0, channels=1, seed=33)[:, 0]

    def snr(db: float) -> float:
        d = embed(x, 48000, PAYLOAD, key, layers=ROBUST, robust_strength_db=db) - x
        return float(10 * np.log10(np.sum(x**2) / np.sum(d**2)))

    assert snr(-30) - snr(-20) == pytest.approx(10, abs=1.5)
    assert snr(-20) > 20
    with pytest.raises(WatermarkError, match="robust_strength_db"):
        embed(x, 48000, PAYLOAD, key, robust_strength_db=-5)


@pytest.mark.parametrize("speed", [0.98, 1.02])
def test_speed_search(speed: float, key: WatermarkKey, make_music: Music) -> None:
    x = make_music(48000, 12.0, channels=1, seed=34)[:, 0].astype(np.float32)
    m = embed(x, 48000, PAYLOAD, key, layers=ROBUST, robust_strength_db=-14)
    up, down = (50, 51) if speed > 1 else (50, 49)  # fewer samples = faster playback
    fast = signal.resample_poly(m, up, down).astype(np.float32)
    det = detect(fast, 48000, key, layers=ROBUST)
    assert det.payload == PAYLOAD
    assert det.layers["robust"].speed == pytest.approx(down / up, abs=0.003)
    assert not detect(fast, 48000, key, layers=ROBUST, max_speed_dev=0.0).found


def test_crop_and_offset(marked10: tuple[np.ndarray, np.ndarray], key: WatermarkKey) -> None:
    _, m = marked10
    part = m[12345 : 12345 + 7 * 48000]
    det = detect(part, 48000, key, layers=ROBUST)
    assert det.found and det.payload == PAYLOAD


@pytest.mark.parametrize("cut", [192, 384])
def test_offset_by_part_of_a_hop(
    cut: int, marked10: tuple[np.ndarray, np.ndarray], key: WatermarkKey
) -> None:
    """A copy that starts a quarter or half of the layer's 16 ms hop late (a crop, a codec's
    priming samples) is read on the mark's own grid, not on the detector's frame grid."""
    _, m = marked10
    det = detect(m[48000 + cut :], 48000, key, layers=ROBUST, max_speed_dev=0.0)
    assert det.found and det.payload == PAYLOAD


def test_layer_selection_errors() -> None:
    assert resolve_layers(None, 16000) == ("robust",)
    assert resolve_layers(None, 48000) == ("high", "robust")
    assert resolve_layers(["robust", "high"], 48000) == ("high", "robust")
    assert resolve_layers(None, 8000, detecting=True) == ("robust",)
    for bad, sr in ((["x"], 48000), ([], 48000), (None, 8000), (["robust"], 12000)):
        with pytest.raises(WatermarkError):
            resolve_layers(bad, sr)


def test_combine_rule() -> None:
    a = LayerResult("high", False, None, 0.3)
    b = LayerResult("robust", True, PAYLOAD, 1e-9, [(0.0, 1.0)], 1.01)
    d = combine([a, b], 1e-6)
    assert d.found and d.payload == PAYLOAD and d.p_value == pytest.approx(2e-9)
    assert d.segments == [(0.0, 1.0)] and d.layers["robust"].speed == 1.01
    assert not combine([LayerResult("high", True, None, 8e-7), a], 1e-6).found
    j = d.to_json()["layers"]
    assert isinstance(j, dict) and j["robust"]["speed"] == 1.01


def test_layout_is_keyed(key: WatermarkKey, other_key: WatermarkKey) -> None:
    lay = robust_layout(key)
    assert lay.sync.sum() == SYNC_CELLS and lay.chips.size == CELLS
    assert not np.array_equal(lay.chips, robust_layout(other_key).chips)
    s1, s2 = cell_signs(key, PAYLOAD), cell_signs(key, bytes(8))
    assert np.array_equal(s1.ravel()[lay.sync], s2.ravel()[lay.sync])
    assert not np.array_equal(s1, s2)


def test_informed_groups(key: WatermarkKey) -> None:
    """Every coded bit is its own group; the sync cells form groups of the same size."""
    lay = robust_layout(key)
    data = ~lay.sync
    assert np.array_equal(lay.group[data], lay.data_bit[data])
    sizes = np.bincount(lay.group)
    assert sizes.size == GROUPS and sizes.min() == sizes.max() == 16
    hops = np.arange(600, 700)
    g = robust_embed._groups(hops, key)
    assert g.shape == (hops.size, BANDS)
    assert (g[hops < robust_embed.ISS_HOPS] < GROUPS).all()
    assert (g[hops >= robust_embed.ISS_HOPS] >= GROUPS).all()  # the next aligned 10 s span


def test_informed_embedding_fixes_wrong_bits(
    key: WatermarkKey, make_music: Music, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Measuring and correcting the mark leaves (almost) no coded bit with the wrong sign on
    the unattacked copy; without it the host flips a good share of them (6 dB below the default
    strength, where the plain mark alone leaves a few per cent wrong)."""
    x = make_music(16000, 10.0, channels=1, seed=36)[:, 0].astype(np.float32)
    sign = 1.0 - 2.0 * coded_bits(PAYLOAD)

    def wrong(rounds: int) -> float:
        monkeypatch.setattr(robust_embed, "ISS_ROUNDS", rounds)
        m = embed(x, 16000, PAYLOAD, key, layers=ROBUST, robust_strength_db=-26)
        a = Analyzer(16000)
        a.feed(m)
        spec = a.finish()
        cand = search(spec, key, 0.0)[0][0]
        return float(np.mean(soft_bits(spec, key, cand) * sign < 0))

    rounds = robust_embed.ISS_ROUNDS
    plain, informed = wrong(0), wrong(rounds)
    assert plain > 0.02
    assert informed < plain / 2


def test_pool_matrix_speed_one_is_identity_on_bands() -> None:
    w = pool_matrix(1.0)
    assert w.shape[1] == BANDS
    np.testing.assert_allclose(w.sum(axis=0), 1.0, atol=1e-6)
    np.testing.assert_allclose(pool_matrix(1.03).sum(axis=0), 1.03, atol=1e-5)


@pytest.mark.parametrize("speed", [0.94, 0.97, 1.0, 1.0123, 1.06])
def test_pool_taps_equal_the_pool_matrix(speed: float) -> None:
    mag = np.random.default_rng(5).random((50, BIN_HI - BIN_LO)).astype(np.float32)
    first, taps = pool_taps(speed)
    got = sum(mag[:, first + k] * taps[k] for k in range(taps.shape[0]))
    np.testing.assert_allclose(got, mag @ pool_matrix(speed), rtol=1e-5)


def test_relative_floor_mutes_deep_valleys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell's level change in a bin 30 dB below its neighbours (a valley between harmonics,
    which a 64 kbit/s codec turns into noise or nothing) hardly moves the feature; the same
    change in a bin at its neighbours' level moves it almost as much as without the floor."""
    mag = np.full((40, BIN_HI - BIN_LO), 100.0, dtype=np.float32)
    band = 60
    col = int(pool_taps(1.0)[0][band])  # the band's single bin at speed 1
    rel = features.REL_FLOOR

    def feature(level: float, floor: float) -> float:
        monkeypatch.setattr(features, "REL_FLOOR", floor)
        m = mag.copy()
        m[:, col] *= level
        m[18:22, col] *= np.sqrt(2)  # one 4-hop cell 3 dB up
        return float(band_features(m, 1.0, exact=True)[20, band])

    quiet = 10 ** (-30 / 20)
    assert feature(quiet, 0.0) > 0.2
    assert feature(quiet, rel) < 0.1 * feature(quiet, 0.0)
    assert feature(1.0, rel) > 0.8 * feature(1.0, 0.0)


@settings(max_examples=8, deadline=None)
@given(cuts=st.lists(st.integers(1, 200_000), min_size=1, max_size=5))
def test_analyzer_independent_of_chunking(cuts: list[int]) -> None:
    x = np.random.default_rng(len(cuts)).standard_normal(700_000).astype(np.float32) * 0.1
    ref = Analyzer(44100)
    ref.feed(x)
    want = ref.finish().astype(np.float32)
    a = Analyzer(44100)
    edges = sorted({0, *[c for c in cuts if c < x.size], x.size})
    for lo, hi in itertools.pairwise(edges):
        a.feed(x[lo:hi])
    got = a.finish().astype(np.float32)
    y = to_internal(x, 44100)
    assert got.shape == want.shape == (-(-y.size // (HOP // PHASES)) + 1, want.shape[1])
    np.testing.assert_allclose(got, want, rtol=2e-3, atol=1e-3 * want.max())
    # every PHASES-th frame is a frame of the embedder's grid
    grid = np.abs(stft(y)[:, BIN_LO:BIN_HI]) * MAG_SCALE
    k = min(grid.shape[0], got[::PHASES].shape[0])
    assert k >= grid.shape[0] - 1
    np.testing.assert_allclose(got[::PHASES][:k], grid[:k], rtol=2e-3, atol=1e-3 * want.max())


@pytest.mark.parametrize("block", [4410, 44100])
def test_analyzer_long_input_goes_to_one_phase(
    block: int, monkeypatch: pytest.MonkeyPatch, key: WatermarkKey, make_music: Music
) -> None:
    """Past LONG_S the spectrogram keeps the embedder's hop grid only (bounded memory), and the
    mark is still read from it."""
    monkeypatch.setattr(spectrum, "LONG_S", 3.0)
    x = make_music(44100, 9.0, channels=1, seed=35)[:, 0].astype(np.float32)
    m = embed(x, 44100, PAYLOAD, key, layers=ROBUST)
    a = Analyzer(44100)
    for lo in range(0, m.size, block):
        a.feed(m[lo : lo + block])
    got = a.finish().astype(np.float32)
    assert a.phases == 1
    y = to_internal(m, 44100)
    grid = np.abs(stft(y)[:, BIN_LO:BIN_HI]) * MAG_SCALE
    assert got.shape == grid.shape
    np.testing.assert_allclose(got, grid, rtol=2e-3, atol=1e-3 * grid.max())
    res = detect_robust(got, 9.0, key, 1e-6, 0.0, a.phases)
    assert res.found and res.payload == PAYLOAD


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), kind=st.sampled_from(["noise", "music", "tones", "other key"]))
def test_property_unmarked_not_found(
    seed: int, kind: str, key: WatermarkKey, make_music: Music
) -> None:
    rng = np.random.default_rng(seed)
    sr = 16000 if seed % 2 else 48000
    n = 5 * sr
    if kind == "noise":
        x = rng.standard_normal(n) * 0.1
    elif kind == "tones":
        t = np.arange(n) / sr
        f = rng.uniform(400, 6000, size=5)
        x = 0.1 * np.sin(2 * np.pi * f[:, None] * t[None, :]).sum(axis=0)
    else:
        x = make_music(sr, 5.0, channels=1, seed=seed % 1000)[:, 0]
        if kind == "other key":
            x = embed(x, sr, rng.bytes(8), WatermarkKey(rng.bytes(32)))
    det = detect(np.asarray(x), sr, key, layers=ROBUST)
    assert not det.found and det.payload is None and det.p_value > 1e-6


CODECS = {
    "mp3_128k": (["-c:a", "libmp3lame", "-b:a", "128k"], ".mp3"),
    "aac_128k": (["-c:a", "aac", "-b:a", "128k"], ".m4a"),
    "opus_64k": (["-c:a", "libopus", "-b:a", "64k"], ".opus"),
    "resample_16k": (["-ar", "16000", "-c:a", "pcm_s16le"], ".wav"),
}


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
@pytest.mark.parametrize("codec", sorted(CODECS))
def test_transform_matrix_ffmpeg(
    codec: str, tmp_path: Path, marked10: tuple[np.ndarray, np.ndarray], key: WatermarkKey
) -> None:
    _, m = marked10
    src = tmp_path / "m.wav"
    sf.write(src, m, 48000, subtype="FLOAT")
    args, ext = CODECS[codec]
    enc = tmp_path / f"enc{ext}"
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), *args, str(enc)]
    subprocess.run(cmd, check=True, capture_output=True)
    det = detect_file(enc, key)
    assert det.found and det.payload == PAYLOAD
    assert det.layers["robust"].payload == PAYLOAD
    if codec != "resample_16k":
        assert not det.layers["high"].found  # these cut the band above 20 kHz
