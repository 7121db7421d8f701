"""Exception types of the certificate subpackage (all are ``ValueError`` with one-line messages)."""

from __future__ import annotations


class CertificateError(ValueError):
    """A certificate request that cannot be served (bad input, unknown key, bad document)."""


class CertificateNotFound(CertificateError):
    """No certificate is stored under the id asked for."""


class EvidenceError(CertificateError):
    """An action log that is malformed, oversized, out of order or from the future."""


class RubricError(CertificateError):
    """A scoring profile that is unknown or malformed."""


class KeyFileError(CertificateError):
    """A signing key file that is missing, unreadable, malformed or too widely readable."""


class RecordStateError(CertificateError):
    """The generation record is not ``complete`` (e.g. left ``pending`` by a crash)."""


class AnchorError(CertificateError):
    """Anchoring a batch root on chain failed (the batch stays queued and is retried)."""


class ChainError(CertificateError):
    """The chain could not be reached or answered something unexpected."""
