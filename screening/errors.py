"""Exceptions raised by the screening package (all are ``ValueError``s with one-line messages)."""

from __future__ import annotations

__all__ = ["BadPrompt", "PolicyError", "RegistryError", "ScreeningError"]


class ScreeningError(ValueError):
    """Base class of the screening errors."""


class BadPrompt(ScreeningError):
    """The prompt cannot be screened: empty, not text, binary junk, or an unknown tier."""


class RegistryError(ScreeningError):
    """An identity or consent registry file is malformed."""


class PolicyError(ScreeningError):
    """The policy rules file is malformed."""
