"""PDQ perceptual frame hashes, vectorized over batches of frames.

This is an implementation of Meta's PDQ algorithm (the hash of the ThreatExchange ecosystem):

1. luminance ``Y = 0.299 R + 0.587 G + 0.114 B`` (0–255);
2. two passes of a Jarosz tent filter (box filter applied twice along each axis) with a window of
   ``ceil(dim / 128)``, then decimation to 64×64 by sampling the centres of a 64×64 grid;
3. a 16×16 DCT of the 64×64 block (the DC row and column are skipped);
4. each coefficient above the median of the 256 coefficients is a 1 bit.

The quality score (0–100) is PDQ's gradient sum over the 64×64 block. The filter and the
decimation are linear, so they are folded into two small matrices per frame size: a batch of
frames is hashed with two matrix products, with no per-frame Python loop. Those products run in
torch when an accelerator is chosen (see :mod:`.accel`).

Hashes are ``(n, 32)`` uint8 arrays whose bytes are the big-endian form of PDQ's 256-bit value,
so ``bytes(row).hex()`` is the usual 64-hex-digit PDQ string.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse

from provenance.fingerprint.accel import filter_products
from provenance.fingerprint.errors import FingerprintError

HASH_BYTES = 32
HASH_BITS = 256

FloatArray = npt.NDArray[np.float32]
ByteArray = npt.NDArray[np.uint8]

#: PDQ's 16×64 DCT matrix (rows are frequencies 1..16: the DC term is skipped).
_DCT = (
    np.sqrt(2.0 / 64.0)
    * np.cos(np.pi / 128.0 * np.arange(1, 17)[:, None] * (2 * np.arange(64)[None, :] + 1))
).astype(np.float64)

#: Byte → number of set bits, for vectorized Hamming distances.
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)

#: The eight dihedral transforms PDQ defines, by name.
DIHEDRAL = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flipplus",
    "flipminus",
)


def jarosz_window(size: int) -> int:
    """PDQ's Jarosz filter window for a dimension of ``size`` pixels (``ceil(size / 128)``)."""
    return (size + 2 * 64 - 1) // (2 * 64)


@lru_cache(maxsize=64)
def _filter_rows(size: int) -> npt.NDArray[np.float32]:
    """The 64 rows of (box filter)² that the decimation keeps, as a dense ``(64, size)`` matrix."""
    window = jarosz_window(size)
    half = (window + 2) // 2
    left, right = window - half, half - 1
    out = np.arange(size)
    lo = np.maximum(out - left, 0)
    hi = np.minimum(out + right, size - 1)
    counts = hi - lo + 1
    rows = np.repeat(out, counts)
    cols = np.concatenate([np.arange(a, b + 1) for a, b in zip(lo, hi, strict=True)])
    vals = np.repeat(1.0 / counts, counts)
    box = sparse.csr_matrix((vals, (rows, cols)), shape=(size, size))
    keep = ((np.arange(64) + 0.5) * size / 64).astype(np.int64)
    return np.asarray((box[keep] @ box).todense(), dtype=np.float32)


@lru_cache(maxsize=64)
def _filter_rows_mirrored(size: int) -> npt.NDArray[np.float32]:
    """:func:`_filter_rows` of the left-right mirrored frame (a contiguous copy, for BLAS)."""
    return np.ascontiguousarray(_filter_rows(size)[:, ::-1])


def luma_from_rgb(rgb: npt.NDArray[np.uint8]) -> FloatArray:
    """PDQ luminance (0–255, float32) of RGB frames ``(..., h, w, 3)``."""
    arr = np.asarray(rgb)
    if arr.ndim < 3 or arr.shape[-1] != 3:
        raise FingerprintError(f"expected RGB frames (..., h, w, 3), got shape {arr.shape}")
    coeffs = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.asarray(arr.astype(np.float32) @ coeffs, dtype=np.float32)


def downsample64(luma: FloatArray) -> FloatArray:
    """Jarosz-filter and decimate luminance frames ``(n, h, w)`` to ``(n, 64, 64)``."""
    y = np.asarray(luma, dtype=np.float32)
    if y.ndim != 3:
        raise FingerprintError(f"expected luminance frames (n, h, w), got shape {y.shape}")
    _, h, w = y.shape
    if h < 1 or w < 1:
        raise FingerprintError(f"empty frame ({w}x{h})")
    rows, cols = _filter_rows(h), _filter_rows(w)
    fast = filter_products(y, rows, [cols])
    if fast is not None:
        return fast[0]
    return np.asarray(rows @ y @ cols.T, dtype=np.float32)


