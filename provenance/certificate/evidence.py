"""The evidence model: a log of timestamped human actions around one generation.

Each action names its kind, when it happened, what it touched (SHA-256 hashes) and kind-specific
details. The log is validated strictly: unknown kinds or fields, duplicate ids, timestamps out of
order or in the future and oversized logs are rejected with one-line :class:`EvidenceError`s.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from provenance.certificate.canonical import canonicalize, loads
from provenance.certificate.errors import EvidenceError

#: Largest action log accepted, in actions and in bytes of JSON.
MAX_ACTIONS = 5_000
MAX_LOG_BYTES = 2 * 1024 * 1024
#: Allowed clock skew for "not in the future".
FUTURE_SKEW = timedelta(minutes=5)

_HEX64 = r"^[0-9a-f]{64}$"
_SCALARS = (str, int, float, bool, type(None))


class ActionKind(StrEnum):
    """Kinds of logged human actions."""

    PROMPT_EDIT = "prompt_edit"
    LAYER_SPEC = "layer_spec"
    PARAMETER_CHANGE = "parameter_change"
    SELECTION = "selection"
    ARRANGEMENT = "arrangement"
    SEQUENCE_EDIT = "sequence_edit"
    POST_EDIT = "post_edit"
    SEMANTIC_FIX = "semantic_fix"
    HUMAN_ASSET = "human_asset"
    MIX = "mix"


ASSET_TYPES = frozenset({"lyrics", "melody", "recording", "midi", "image", "text", "video"})


class Action(BaseModel):
    """One logged human action.

    Kind-specific requirements (``details`` keys):

    * ``prompt_edit``: ``text`` (the prompt) or ``length`` (its length in characters).
    * ``layer_spec``: ``layers``, a non-empty list of layer names (e.g. ``["vocals", "drums"]``).
    * ``parameter_change``: ``name`` and ``value``.
    * ``selection``: ``chosen`` (non-empty list of candidate ids) and optional ``rejected``.
    * ``arrangement`` / ``sequence_edit``: ``operations``, a positive count of edit operations.
    * ``post_edit`` / ``mix``: ``before_sha256`` and ``after_sha256`` that differ; ``operation``.
    * ``semantic_fix``: ``description`` of what was corrected.
    * ``human_asset``: ``asset_type`` (lyrics, melody, recording, midi, image, text, video) and
      ``refs`` with the asset's SHA-256; optional ``perceptible`` (a measured bool: the asset is
      perceptible in the output) and ``similarity`` in [0, 1].
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")
    kind: ActionKind
    at: AwareDatetime
    details: dict[str, Any] = Field(default_factory=dict)
    refs: list[Annotated[str, Field(pattern=_HEX64)]] = Field(default_factory=list, max_length=64)
    before_sha256: str | None = Field(default=None, pattern=_HEX64)
    after_sha256: str | None = Field(default=None, pattern=_HEX64)

    @field_validator("details")
    @classmethod
    def _details_small(cls, v: dict[str, Any]) -> dict[str, Any]:
        if len(v) <= 32 and all(
            type(x) in _SCALARS and (type(x) is not str or len(x) <= 256) for x in v.values()
        ):
            return v  # 32 small scalars stay far below the limit
        try:
            size = len(json.dumps(v, ensure_ascii=False))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"details must be plain JSON ({exc})") from None
        if size > 16_384:
            raise ValueError("details larger than 16 KiB")
        return v

    @model_validator(mode="after")
    def _kind_rules(self) -> Action:
        d, k = self.details, self.kind
        if k is ActionKind.PROMPT_EDIT:
            text, length = d.get("text"), d.get("length")
            if not isinstance(text, str) and not (isinstance(length, int) and length >= 0):
                raise ValueError("prompt_edit needs details.text or details.length")
        elif k is ActionKind.LAYER_SPEC:
            layers = d.get("layers")
            if not isinstance(layers, list) or not layers:
                raise ValueError("layer_spec needs a non-empty details.layers list")
            if not all(isinstance(x, str) and x for x in layers):
                raise ValueError("layer_spec layers must be non-empty strings")
        elif k is ActionKind.PARAMETER_CHANGE:
            if not isinstance(d.get("name"), str) or "value" not in d:
                raise ValueError("parameter_change needs details.name and details.value")
        elif k is ActionKind.SELECTION:
            chosen = d.get("chosen")
            if not isinstance(chosen, list) or not chosen:
                raise ValueError("selection needs a non-empty details.chosen list")
            if not isinstance(d.get("rejected", []), list):
                raise ValueError("selection details.rejected must be a list")
        elif k in (ActionKind.ARRANGEMENT, ActionKind.SEQUENCE_EDIT):
            ops = d.get("operations")
            if not isinstance(ops, int) or isinstance(ops, bool) or ops < 1:
                raise ValueError(f"{k.value} needs details.operations >= 1")
        elif k in (ActionKind.POST_EDIT, ActionKind.MIX):
            if self.before_sha256 is None or self.after_sha256 is None:
                raise ValueError(f"{k.value} needs before_sha256 and after_sha256")
            if self.before_sha256 == self.after_sha256:
                raise ValueError(f"{k.value} before_sha256 equals after_sha256 (nothing changed)")
        elif k is ActionKind.SEMANTIC_FIX:
            if not isinstance(d.get("description"), str) or not d["description"].strip():
                raise ValueError("semantic_fix needs details.description")
        elif k is ActionKind.HUMAN_ASSET:
            if d.get("asset_type") not in ASSET_TYPES:
                raise ValueError(
                    f"human_asset details.asset_type must be one of {sorted(ASSET_TYPES)}"
                )
            if not self.refs:
                raise ValueError("human_asset needs refs with the asset's SHA-256")
            p = d.get("perceptible")
            if p is not None and not isinstance(p, bool):
                raise ValueError("human_asset details.perceptible must be a boolean")
            s = d.get("similarity")
            if s is not None and not (
                isinstance(s, int | float) and not isinstance(s, bool) and 0 <= s <= 1
            ):
                raise ValueError("human_asset details.similarity must be in [0, 1]")
        return self

    @property
    def prompt_chars(self) -> int:
        """Prompt length in characters (``prompt_edit`` only; 0 otherwise)."""
        if self.kind is not ActionKind.PROMPT_EDIT:
            return 0
        text = self.details.get("text")
        return len(text) if isinstance(text, str) else int(self.details.get("length", 0))


