"""Errors of the fingerprint package."""

from __future__ import annotations


class FingerprintError(ValueError):
    """Bad input to fingerprinting or the index (a one-line message)."""


class DecodeLimitError(FingerprintError):
    """Decoding passed a cap given by the caller (media time or frame size).

    ``seconds`` is how much media time had been decoded when it stopped: a caller that capped
    a synchronous request can hand the file to a background job instead.
    """

    def __init__(self, message: str, seconds: float = 0.0) -> None:
        super().__init__(message)
        self.seconds = seconds