def quality_of(block64: FloatArray) -> npt.NDArray[np.int32]:
    """PDQ's quality metric (0–100) of 64×64 blocks ``(n, 64, 64)``."""
    b = np.asarray(block64, dtype=np.float64)
    dv = np.trunc((b[:, :-1, :] - b[:, 1:, :]) * 100.0 / 255.0)
    dh = np.trunc((b[:, :, :-1] - b[:, :, 1:]) * 100.0 / 255.0)
    total = np.abs(dv).sum(axis=(1, 2)) + np.abs(dh).sum(axis=(1, 2))
    return np.minimum(total / 90.0, 100.0).astype(np.int32)


def dct16(block64: FloatArray) -> FloatArray:
    """The 16×16 low-frequency DCT coefficients of 64×64 blocks ``(n, 64, 64)``."""
    b = np.asarray(block64, dtype=np.float64)
    return np.asarray(_DCT @ b @ _DCT.T, dtype=np.float32)


def dihedral(coeffs: FloatArray, name: str) -> FloatArray:
    """DCT coefficients ``(n, 16, 16)`` of the frames transformed by dihedral ``name``.

    Flipping an axis negates the odd-index frequencies along it (PDQ's frequencies start at 1);
    rotations and diagonal flips are a transpose plus flips. Names: see :data:`DIHEDRAL`.
    """
    c = np.asarray(coeffs, dtype=np.float32)
    sign = np.where(np.arange(16) % 2 == 0, -1.0, 1.0).astype(np.float32)
    fx = c * sign[None, None, :]  # mirror left-right: column frequencies
    fy = c * sign[None, :, None]  # mirror top-bottom: row frequencies
    t = np.swapaxes(c, 1, 2)
    table = {
        "original": c,
        "flipx": fx,
        "flipy": fy,
        "rotate180": c * sign[None, :, None] * sign[None, None, :],
        "flipplus": t,
        "rotate90": np.swapaxes(fx, 1, 2),
        "rotate270": np.swapaxes(fy, 1, 2),
        "flipminus": t * sign[None, :, None] * sign[None, None, :],
    }
    if name not in table:
        raise FingerprintError(f"unknown dihedral transform {name!r}; use one of {DIHEDRAL}")
    return table[name]


def bits_from_coeffs(coeffs: FloatArray) -> ByteArray:
    """Threshold DCT coefficients ``(n, 16, 16)`` at their median: ``(n, 32)`` uint8 hashes."""
    c = np.asarray(coeffs, dtype=np.float32).reshape(len(coeffs), 256)
    # PDQ's Torben median of 256 values is the 128th smallest.
    median = np.partition(c, 127, axis=1)[:, 127:128]
    bits = (c > median).astype(np.uint8)
    packed = np.packbits(bits.reshape(-1, 32, 8), axis=2, bitorder="little").reshape(-1, 32)
    return np.ascontiguousarray(packed[:, ::-1])


def pdq_from_luma(luma: FloatArray) -> tuple[ByteArray, npt.NDArray[np.int32], FloatArray]:
    """PDQ hashes, qualities and DCT coefficients of luminance frames ``(n, h, w)`` (0–255)."""
    block = downsample64(luma)
    coeffs = dct16(block)
    return bits_from_coeffs(coeffs), quality_of(block), coeffs


def pdq_with_mirror(
    luma: FloatArray,
) -> tuple[ByteArray, npt.NDArray[np.int32], ByteArray]:
    """PDQ hashes, qualities and the hashes of the left-right mirrored frames ``(n, h, w)``.

    The mirrored hashes are those of the actually flipped pixels (one extra small product per
    frame), which is exact even where PDQ's filter window is even and the DCT sign flip of
    :func:`dihedral` is only close.
    """
    y = np.asarray(luma, dtype=np.float32)
    if y.ndim != 3:
        raise FingerprintError(f"expected luminance frames (n, h, w), got shape {y.shape}")
    _, h, w = y.shape
    cols = _filter_rows(w)
    fast = filter_products(y, _filter_rows(h), [cols, _filter_rows_mirrored(w)])
    if fast is not None:
        block, mirrored = fast
    else:
        half = _filter_rows(h) @ y
        block = np.asarray(half @ cols.T, dtype=np.float32)
        mirrored = np.asarray(half @ _filter_rows_mirrored(w).T, dtype=np.float32)
    return bits_from_coeffs(dct16(block)), quality_of(block), bits_from_coeffs(dct16(mirrored))


