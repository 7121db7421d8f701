"""Errors of the fingerprint package."""

from __future__ import annotations


class FingerprintError(ValueError):
    """Bad input to fingerprinting or the index (a one-line message)."""
