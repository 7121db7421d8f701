"""The manifest provkit signs into each generated file.

One active manifest per file, with these assertions:

* ``c2pa.actions.v2``: one ``c2pa.created`` action, digital source type
  ``trainedAlgorithmicMedia`` (IPTC), the generator as ``softwareAgent``;
* ``c2pa.soft-binding``: one per algorithm that bound the content (the audio watermark's
  ``mark_id`` per marked span, PDQ hashes of key frames with their spans; see
  :mod:`provenance.c2pa.algorithms`);
* ``org.provkit.generation``: the generation record's id and mark id, the model and the file's
  name, so a resolver (and provkit's verify) can go from the manifest to the record;
* ``org.provkit.certificate``: the human-contribution certificate's id and SHA-256, when one
  was minted.

The manifest's label is ``urn:c2pa:<uuid>``, where the UUID is derived from the mark id and the
file's name (:func:`manifest_id`): the resolution API finds the stored manifest from its id
without a table.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from provenance.c2pa.algorithms import PDQ_ALG, WATERMARK_ALG, encode_value
from provenance.c2pa.errors import ManifestError

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
GENERATION_ASSERTION = "org.provkit.generation"
CERTIFICATE_ASSERTION = "org.provkit.certificate"
SOFT_BINDING = "c2pa.soft-binding"

_ID = re.compile(
    r"^urn:c2pa:([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$"
)


def manifest_id(mark_hex: str, name: str) -> str:
    """The label of the manifest of file ``name`` of the generation with ``mark_hex``.

    A version-4-shaped UUID (c2pa-rs checks the version and variant nibbles) holding the mark id's
    16 hex digits around those nibbles, then a hash of the name:
    ``mmmmmmmm-mmmm-4mmm-8mhh-hhhhhhhhhhhh``."""
    if len(mark_hex) != 16:
        raise ManifestError("a mark id is 16 hex digits")
    h = hashlib.sha256(name.encode("utf-8")).hexdigest()
    m = mark_hex.lower()
    return f"urn:c2pa:{m[:8]}-{m[8:12]}-4{m[12:15]}-8{m[15]}{h[:2]}-{h[2:14]}"


def mark_of_manifest_id(mid: str) -> str | None:
    """The mark id (16 hex digits) inside a provkit manifest id; None for any other id."""
    m = _ID.match(mid.lower())
    if m is None or m.group(3)[0] != "4" or m.group(4)[0] != "8":
        return None
    return m.group(1) + m.group(2) + m.group(3)[1:] + m.group(4)[1]


@dataclass(frozen=True)
class SoftBindingBlock:
    """One block of a soft binding: a time span in milliseconds and the raw value."""

    start_ms: int
    end_ms: int
    value: bytes


@dataclass(frozen=True)
class GenerationFacts:
    """What the manifest says about one generated file (``generation_id`` and ``mark_hex`` are
    None for a file signed outside a generation: no generation assertion, a random label)."""

    generation_id: int | None
    mark_hex: str | None
    model: str
    file_name: str
    generator_name: str = "provkit"
    generator_version: str = "0.1.0"
    created_at: str | None = None
    watermark_spans: tuple[tuple[int, int], ...] = ()
    keyframes: tuple[SoftBindingBlock, ...] = ()
    certificate: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def soft_binding(alg: str, blocks: list[SoftBindingBlock]) -> dict[str, Any]:
    """A ``c2pa.soft-binding`` assertion (spec §18.10) with time-span scopes."""
    return {
        "label": SOFT_BINDING,
        "data": {
            "alg": alg,
            "blocks": [
                {
                    "scope": {"timespan": {"start": b.start_ms, "end": b.end_ms}},
                    "value": encode_value(b.value),
                }
                for b in blocks
            ],
            "pad": "",
        },
    }


def build_manifest(facts: GenerationFacts) -> dict[str, Any]:
    """The manifest definition (c2pa-python's JSON) for one generated file."""
    agent = {"name": facts.generator_name, "version": facts.generator_version}
    action: dict[str, Any] = {
        "action": "c2pa.created",
        "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
        "softwareAgent": agent,
        "parameters": {"model": facts.model},
    }
    if facts.created_at:
        action["when"] = facts.created_at
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions.v2", "data": {"actions": [action]}},
    ]
    if facts.mark_hex is not None and facts.watermark_spans:
        payload = int(facts.mark_hex, 16).to_bytes(8, "big")
        blocks = [SoftBindingBlock(s, e, payload) for s, e in facts.watermark_spans]
        assertions.append(soft_binding(WATERMARK_ALG, blocks))
    if facts.keyframes:
        assertions.append(soft_binding(PDQ_ALG, list(facts.keyframes)))
    if facts.generation_id is not None and facts.mark_hex is not None:
        generation = {
            "generation_id": facts.generation_id,
            "mark_id": facts.mark_hex,
            "model": facts.model,
            "file": facts.file_name,
            **facts.extra,
        }
        assertions.append({"label": GENERATION_ASSERTION, "data": generation})
    if facts.certificate:
        assertions.append({"label": CERTIFICATE_ASSERTION, "data": dict(facts.certificate)})
    label = (
        manifest_id(facts.mark_hex, facts.file_name)
        if facts.mark_hex is not None
        else f"urn:c2pa:{uuid.uuid4()}"
    )
    return {
        "label": label,
        "title": facts.file_name,
        "claim_generator_info": [agent],
        "assertions": assertions,
    }
