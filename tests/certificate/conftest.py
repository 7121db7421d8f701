"""Fixtures of the certificate tests: a signer, a generation record and action logs."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cert_testdata import CONTENT, at, full_actions

from provenance.certificate import Signer


@pytest.fixture
def signer() -> Signer:
    """A fresh issuer key."""
    return Signer.generate()


@pytest.fixture
def record() -> dict[str, Any]:
    """A generation record for CONTENT."""
    return {
        "generation_id": "42",
        "model": "ref-gen-1",
        "generated_at": at(3.5),
        "mark_id": "0123456789abcdef",
        "fingerprint_ref": "vpdq:42",
        "content_sha256": hashlib.sha256(CONTENT).hexdigest(),
    }


@pytest.fixture
def actions() -> list[dict[str, Any]]:
    """A log with every kind of action."""
    return full_actions()
