"""The optional torch accelerator: same hashes as numpy, clear errors, numpy when it is off."""

from __future__ import annotations

import builtins
import importlib.util
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.fingerprint import FingerprintError, accel, hamming
from provenance.fingerprint.pdq import downsample64, pdq_with_mirror


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    accel.set_accelerator(None)


def _frames(seed: int, n: int = 4, h: int = 360, w: int = 640) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.random((n, h // 8, w // 8)).astype(np.float32) * 255
    # blocky texture plus fine noise: realistic spread of DCT coefficients
    return np.kron(base, np.ones((8, 8), np.float32)) + rng.normal(0, 4, (n, h, w)).astype(
        np.float32
    )


def test_off_is_numpy_and_never_imports_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def guarded(name: str, *args: Any, **kw: Any) -> Any:
        if name == "torch" or name.startswith("torch."):
            raise AssertionError("torch imported with the accelerator off")
        return real_import(name, *args, **kw)

    accel.set_accelerator("off")
    monkeypatch.setattr(builtins, "__import__", guarded)
    assert accel.accelerator() == "numpy"
    hashes, quality, mirror = pdq_with_mirror(_frames(1))
    assert hashes.shape == (4, 32) and mirror.shape == (4, 32) and quality.shape == (4,)


def test_torch_without_torch_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_torch(name: str, *args: Any, **kw: Any) -> Any:
        if name == "torch":
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    accel.set_accelerator("torch")
    with pytest.raises(FingerprintError, match=r"pip install '\.\[accel\]'"):
        accel.accelerator()
    accel.set_accelerator("auto")  # auto falls back to numpy quietly
    assert accel.accelerator() == "numpy"


def test_unknown_names_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FingerprintError, match="unknown accelerator"):
        accel.set_accelerator("gpu")
    monkeypatch.setenv("PROVKIT_ACCEL", "tpu")
    accel.set_accelerator(None)
    with pytest.raises(FingerprintError, match="PROVKIT_ACCEL"):
        accel.accelerator()


requires_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="torch not installed (pip install '.[accel]'); the numpy path is tested above",
)


@requires_torch
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**16), h=st.sampled_from([240, 360, 720]))
def test_torch_hashes_match_numpy(seed: int, h: int) -> None:
    y = _frames(seed, n=3, h=h, w=h * 16 // 9 // 8 * 8)
    accel.set_accelerator("off")
    want_h, want_q, want_m = pdq_with_mirror(y)
    want_block = downsample64(y)
    accel.set_accelerator("torch")
    assert accel.accelerator() in ("cpu", "cuda")
    got_h, got_q, got_m = pdq_with_mirror(y)
    got_block = downsample64(y)
    # float32 products in another order: the same blocks to rounding, hence (almost) the same bits
    np.testing.assert_allclose(got_block, want_block, rtol=0, atol=1e-2)
    assert hamming(got_h, want_h).max() <= 2
    assert hamming(got_m, want_m).max() <= 2
    assert np.abs(got_q - want_q).max() <= 1


@requires_torch
def test_small_batches_stay_in_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    accel.set_accelerator("torch")
    called: list[int] = []
    real = torch.matmul

    def spy(*a: Any, **k: Any) -> Any:
        called.append(1)
        return real(*a, **k)

    monkeypatch.setattr(torch, "matmul", spy)
    downsample64(_frames(2, n=1, h=64, w=96))
    assert not called
    downsample64(_frames(2, n=4, h=720, w=1280))
    assert called
