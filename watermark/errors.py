"""The one exception type of the watermark package."""

from __future__ import annotations


class WatermarkError(ValueError):
    """Bad input to the watermark library (a one-line message)."""
