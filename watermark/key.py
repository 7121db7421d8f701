"""The 256-bit watermark secret and the keyed pseudo-random function derived from it."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from watermark.errors import WatermarkError

if TYPE_CHECKING:
    import numpy as np

KEY_BYTES = 32


@dataclass(frozen=True)
class WatermarkKey:
    """A 256-bit secret. Everything the mark is made of is derived from it with HMAC-SHA256."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) != KEY_BYTES:
            raise WatermarkError(f"a watermark key is exactly {KEY_BYTES} bytes")

    def __repr__(self) -> str:
        return f"WatermarkKey(id={self.key_id})"

    @classmethod
    def generate(cls) -> WatermarkKey:
        """A fresh key from the operating system's cryptographic random source."""
        return cls(secrets.token_bytes(KEY_BYTES))

    @property
    def key_id(self) -> str:
        """A short public identifier of the key (not secret: a hash, not the key)."""
        return hashlib.sha256(b"provkit-watermark-key-id" + self.secret).hexdigest()[:12]

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write the raw 32-byte key to ``path`` with permissions 0600.

        An existing file is refused unless ``overwrite`` is true.
        """
        p = Path(path)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        try:
            fd = os.open(p, flags, 0o600)
        except FileExistsError:
            raise FileExistsError(f"key file already exists: {p}") from None
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, self.secret)
        finally:
            os.close(fd)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> WatermarkKey:
        """Read a key written by :meth:`save`; a file of any other length is refused."""
        p = Path(path)
        try:
            size = p.stat().st_size
        except FileNotFoundError:
            raise FileNotFoundError(f"key file not found: {p}") from None
        if size != KEY_BYTES:
            raise WatermarkError(
                f"not a watermark key file (expected {KEY_BYTES} bytes, got {size}): {p}"
            )
        return cls(p.read_bytes())

    def prf(self, label: str, nbytes: int) -> bytes:
        """``nbytes`` pseudo-random bytes for ``label``: HMAC-SHA256 in counter mode."""
        out = bytearray()
        counter = 0
        tag = label.encode()
        while len(out) < nbytes:
            out += hmac.new(
                self.secret, tag + b"\x00" + counter.to_bytes(4, "big"), hashlib.sha256
            ).digest()
            counter += 1
        return bytes(out[:nbytes])

    def prf_uint32(self, label: str, count: int) -> np.ndarray:
        """``count`` pseudo-random 32-bit unsigned integers for ``label``."""
        import numpy as np  # here, so that key handling alone (keygen) does not load numpy

        return np.frombuffer(self.prf(label, 4 * count), dtype=">u4").astype(np.uint32)
