"""The implicit AI-content label of GB 45438-2025 Annex E: one JSON object named ``AIGC``.

Fields (all strings, in this order): ``Label`` ("1" AI-generated, "2" possibly, "3" suspected),
``ContentProducer`` (who generated it), ``ProduceID`` (the producer's id for this content: the
generation record's id), ``ReservedCode1`` (the producer's integrity field), ``ContentPropagator``,
``PropagateID`` and ``ReservedCode2`` (the same, for a platform that later spreads the content).

provkit fills ``ReservedCode1`` with ``hmac-sha256:`` and the base64url HMAC-SHA256, under the
deployment's label key, of the canonical JSON of ``Label``, ``ContentProducer`` and ``ProduceID``
(keys sorted, no spaces, UTF-8). The propagator fields are left out of the MAC because the
standard lets a platform fill them later. Anyone can read the label; only the deployment checks
it: a label whose fields were edited, or copied from another generation with its id changed,
checks as ``tampered``. The MAC binds the label's fields, not the media (that is the C2PA hard
binding's job).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

from provenance.labels.errors import LabelError

FIELDS = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)
MAC_PREFIX = "hmac-sha256:"
LABEL_MEANING = {"1": "AI-generated", "2": "possibly AI-generated", "3": "suspected AI-generated"}
Integrity = Literal["valid", "tampered", "unsigned", "unchecked"]


@dataclass(frozen=True)
class AigcLabel:
    """One ``AIGC`` label (field names as the standard spells them)."""

    Label: str
    ContentProducer: str
    ProduceID: str
    ReservedCode1: str = ""
    ContentPropagator: str = ""
    PropagateID: str = ""
    ReservedCode2: str = ""

    def __post_init__(self) -> None:
        if self.Label not in LABEL_MEANING:
            raise LabelError(f"AIGC Label must be 1, 2 or 3, got {self.Label!r}")

    def to_json(self) -> str:
        """The label as written into files: compact JSON, fields in the standard's order."""
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> AigcLabel:
        """Parse a label; raises :class:`LabelError` when it is not an AIGC object.

        Accepts the object itself or ``{"AIGC": {...}}`` (both are seen in practice)."""
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            raise LabelError("the AIGC label is not JSON") from None
        if isinstance(obj, dict) and isinstance(obj.get("AIGC"), dict):
            obj = obj["AIGC"]
        if not isinstance(obj, dict) or "Label" not in obj:
            raise LabelError("the AIGC label has no Label field")
        return cls(**{k: str(obj.get(k, "")) for k in FIELDS})

    def mac_input(self) -> bytes:
        """The bytes the ``ReservedCode1`` MAC covers."""
        core = {
            "ContentProducer": self.ContentProducer,
            "Label": self.Label,
            "ProduceID": self.ProduceID,
        }
        return json.dumps(core, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    def sealed(self, key: bytes) -> AigcLabel:
        """This label with ``ReservedCode1`` set to its MAC under ``key``."""
        mac = hmac.new(key, self.mac_input(), hashlib.sha256).digest()
        code = MAC_PREFIX + base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
        return AigcLabel(**{**asdict(self), "ReservedCode1": code})

    def integrity(self, key: bytes | None) -> Integrity:
        """``valid`` (the MAC matches), ``tampered`` (it does not), ``unsigned`` (no provkit MAC
        in ``ReservedCode1``) or ``unchecked`` (no key to check it with)."""
        if not self.ReservedCode1.startswith(MAC_PREFIX):
            return "unsigned"
        if key is None:
            return "unchecked"
        expected = self.sealed(key).ReservedCode1
        return "valid" if hmac.compare_digest(expected, self.ReservedCode1) else "tampered"

    def view(self) -> dict[str, Any]:
        """The JSON view: the fields and what ``Label`` means."""
        return {**asdict(self), "meaning": LABEL_MEANING[self.Label]}