class ActionLog(BaseModel):
    """An ordered action log (oldest first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    actions: list[Action] = Field(max_length=MAX_ACTIONS)

    @model_validator(mode="after")
    def _order(self) -> ActionLog:
        seen: set[str] = set()
        prev: datetime | None = None
        for a in self.actions:
            if a.id in seen:
                raise ValueError(f"duplicate action id {a.id!r}")
            seen.add(a.id)
            if prev is not None and a.at < prev:
                raise ValueError(f"action {a.id!r} is out of order (timestamps must not decrease)")
            prev = a.at
        return self

    def check_not_future(self, now: datetime | None = None) -> None:
        """Raise :class:`EvidenceError` when an action is later than ``now`` (plus 5 min skew)."""
        limit = (now or datetime.now(UTC)) + FUTURE_SKEW
        for a in self.actions:
            if a.at > limit:
                raise EvidenceError(
                    f"action {a.id!r} is timestamped in the future ({a.at.isoformat()})"
                )

    _source_digest: str | None = PrivateAttr(default=None)

    def digest(self) -> str:
        """SHA-256 (hex) of the RFC 8785 form of the action list: the certificate commits to it.

        For a log parsed from JSON this is the list exactly as submitted (so anyone holding the
        ACTIONS.json can recompute it); for a log built in code, its JSON dump.
        """
        if self._source_digest is not None:
            return self._source_digest
        return hashlib.sha256(canonicalize(self.model_dump(mode="json")["actions"])).hexdigest()


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def parse_actions(data: Any, *, now: datetime | None = None) -> ActionLog:
    """Validate an action log given as JSON text/bytes, a list of actions or ``{"actions": [...]}``.

    Raises :class:`EvidenceError` with one line naming the first problem.
    """
    if isinstance(data, ActionLog):
        log = data
    else:
        if isinstance(data, bytes | str):
            if len(data) > MAX_LOG_BYTES:
                raise EvidenceError(f"action log larger than {MAX_LOG_BYTES} bytes")
            try:
                data = loads(data)
            except (ValueError, RecursionError) as exc:
                raise EvidenceError(f"action log is not valid JSON: {exc}") from None
        if isinstance(data, list):
            if len(data) > MAX_ACTIONS:
                raise EvidenceError(f"action log has more than {MAX_ACTIONS} actions")
            data = {"actions": data}
        if not isinstance(data, dict):
            raise EvidenceError("action log must be a list of actions or {'actions': [...]}")
        acts = data.get("actions")
        if isinstance(acts, list) and len(acts) > MAX_ACTIONS:
            raise EvidenceError(f"action log has more than {MAX_ACTIONS} actions")
        try:
            log = ActionLog.model_validate(data)
        except ValidationError as exc:
            raise EvidenceError(f"invalid action log: {_first_error(exc)}") from None
        try:
            log._source_digest = hashlib.sha256(canonicalize(data["actions"])).hexdigest()
        except ValueError as exc:
            raise EvidenceError(f"action log has no canonical JSON form: {exc}") from None
    log.check_not_future(now)
    return log
