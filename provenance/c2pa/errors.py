"""Errors of the C2PA part (``ValueError`` subclasses: bad input, one-line reasons)."""

from __future__ import annotations


class ManifestError(ValueError):
    """A manifest could not be built, signed or read (unsupported format, bad chain...)."""


class SigningChainError(ManifestError):
    """The signing certificate chain or key is missing, unreadable or unusable."""
