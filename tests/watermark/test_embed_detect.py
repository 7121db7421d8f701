"""The high-band layer on arrays: round trips, rates, dtypes, crops, splices, keys, limits.

Every call here selects ``layers=("high",)``; the robust layer and the combination are tested in
``test_robust.py``.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from watermark import Detection, WatermarkError, WatermarkKey
from watermark import detect as detect_layers
from watermark import embed as embed_layers
from watermark.frame import BAND_HZ

PAYLOAD = bytes.fromhex("0123456789abcdef")
Music = Callable[..., np.ndarray]
embed = functools.partial(embed_layers, layers=("high",))
detect = functools.partial(detect_layers, layers=("high",))


def _to_dtype(x: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "int16":
        return np.round(x * 32767).astype(np.int16)
    if dtype == "int32":
        return np.round(x * (2**31 - 1)).astype(np.int32)
    return x.astype(dtype)


def test_round_trip_48k_stereo(clip48: np.ndarray, key: WatermarkKey) -> None:
    marked = embed(clip48, 48000, PAYLOAD, key)
    assert marked.shape == clip48.shape and marked.dtype == clip48.dtype
    det = detect(marked, 48000, key)
    assert det.found and det.payload == PAYLOAD
    assert det.p_value < 1e-30
    assert det.segments == [(0.0, 6.0)]
    assert not detect(clip48, 48000, key).found


@pytest.mark.parametrize("sr", [44100, 48000, 88200, 96000])
def test_sample_rates(sr: int, key: WatermarkKey, make_music: Music) -> None:
    x = make_music(sr, 4.0, channels=1, seed=sr)
    det = detect(embed(x, sr, PAYLOAD, key), sr, key)
    assert det.found and det.payload == PAYLOAD


@pytest.mark.parametrize("dtype", ["int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_dtypes_and_channels(
    dtype: str, channels: int, key: WatermarkKey, make_music: Music
) -> None:
    x = _to_dtype(make_music(48000, 3.0, channels=channels, seed=channels), dtype)
    if channels == 1:
        x = x[:, 0]
    marked = embed(x, 48000, PAYLOAD, key)
    assert marked.dtype == x.dtype and marked.shape == x.shape
    det = detect(marked, 48000, key)
    assert det.found and det.payload == PAYLOAD


def _band_energy_db(d: np.ndarray, sr: int, lo: float, hi: float) -> float:
    f, p = signal.welch(d, fs=sr, nperseg=8192, window=("kaiser", 20), detrend=False, axis=0)
    m = (f >= lo) & (f < hi)
    return float(10 * np.log10(p[m].sum() * (f[1] - f[0]) + 1e-300))


def test_no_change_below_20khz(clip48: np.ndarray, key: WatermarkKey) -> None:
    """The difference has its energy in 20.0-20.8 kHz; below 19.5 kHz it is > 130 dB lower."""
    x = clip48.astype(np.float64)
    x[48000:96000] *= 0.01  # a sudden level change makes the gain move
    d = (embed(x, 48000, PAYLOAD, key) - x)[:, 0]
    band = _band_energy_db(d, 48000, 20000, 20800)
    below = _band_energy_db(d, 48000, 0, 19500)
    assert band - below > 130
    f, p = signal.welch(d, fs=48000, nperseg=8192, detrend=False)
    assert p[(f > BAND_HZ[0]) & (f < BAND_HZ[1])].sum() > 0.99 * p.sum()


def test_int16_difference_below_rounding(clip48: np.ndarray, key: WatermarkKey) -> None:
    x = _to_dtype(clip48, "int16")
    d = (embed(x, 48000, PAYLOAD, key).astype(np.float64) - x) / 32768
    below = _band_energy_db(d[:, 0], 48000, 0, 19500)
    rounding = 10 * np.log10((1 / 32768) ** 2 / 12 * 19500 / 24000)
    assert below < rounding + 1.0


def test_no_clipping_and_saturated_input(key: WatermarkKey, make_music: Music) -> None:
    x = make_music(48000, 4.0, channels=2, seed=3)
    x = x / np.abs(x).max() * 0.999
    x[48000:60000] = np.sign(x[48000:60000])  # saturated passage
    for arr in (x, _to_dtype(x, "int16")):
        marked = embed(arr, 48000, PAYLOAD, key)
        if arr.dtype.kind == "f":
            assert np.abs(marked).max() <= 1.0
        else:
            assert not np.any(marked.astype(np.int32) == 32767) or np.any(arr == 32767)
            assert np.abs(marked.astype(np.int32)).max() <= 32767
        det = detect(marked, 48000, key)
        assert det.found and det.payload == PAYLOAD
    marked = embed(x, 48000, PAYLOAD, key)
    assert np.array_equal(marked[50000:58000], x[50000:58000])  # no headroom: left untouched


def test_level_adaptive(key: WatermarkKey, make_music: Music) -> None:
    loud = make_music(48000, 3.0, seed=1, level_db=-22)
    quiet = loud * 10 ** (-25 / 20)
    d_loud = embed(loud, 48000, PAYLOAD, key) - loud
    d_quiet = embed(quiet, 48000, PAYLOAD, key) - quiet
    ratio = 10 * np.log10(np.mean(d_loud**2) / np.mean(d_quiet**2))
    assert 22 < ratio < 28
    assert 10 * np.log10(np.mean(d_loud**2) / np.mean(loud**2)) == pytest.approx(-26, abs=1.5)
    silent = np.zeros((96000, 2), dtype=np.float32)
    d = embed(silent, 48000, PAYLOAD, key)
    assert 10 * np.log10(np.mean(d.astype(np.float64) ** 2)) == pytest.approx(-80, abs=1.5)
    assert detect(d, 48000, key).payload == PAYLOAD


def test_wrong_key_and_other_payload(
    clip48: np.ndarray, key: WatermarkKey, other_key: WatermarkKey
) -> None:
    marked = embed(clip48, 48000, PAYLOAD, key)
    det = detect(marked, 48000, other_key)
    assert not det.found and det.payload is None and det.p_value > 1e-3
    other = embed(clip48, 48000, bytes(8), other_key)
    assert detect(other, 48000, other_key).payload == bytes(8)
    assert not detect(other, 48000, key).found


@pytest.mark.parametrize("crop_s", [3.0, 2.0])
def test_crops_at_odd_offsets(crop_s: float, key: WatermarkKey, make_music: Music) -> None:
    x = make_music(48000, 8.0, seed=5)
    marked = embed(x, 48000, PAYLOAD, key)
    for start in (0, 12345, 48000 * 3 + 777, 48000 * 5 + 1):
        part = marked[start : start + int(crop_s * 48000)]
        det = detect(part, 48000, key)
        assert det.found and det.payload == PAYLOAD, (crop_s, start)


def test_short_clip_reports_presence(key: WatermarkKey, make_music: Music) -> None:
    x = make_music(48000, 6.0, seed=6)
    marked = embed(x, 48000, PAYLOAD, key)
    det = detect(marked[10000 : 10000 + 48000], 48000, key)  # 1 s: half a frame
    assert det.found and det.p_value < 1e-6
    assert det.payload in (None, PAYLOAD)
    tiny = detect(marked[:100], 48000, key)
    assert not tiny.found and tiny.payload is None


def test_splice_is_localised(key: WatermarkKey, make_music: Music) -> None:
    host = make_music(48000, 14.0, seed=7)
    clip = make_music(48000, 5.0, seed=8)
    marked = embed(clip, 48000, PAYLOAD, key)
    start = int(6.3 * 48000)
    spliced = host.copy()
    spliced[start : start + marked.shape[0]] = marked
    det = detect(spliced, 48000, key)
    assert det.found and det.payload == PAYLOAD
    assert len(det.segments) == 1
    a, b = det.segments[0]
    assert abs(a - 6.3) <= 0.5 and abs(b - 11.3) <= 0.5


def test_detection_json_shape(clip48: np.ndarray, key: WatermarkKey) -> None:
    d = detect(embed(clip48, 48000, PAYLOAD, key), 48000, key)
    j = d.to_json()
    assert set(j) == {"found", "payload", "p_value", "segments", "layers"}
    assert set(j["layers"]) == {"high"}
    assert j["payload"] == PAYLOAD.hex()
    assert Detection(False, None, 1.0, []).to_json()["payload"] is None


@pytest.mark.parametrize(
    ("samples", "sr", "match"),
    [
        (np.zeros(0), 48000, "empty"),
        (np.full(96000, np.nan), 48000, "NaN"),
        (np.zeros((96000, 2, 2)), 48000, "1-D"),
        (np.zeros((2, 96000)), 48000, "transpose"),
        (np.zeros(96000), 32000, "below 44100"),
        (np.zeros(96000), 22050, "below 44100"),
        (np.zeros(96000), 50000, "unsupported"),
        (np.zeros(96000, dtype=np.uint8), 48000, "dtype"),
        (np.zeros(96000, dtype=np.int8), 48000, "int16"),
        ([0.0] * 96000, 48000, "numpy"),
    ],
)
def test_bad_input(samples: object, sr: int, match: str, key: WatermarkKey) -> None:
    with pytest.raises(WatermarkError, match=match):
        embed(samples, sr, PAYLOAD, key)  # type: ignore[arg-type]
    with pytest.raises(WatermarkError, match=match):
        detect(samples, sr, key)  # type: ignore[arg-type]


def test_bad_payload_and_short_embed(key: WatermarkKey) -> None:
    x = np.zeros(96000)
    for bad in (b"", b"1234567", b"123456789", "0123456789abcdef"):
        with pytest.raises(WatermarkError, match="8 bytes"):
            embed(x, 48000, bad, key)  # type: ignore[arg-type]
    with pytest.raises(WatermarkError, match="too short"):
        embed(np.zeros(90000), 48000, PAYLOAD, key)
    with pytest.raises(WatermarkError):
        embed(x, 48000, PAYLOAD, b"k" * 32)  # type: ignore[arg-type]


@settings(max_examples=12)
@given(
    payload=st.binary(min_size=8, max_size=8),
    sr=st.sampled_from([44100, 48000, 96000]),
    length_s=st.floats(2.0, 5.0),
    offset_s=st.floats(0.0, 2.0),
    seed=st.integers(0, 10_000),
)
def test_property_round_trip(
    payload: bytes, sr: int, length_s: float, offset_s: float, seed: int, make_music: Music
) -> None:
    key = WatermarkKey(bytes([seed % 256]) * 32)
    x = make_music(sr, length_s + offset_s + 0.1, channels=1, seed=seed)[:, 0].astype(np.float32)
    marked = embed(x, sr, payload, key)
    part = marked[int(offset_s * sr) : int(offset_s * sr) + int(length_s * sr)]
    det = detect(part, sr, key)
    assert det.found and det.payload == payload
    assert det.segments and det.segments[0][0] == 0.0


@settings(max_examples=15)
@given(
    seed=st.integers(0, 2**31),
    sr=st.sampled_from([44100, 48000]),
    kind=st.sampled_from(["noise", "music", "tone"]),
)
def test_property_unmarked_not_found(
    seed: int, sr: int, kind: str, key: WatermarkKey, make_music: Music
) -> None:
    rng = np.random.default_rng(seed)
    n = 3 * sr
    if kind == "noise":
        x = rng.standard_normal(n) * 0.1
    elif kind == "music":
        x = make_music(sr, 3.0, channels=1, seed=seed)[:, 0]
    else:
        x = 0.3 * np.sin(2 * np.pi * rng.uniform(19000, 21500) * np.arange(n) / sr)
    det = detect(x, sr, key)
    assert not det.found and det.payload is None and det.p_value > 1e-6


def test_silent_gaps_give_finite_output(key: WatermarkKey, make_music: Music) -> None:
    x = make_music(48000, 4.0, seed=21).astype(np.float32)
    x[20000:70000] = 0.0  # digital silence between phrases
    x[150000:150003] = 1e-30  # denormal-level samples
    marked = embed(x, 48000, PAYLOAD, key)
    assert np.isfinite(marked).all()
    assert detect(marked, 48000, key).payload == PAYLOAD


@settings(max_examples=10)
@given(cuts=st.lists(st.integers(1, 300_000), min_size=1, max_size=6))
def test_demodulator_independent_of_chunking(cuts: list[int]) -> None:
    from watermark.demod import Demodulator, baseband

    rng = np.random.default_rng(len(cuts))
    x = rng.standard_normal(1_100_000).astype(np.float32)  # > one 20 s block at 48 kHz
    ref = baseband(x, 48000)
    d = Demodulator(48000)
    edges = sorted({0, *[c * 3 for c in cuts if c * 3 < x.size], x.size})
    for a, b in itertools.pairwise(edges):
        d.feed(x[a:b])
    got = d.finish()
    assert got.shape == ref.shape == (-(-x.size * 2400 // 48000),)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6 * np.abs(ref).max())
