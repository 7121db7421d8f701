"""Error control: CRC-32 over the payload and a K=7, rate-1/3 convolutional code.

The decoder is a soft-decision Viterbi decoder, vectorized over the 64 states and over a batch
of candidate codewords.
"""

from __future__ import annotations

import zlib

import numpy as np

CONSTRAINT = 7
STATES = 1 << (CONSTRAINT - 1)
#: Generator polynomials (octal 133, 171, 165), as used for K=7 rate-1/3 codes in LTE.
POLYS = (0o133, 0o171, 0o165)
RATE = len(POLYS)


def bytes_to_bits(data: bytes) -> np.ndarray:
    """Bits of ``data``, most significant bit first, as uint8 0/1."""
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8))


def bits_to_bytes(bits: np.ndarray) -> bytes:
    """Inverse of :func:`bytes_to_bits`."""
    return np.packbits(bits.astype(np.uint8)).tobytes()


def crc32(data: bytes) -> bytes:
    """CRC-32 (IEEE) of ``data`` as 4 big-endian bytes."""
    return zlib.crc32(data).to_bytes(4, "big")


def _parity(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    out = np.zeros_like(x)
    while np.any(x):
        out ^= x & 1
        x >>= 1
    return out


# Output bits for (state, input): register = (input << 6) | state, newest bit at the top.
_REG = (np.arange(2)[None, :] << (CONSTRAINT - 1)) | np.arange(STATES)[:, None]  # (64, 2)
_OUT = np.stack([_parity(_REG & p) for p in POLYS], axis=-1).astype(np.int8)  # (64, 2, 3)
_NEXT = _REG >> 1  # (64, 2) next state
# Predecessors of each next state: state s' = (b << 5) | (s >> 1) comes from s = ((s' << 1) & 63) | j.
_PRED = np.stack(
    [((np.arange(STATES) << 1) & (STATES - 1)) | j for j in range(2)], axis=-1
)  # (64, 2)
_PRED_INPUT = (np.arange(STATES) >> (CONSTRAINT - 2)) & 1  # input bit that leads into s'
_PRED_SIGNS = np.stack([1 - 2 * _OUT[_PRED[:, j], _PRED_INPUT] for j in range(2)], axis=1).astype(
    np.float64
)  # (64, 2, 3): +1 for coded 0, -1 for coded 1


def conv_encode(bits: np.ndarray) -> np.ndarray:
    """Encode ``bits`` (0/1) with 6 zero tail bits appended; returns ``3 * (n + 6)`` bits."""
    data = np.concatenate([bits.astype(np.int64), np.zeros(CONSTRAINT - 1, dtype=np.int64)])
    out = np.empty((data.size, RATE), dtype=np.uint8)
    state = 0
    for i, b in enumerate(data):
        out[i] = _OUT[state, b]
        state = int(_NEXT[state, b])
    return out.ravel()


def viterbi_decode(soft: np.ndarray, nbits: int) -> np.ndarray:
    """Soft-decision Viterbi decoding of a batch of zero-terminated codewords.

    ``soft`` has shape ``(batch, 3 * (nbits + 6))``: positive values favour a coded 0, negative a
    coded 1, zero is an erasure. Returns the decoded bits, shape ``(batch, nbits)``.
    """
    soft = np.atleast_2d(np.asarray(soft, dtype=np.float64))
    batch = soft.shape[0]
    steps = nbits + CONSTRAINT - 1
    sym = soft.reshape(batch, steps, RATE)
    metric = np.full((batch, STATES), -np.inf)
    metric[:, 0] = 0.0
    decisions = np.empty((steps, batch, STATES), dtype=np.uint8)
    for t in range(steps):
        # branch metric for each (next state, predecessor choice): (batch, 64, 2)
        bm = np.einsum("bk,sjk->bsj", sym[:, t, :], _PRED_SIGNS)
        cand = metric[:, _PRED] + bm
        choice = np.argmax(cand, axis=2)
        decisions[t] = choice
        metric = np.take_along_axis(cand, choice[:, :, None], axis=2)[:, :, 0]
        if t >= nbits:  # tail: only input 0 is allowed
            metric[:, STATES // 2 :] = -np.inf
    out = np.empty((batch, steps), dtype=np.uint8)
    state = np.zeros(batch, dtype=np.int64)
    rows = np.arange(batch)
    for t in range(steps - 1, -1, -1):
        out[:, t] = _PRED_INPUT[state]
        state = _PRED[state, decisions[t, rows, state]]
    return out[:, :nbits]
