"""Reading and validating manifests: trusted, valid but untrusted, or invalid (and why).

The state is folded from c2pa-rs's validation codes so that every source reads the same way:

* ``trusted``: no failure at all (the chain ends in a configured trust anchor);
* ``valid_untrusted``: the only failure is ``signingCredential.untrusted`` (a development
  chain, or a chain whose CA is on no configured trust list);
* ``invalid``: any other failure, each named (``assertion.dataHash.mismatch`` when a content
  byte changed, ``claimSignature.mismatch`` when the claim was altered...);
* ``absent``: no manifest.

A manifest store read **alone** (the stored copy returned when a file's embedded manifest was
stripped) cannot match the content its hard binding covers, so :func:`read_store` leaves the
hard-binding mismatch out and says so (``hard_binding: "not_checked"``); the signature, the chain
and every assertion's hash are still checked.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import c2pa

from provenance.c2pa.errors import ManifestError
from provenance.c2pa.manifest import CERTIFICATE_ASSERTION, GENERATION_ASSERTION, SOFT_BINDING
from provenance.c2pa.sign import EMBEDDED

State = Literal["absent", "trusted", "valid_untrusted", "invalid"]
UNTRUSTED = "signingCredential.untrusted"
#: hard-binding mismatch codes: expected when a store is checked without its content
HARD_BINDING_MISMATCH = frozenset(
    {"assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch"}
)
SIDECAR_SUFFIX = ".c2pa"


@dataclass(frozen=True)
class Failure:
    """One failed validation check: c2pa's code and its explanation."""

    code: str
    explanation: str = ""


@dataclass(frozen=True)
class ManifestCheck:
    """What reading a file's (or a store's) active manifest found."""

    state: State
    source: Literal["embedded", "sidecar", "store", "none"] = "none"
    manifest_id: str | None = None
    failures: tuple[Failure, ...] = ()
    signer: dict[str, Any] = field(default_factory=dict)
    assertions: dict[str, Any] = field(default_factory=dict)
    hard_binding: Literal["checked", "not_checked"] = "checked"

    @property
    def generation(self) -> dict[str, Any] | None:
        """provkit's ``org.provkit.generation`` assertion, when present."""
        g = self.assertions.get(GENERATION_ASSERTION)
        return g if isinstance(g, dict) else None

    @property
    def soft_bindings(self) -> list[dict[str, Any]]:
        """Every ``c2pa.soft-binding`` assertion's data."""
        sb = self.assertions.get(SOFT_BINDING, [])
        return [s for s in (sb if isinstance(sb, list) else [sb]) if isinstance(s, dict)]

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (API, CLI and verify evidence share it)."""
        actions = self.assertions.get("c2pa.actions.v2") or self.assertions.get("c2pa.actions")
        return {
            "state": self.state,
            "source": self.source,
            "manifest_id": self.manifest_id,
            "failures": [{"code": f.code, "explanation": f.explanation} for f in self.failures],
            "hard_binding": self.hard_binding,
            "signer": self.signer,
            "actions": (actions or {}).get("actions", []) if isinstance(actions, dict) else [],
            "soft_bindings": [
                {"alg": s.get("alg"), "blocks": len(s.get("blocks", []))}
                for s in self.soft_bindings
            ],
            "generation": self.generation,
            "certificate": self.assertions.get(CERTIFICATE_ASSERTION),
        }


class ManifestReader:
    """Reads manifests under one trust configuration (built once, then :meth:`read`)."""

    def __init__(self, trust_anchors_pem: str | None = None) -> None:
        self.trusting = bool(trust_anchors_pem)
        cfg: dict[str, Any] = {"verify": {"verify_trust": True}}
        if trust_anchors_pem:
            cfg["trust"] = {"trust_anchors": trust_anchors_pem}
        self._context = c2pa.Context.from_dict(cfg)

    def read(self, path: Path) -> ManifestCheck:
        """The manifest embedded in ``path``, else in a sidecar ``<path>.c2pa``."""
        sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
        try:
            reader = c2pa.Reader.try_create(str(path), None, None, self._context)
        except c2pa.C2paError as exc:
            if path.suffix.lower() in EMBEDDED:
                return _broken(exc, "embedded")
            reader = None  # a format c2pa cannot read: only a sidecar can say more
        if reader is not None:
            with reader:
                return _check(reader, "embedded")
        if sidecar.is_file() and path.suffix.lower() in EMBEDDED:
            try:
                with path.open("rb") as f:
                    r = c2pa.Reader(
                        EMBEDDED[path.suffix.lower()], f, sidecar.read_bytes(), self._context
                    )
            except c2pa.C2paError as exc:
                return _broken(exc, "sidecar")
            with r:
                return _check(r, "sidecar")
        return ManifestCheck("absent")

    def read_store(self, store: bytes) -> ManifestCheck:
        """A manifest store on its own (see the module docstring)."""
        try:
            r = c2pa.Reader("application/c2pa", io.BytesIO(store), None, self._context)
        except c2pa.C2paError as exc:
            raise ManifestError(f"not a readable manifest store: {exc}") from None
        with r:
            return _check(r, "store", ignore=HARD_BINDING_MISMATCH)


def _broken(exc: Exception, source: Literal["embedded", "sidecar"]) -> ManifestCheck:
    """A manifest is there but cannot be parsed at all: invalid, with the library's reason."""
    return ManifestCheck("invalid", source, failures=(Failure("manifest.unreadable", str(exc)),))


def _check(
    reader: c2pa.Reader,
    source: Literal["embedded", "sidecar", "store"],
    ignore: frozenset[str] = frozenset(),
) -> ManifestCheck:
    active = reader.get_active_manifest() or {}
    results = reader.get_validation_results() or {}
    raw = (results.get("activeManifest") or {}).get("failure") or []
    failures = tuple(
        Failure(str(f.get("code")), str(f.get("explanation", "")))
        for f in raw
        if f.get("code") not in ignore
    )
    if not results:  # older stores report a flat list
        status = json.loads(reader.json()).get("validation_status") or []
        failures = tuple(Failure(str(s.get("code")), str(s.get("explanation", ""))) for s in status)
    codes = {f.code for f in failures}
    state: State
    if codes - {UNTRUSTED}:
        state = "invalid"
    elif UNTRUSTED in codes:
        state = "valid_untrusted"
    else:
        state = "trusted"
    assertions: dict[str, Any] = {}
    for a in active.get("assertions", []):
        label, data = a.get("label"), a.get("data")
        if label == SOFT_BINDING:
            assertions.setdefault(label, []).append(data)
        elif isinstance(label, str):
            assertions[label] = data
    return ManifestCheck(
        state,
        source,
        active.get("label"),
        failures,
        dict(active.get("signature_info") or {}),
        assertions,
        "not_checked" if ignore else "checked",
    )