def pdq_hash(frames: npt.ArrayLike) -> tuple[ByteArray, npt.NDArray[np.int32]]:
    """PDQ hashes ``(n, 32)`` and qualities ``(n,)`` of frames.

    ``frames`` are RGB uint8 ``(n, h, w, 3)`` or luminance ``(n, h, w)`` (0–255, any numeric
    dtype); a single RGB frame ``(h, w, 3)`` gives ``n = 1``.
    """
    arr = np.asarray(frames)
    if arr.ndim == 3 and arr.shape[-1] == 3:
        arr = arr[None]
    if arr.ndim == 4:
        luma = luma_from_rgb(arr)
    elif arr.ndim == 3:
        luma = arr.astype(np.float32)
    else:
        raise FingerprintError(f"expected frames (n, h, w[, 3]), got shape {arr.shape}")
    hashes, quality, _ = pdq_from_luma(luma)
    return hashes, quality


def to_hex(hashes: ByteArray) -> list[str]:
    """PDQ hex strings (64 digits) of ``(n, 32)`` hashes."""
    return [bytes(row).hex() for row in np.asarray(hashes, dtype=np.uint8)]


def from_hex(hexes: list[str] | tuple[str, ...]) -> ByteArray:
    """``(n, 32)`` hashes from PDQ hex strings."""
    out = np.zeros((len(hexes), HASH_BYTES), dtype=np.uint8)
    for i, h in enumerate(hexes):
        try:
            raw = bytes.fromhex(h.strip())
        except ValueError as exc:
            raise FingerprintError(f"not a PDQ hex string: {h[:70]!r}") from exc
        if len(raw) != HASH_BYTES:
            raise FingerprintError(f"a PDQ hash has 64 hex digits, got {len(h.strip())}")
        out[i] = np.frombuffer(raw, dtype=np.uint8)
    return out


def hamming(a: ByteArray, b: ByteArray) -> npt.NDArray[np.int32]:
    """Row-wise Hamming distances between hash arrays of the same shape ``(n, 32)``."""
    x = np.bitwise_xor(np.asarray(a, dtype=np.uint8), np.asarray(b, dtype=np.uint8))
    return _POPCOUNT[x].sum(axis=-1, dtype=np.int32)


def hamming_matrix(a: ByteArray, b: ByteArray) -> npt.NDArray[np.int32]:
    """All pairwise Hamming distances ``(len(a), len(b))``."""
    x = np.bitwise_xor(
        np.asarray(a, dtype=np.uint8)[:, None, :], np.asarray(b, dtype=np.uint8)[None]
    )
    return _POPCOUNT[x].sum(axis=-1, dtype=np.int32)


def pdq_dihedral(frames: npt.ArrayLike) -> dict[str, ByteArray]:
    """The hashes of all eight dihedral transforms of the frames, from one DCT (by name)."""
    arr = np.asarray(frames)
    if arr.ndim == 3 and arr.shape[-1] == 3:
        arr = arr[None]
    luma = luma_from_rgb(arr) if arr.ndim == 4 else arr.astype(np.float32)
    _, _, coeffs = pdq_from_luma(luma)
    return {name: bits_from_coeffs(dihedral(coeffs, name)) for name in DIHEDRAL}


#: Images larger than this (either side) are first shrunk to fit, as PDQ's reference does.
IMAGE_DOWNSAMPLE = 512


def pdq_hash_image(path: str | os.PathLike[str]) -> tuple[str, int]:
    """PDQ hex hash and quality of an image file (any format FFmpeg decodes).

    Like PDQ's reference image hasher, an image larger than 512 pixels on a side is first shrunk
    (bicubic, aspect kept) to fit in 512×512.
    """
    import av

    p = Path(path)
    if not p.is_file():
        raise FingerprintError(f"{p}: no such file")
    try:
        with av.open(str(p)) as container:
            if not container.streams.video:
                raise FingerprintError(f"{p.name}: not an image")
            frame = next(container.decode(video=0), None)
            if frame is None:
                raise FingerprintError(f"{p.name}: no decodable image")
            w, h = frame.width, frame.height
            if max(w, h) > IMAGE_DOWNSAMPLE:
                scale = IMAGE_DOWNSAMPLE / max(w, h)
                nw = IMAGE_DOWNSAMPLE if w >= h else max(1, round(w * scale))
                nh = IMAGE_DOWNSAMPLE if h > w else max(1, round(h * scale))
                rgb = frame.reformat(
                    width=nw, height=nh, format="rgb24", interpolation="BICUBIC"
                ).to_ndarray()
            else:
                rgb = frame.to_ndarray(format="rgb24")
    except av.FFmpegError as exc:
        raise FingerprintError(f"{p.name}: not a readable image ({exc})") from exc
    hashes, quality = pdq_hash(rgb)
    return to_hex(hashes)[0], int(quality[0])
