"""provkit's soft-binding algorithms: identifiers and the exact encoding of their values.

C2PA's ``c2pa.soft-binding`` assertion names an algorithm (``alg``) and lists blocks, each a
scope (here a time span in milliseconds) and a value. The official soft-binding algorithm list
has no entry for provkit's keyed audio watermark nor for PDQ frame hashes, so provkit uses its
own reverse-DNS identifiers, defined exactly in ``docs/c2pa.md`` so that they can be registered:

* :data:`WATERMARK_ALG` (``org.provkit.audio-wm.1``, a watermark): the value is the 8-byte
  big-endian ``mark_id`` the keyed two-layer audio watermark carries; one block per marked time
  span. Decoding needs the platform's watermark key, so only the platform's resolver decodes it.
* :data:`PDQ_ALG` (``org.provkit.pdq.1``, a fingerprint): the value is the 32-byte PDQ hash
  (Meta's PDQ, 256 bits, most significant bit first as in ``to_hex``) of one key frame; the
  block's time span runs from that frame to the next key frame (or the end).

JSON manifests carry values as standard base64 (c2pa-rs serialises the CBOR byte string so).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Literal

from provenance.c2pa.errors import ManifestError

WATERMARK_ALG = "org.provkit.audio-wm.1"
PDQ_ALG = "org.provkit.pdq.1"

_B64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")

AlgorithmType = Literal["watermark", "fingerprint"]


@dataclass(frozen=True)
class Algorithm:
    """One soft-binding algorithm: its id, kind, and the length of its values in bytes."""

    alg: str
    type: AlgorithmType
    value_bytes: int
    decoded_media_types: tuple[str, ...]


ALGORITHMS: dict[str, Algorithm] = {
    WATERMARK_ALG: Algorithm(WATERMARK_ALG, "watermark", 8, ("audio", "video")),
    PDQ_ALG: Algorithm(PDQ_ALG, "fingerprint", 32, ("video",)),
}


def encode_value(raw: bytes) -> str:
    """A soft-binding value as the manifest's JSON carries it (standard base64)."""
    return base64.b64encode(raw).decode("ascii")


def decode_value(alg: str, value: str) -> bytes:
    """The bytes of a base64 ``value`` for ``alg``; raises :class:`ManifestError` when the
    algorithm is unknown or the value is not base64 of the algorithm's length."""
    spec = ALGORITHMS.get(alg)
    if spec is None:
        raise ManifestError(f"unsupported soft-binding algorithm {alg!r}")
    if _B64.fullmatch(value):
        text = value.rstrip("=")
        std = text.replace("-", "+").replace("_", "/")  # base64url (common in query strings) too
        try:
            raw = base64.b64decode(std + "=" * (-len(std) % 4), validate=True)
        except binascii.Error:
            raise ManifestError("the value is not base64") from None
    else:
        raise ManifestError("the value is not base64")
    if len(raw) != spec.value_bytes:
        raise ManifestError(f"{alg} values are {spec.value_bytes} bytes, got {len(raw)}")
    return raw
