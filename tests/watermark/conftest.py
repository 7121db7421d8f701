"""Fixtures for the watermark tests: a fixed key and small synthesized test signals."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import signal

from watermark import WatermarkKey

PAYLOAD = bytes.fromhex("0123456789abcdef")


def music(
    sr: int, seconds: float, channels: int = 2, seed: int = 0, level_db: float = -20.0
) -> np.ndarray:
    """Music-like float64 test signal: decaying harmonic notes plus noise bursts, below 16 kHz."""
    rng = np.random.default_rng(seed)
    n = round(sr * seconds)
    t = np.arange(n) / sr
    out = np.empty((n, channels))
    lp = signal.butter(6, min(15500, 0.45 * sr), fs=sr, output="sos")
    for c in range(channels):
        f0 = 110 * 2 ** (rng.integers(0, 36, size=int(seconds * 4) + 1) / 12)
        f = np.repeat(f0, sr // 4)[:n]
        ph = 2 * np.pi * np.cumsum(f) / sr
        env = np.exp(-4 * ((t % 0.25) / 0.25))
        x = sum(env * np.sin(h * ph) / h for h in range(1, 8))
        x = x + 0.3 * rng.standard_normal(n) * np.exp(-20 * ((t % 0.5) / 0.5))
        x = signal.sosfilt(lp, x)
        out[:, c] = x / np.sqrt(np.mean(x**2)) * 10 ** (level_db / 20)
    return out


MusicFn = Callable[..., np.ndarray]


@pytest.fixture(scope="session")
def make_music() -> MusicFn:
    """The :func:`music` synthesizer."""
    return music


@pytest.fixture(scope="session")
def payload() -> bytes:
    """The payload used throughout."""
    return PAYLOAD


@pytest.fixture(scope="session")
def key() -> WatermarkKey:
    """A fixed test key."""
    return WatermarkKey(bytes(range(32)))


@pytest.fixture(scope="session")
def other_key() -> WatermarkKey:
    """A second fixed key."""
    return WatermarkKey(bytes(range(100, 132)))


@pytest.fixture(scope="session")
def clip48() -> np.ndarray:
    """6 s of 48 kHz stereo music-like float64 audio."""
    return music(48000, 6.0)
