"""Key files, the keyed PRF, CRC and the convolutional code."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from watermark import WatermarkError, WatermarkKey
from watermark.ecc import bits_to_bytes, bytes_to_bits, conv_encode, crc32, viterbi_decode
from watermark.frame import CODED_BITS, MESSAGE_BITS, frame_layout


def test_key_save_load_permissions(tmp_path: Path) -> None:
    k = WatermarkKey.generate()
    p = tmp_path / "wm.key"
    k.save(p)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert p.stat().st_size == 32
    assert WatermarkKey.load(p) == k
    with pytest.raises(FileExistsError):
        k.save(p)
    k2 = WatermarkKey.generate()
    k2.save(p, overwrite=True)
    assert WatermarkKey.load(p) == k2 != k


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_key_wrong_length_refused(tmp_path: Path, size: int) -> None:
    p = tmp_path / "bad.key"
    p.write_bytes(b"\x01" * size)
    with pytest.raises(WatermarkError, match="expected 32 bytes"):
        WatermarkKey.load(p)


def test_key_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        WatermarkKey.load(tmp_path / "nope.key")


def test_key_repr_hides_secret() -> None:
    k = WatermarkKey(bytes(range(32)))
    assert bytes(range(32)).hex() not in repr(k)
    assert k.key_id in repr(k)
    with pytest.raises(WatermarkError):
        WatermarkKey(b"short")


def test_prf_is_keyed_and_deterministic() -> None:
    a, b = WatermarkKey(bytes(32)), WatermarkKey(bytes(31) + b"\x01")
    assert a.prf("x", 100) == a.prf("x", 100)
    assert a.prf("x", 100) != b.prf("x", 100)
    assert a.prf("x", 100) != a.prf("y", 100)
    la, lb = frame_layout(a), frame_layout(b)
    assert not np.array_equal(la.pn, lb.pn)
    assert sorted(np.concatenate([la.sync_pos, la.data_pos]).tolist()) == list(range(1200))
    assert np.bincount(la.data_bit).tolist() == [3] * CODED_BITS


def test_crc32_known_value() -> None:
    assert crc32(b"123456789").hex() == "cbf43926"


@given(st.binary(min_size=12, max_size=12), st.integers(0, 2**32 - 1))
def test_viterbi_corrects_noise_and_erasures(msg: bytes, seed: int) -> None:
    bits = bytes_to_bits(msg)
    code = conv_encode(bits)
    assert code.size == CODED_BITS
    rng = np.random.default_rng(seed)
    soft = (1.0 - 2.0 * code) + rng.normal(0, 0.7, code.size)
    soft[rng.choice(code.size, 60, replace=False)] = 0.0  # erasures
    out = viterbi_decode(np.stack([soft, -soft]), MESSAGE_BITS)
    assert bits_to_bytes(out[0]) == msg
    assert bits_to_bytes(out[1]) != msg
