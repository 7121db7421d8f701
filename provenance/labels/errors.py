"""Errors of the labels part (``ValueError`` subclasses: bad input, one-line reasons)."""

from __future__ import annotations


class LabelError(ValueError):
    """A label could not be written or read (unsupported format, malformed JSON...)."""
