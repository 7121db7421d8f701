"""The keyed frame: which chips are sync and which carry coded payload bits.

One frame lasts ``PERIOD_S`` seconds and repeats for the whole track. It holds ``CHIPS`` complex
(QPSK) chips at ``CHIP_RATE`` chips per second, band-limited to ``CARRIER_HZ ± CHIP_RATE / 2``:
``SYNC_CHIPS`` of them are known (keyed) sync chips, the others carry the 306 bits of the
convolutionally coded payload + CRC-32, three chips per coded bit, spread over the whole frame by a
keyed permutation. Every chip value and the layout come from HMAC-SHA256 of the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from watermark.ecc import RATE, bits_to_bytes, bytes_to_bits, conv_encode, crc32, viterbi_decode
from watermark.errors import WatermarkError
from watermark.key import WatermarkKey

CARRIER_HZ = 20400
CHIP_RATE = 600
PERIOD_S = 2
CHIPS = CHIP_RATE * PERIOD_S  # 1200
PAYLOAD_BYTES = 8
MESSAGE_BITS = 8 * (PAYLOAD_BYTES + 4)  # payload + CRC-32 = 96
CODED_BITS = RATE * (MESSAGE_BITS + 6)  # 306
CHIPS_PER_BIT = 3
DATA_CHIPS = CODED_BITS * CHIPS_PER_BIT  # 918
SYNC_CHIPS = CHIPS - DATA_CHIPS  # 282
BAND_HZ = (CARRIER_HZ - CHIP_RATE // 2, CARRIER_HZ + CHIP_RATE // 2)  # (20100, 20700)


@dataclass(frozen=True)
class FrameLayout:
    """Keyed chip layout of one frame (no payload in it)."""

    pn: np.ndarray  # (CHIPS,) complex unit-magnitude QPSK chips
    sync_pos: np.ndarray  # (SYNC_CHIPS,) chip indices of sync chips
    data_pos: np.ndarray  # (DATA_CHIPS,) chip indices of data chips
    data_bit: np.ndarray  # (DATA_CHIPS,) coded-bit index carried by each data chip


@lru_cache(maxsize=16)
def _layout_cached(secret: bytes) -> FrameLayout:
    key = WatermarkKey(secret)
    quad = np.frombuffer(key.prf("pn-chips", CHIPS), dtype=np.uint8) & 3
    pn = np.exp(1j * (np.pi / 4 + np.pi / 2 * quad.astype(np.float64)))
    order = np.argsort(key.prf_uint32("chip-layout", CHIPS), kind="stable")
    sync_pos = np.sort(order[:SYNC_CHIPS])
    data_pos = order[SYNC_CHIPS:]
    data_bit = np.arange(DATA_CHIPS) % CODED_BITS
    for a in (pn, sync_pos, data_pos, data_bit):
        a.setflags(write=False)
    return FrameLayout(pn=pn, sync_pos=sync_pos, data_pos=data_pos, data_bit=data_bit)


def frame_layout(key: WatermarkKey) -> FrameLayout:
    """The keyed layout for ``key`` (cached)."""
    return _layout_cached(key.secret)


def check_payload(payload: bytes) -> bytes:
    """Return ``payload`` if it is exactly 8 bytes, else raise :class:`WatermarkError`."""
    if not isinstance(payload, (bytes, bytearray)) or len(payload) != PAYLOAD_BYTES:
        raise WatermarkError(f"payload must be exactly {PAYLOAD_BYTES} bytes (a 64-bit mark id)")
    return bytes(payload)


def coded_bits(payload: bytes) -> np.ndarray:
    """The 306 coded bits (0/1) for ``payload``: conv-encoded payload + CRC-32."""
    payload = check_payload(payload)
    return conv_encode(bytes_to_bits(payload + crc32(payload)))


def decode_payloads(soft: np.ndarray) -> list[bytes | None]:
    """The inverse of :func:`coded_bits` for soft decisions ``(n, CODED_BITS)``: each row's
    payload, or None where the CRC-32 does not check."""
    out: list[bytes | None] = []
    for row in viterbi_decode(soft, MESSAGE_BITS):
        msg = bits_to_bytes(row)
        pay, crc = msg[:PAYLOAD_BYTES], msg[PAYLOAD_BYTES:]
        out.append(pay if crc32(pay) == crc else None)
    return out


def frame_chips(key: WatermarkKey, payload: bytes) -> np.ndarray:
    """The complex chips of one frame carrying ``payload``."""
    lay = frame_layout(key)
    chips = lay.pn.copy()
    signs = 1.0 - 2.0 * coded_bits(payload).astype(np.float64)
    chips[lay.data_pos] *= signs[lay.data_bit]
    return chips
