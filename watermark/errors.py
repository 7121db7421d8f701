"""The watermark package's exceptions: :class:`WatermarkError`, and its subclass for a decode
that passed a caller's cap."""

from __future__ import annotations


class WatermarkError(ValueError):
    """Bad input to the watermark library (a one-line message)."""


class DecodeLimitError(WatermarkError):
    """A file decoded to more audio than the caller's cap (``max_seconds``) allows."""
