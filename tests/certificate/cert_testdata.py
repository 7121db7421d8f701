"""Shared data of the certificate tests (importable because conftest puts this folder on sys.path)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CONTENT = b"RIFF\x00\x00\x00\x00WAVE: a tiny stand-in for a generated track"


def h(text: str) -> str:
    """SHA-256 hex of a label (test hashes)."""
    return hashlib.sha256(text.encode()).hexdigest()


def at(minutes: float) -> str:
    """An ISO timestamp ``minutes`` after T0."""
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def full_actions() -> list[dict[str, Any]]:
    """A log with one action of every kind."""
    return [
        {
            "id": "p1",
            "kind": "prompt_edit",
            "at": at(0),
            "details": {"text": "a slow ballad " * 10},
        },
        {"id": "l1", "kind": "layer_spec", "at": at(1), "details": {"layers": ["vocals", "piano"]}},
        {
            "id": "k1",
            "kind": "parameter_change",
            "at": at(2),
            "details": {"name": "cfg", "value": 3},
        },
        {
            "id": "h1",
            "kind": "human_asset",
            "at": at(3),
            "refs": [h("lyrics")],
            "details": {"asset_type": "lyrics", "perceptible": True, "similarity": 0.93},
        },
        {
            "id": "s1",
            "kind": "selection",
            "at": at(4),
            "details": {"chosen": ["take2"], "rejected": ["take1", "take3"]},
        },
        {"id": "r1", "kind": "arrangement", "at": at(5), "details": {"operations": 4}},
        {
            "id": "e1",
            "kind": "post_edit",
            "at": at(6),
            "before_sha256": h("mix0"),
            "after_sha256": h("mix1"),
            "details": {"operation": "eq"},
        },
        {
            "id": "f1",
            "kind": "semantic_fix",
            "at": at(7),
            "details": {"description": "fixed line 3"},
        },
    ]


def by_hand_script() -> str:
    """The by-hand verifier published in docs/certificate.md (the block after its marker line)."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "certificate.md").read_text()
    start = doc.index("# by-hand verifier")
    return doc[start : doc.index("```", start)]
