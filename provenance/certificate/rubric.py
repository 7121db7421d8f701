"""Contribution scoring from evidence, driven by versioned rubric files (``rubrics/*.yaml``).

A rubric lists factors. Each factor matches actions by kind and by conditions on derived features
(``prompt_chars``, ``layers``, ``candidates``, ``changed``, ``perceptible``, ``asset_type``,
``operations``, ``similarity``), and earns ``points`` once or per matching action up to ``max``. The
total is capped at the rubric's ``cap`` (< 1.0). Each earned factor reports its criterion, the
evidence ids it rests on, its points and a one-line rationale; factors with ``authored`` text add a
line to the draft registration statement.
"""

from __future__ import annotations

import hashlib
import operator
import string
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from provenance.certificate.errors import RubricError
from provenance.certificate.evidence import Action, ActionKind, ActionLog

FEATURES = frozenset(
    {
        "kind",
        "prompt_chars",
        "layers",
        "candidates",
        "changed",
        "perceptible",
        "asset_type",
        "operations",
        "similarity",
    }
)
_OPS = frozenset({"eq", "ne", "gt", "ge", "lt", "le", "in"})


PLACEHOLDERS = frozenset(
    {
        "n",
        "ids",
        "asset_types",
        "operations",
        "max_prompt_chars",
        "layer_count",
        "model",
        "generation_id",
    }
)


def _check_template(text: str, allowed: frozenset[str]) -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(f"bad template {text!r}: {exc}") from None
    bad = names - allowed
    if bad:
        raise ValueError(f"unknown placeholder(s) {sorted(bad)} (known: {sorted(allowed)})")
    return text


class Factor(BaseModel):
    """One scoring factor of a rubric file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]{1,48}$")
    criterion: str = Field(min_length=1, max_length=300)
    kinds: list[ActionKind] = Field(min_length=1)
    where: dict[str, Any] = Field(default_factory=dict)
    mode: Literal["once", "each"] = "once"
    points: float = Field(ge=0, le=1)
    max: float | None = Field(default=None, ge=0, le=1)
    rationale: str = Field(min_length=1, max_length=300)
    authored: str | None = None

    @field_validator("rationale", "authored")
    @classmethod
    def _templates(cls, v: str | None) -> str | None:
        return None if v is None else _check_template(v, PLACEHOLDERS)

    @field_validator("where")
    @classmethod
    def _where(cls, v: dict[str, Any]) -> dict[str, Any]:
        for feat, cond in v.items():
            if feat not in FEATURES:
                raise ValueError(f"unknown feature {feat!r} (known: {sorted(FEATURES)})")
            if isinstance(cond, dict):
                bad = set(cond) - _OPS
                if bad:
                    raise ValueError(f"unknown operator(s) {sorted(bad)} for {feat!r}")
        return v


class Rubric(BaseModel):
    """A versioned scoring profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    version: str = Field(min_length=1, max_length=32)
    title: str
    cap: float = Field(gt=0, lt=1)
    exclude: str
    factors: list[Factor] = Field(min_length=1)
    sha256: str = ""

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, v: str) -> str:
        return _check_template(v, frozenset({"model", "generation_id"}))

    def digest(self) -> str:
        """SHA-256 of the rubric file the profile was loaded from."""
        return self.sha256


class ScoredFactor(BaseModel):
    """A factor that matched evidence, as carried in the certificate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    criterion: str
    evidence: list[str]
    points: float
    rationale: str


class Registration(BaseModel):
    """Draft text for a copyright registration form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    human_authored: list[str]
    ai_excluded: str
    text: str


class Contribution(BaseModel):
    """The contribution block of a certificate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str
    profile_version: str
    profile_sha256: str
    score: float
    cap: float
    factors: list[ScoredFactor]
    evidence_sha256: str
    action_count: int
    registration: Registration


def _features(a: Action) -> dict[str, Any]:
    d = a.details
    return {
        "kind": a.kind.value,
        "prompt_chars": a.prompt_chars,
        "layers": len(d.get("layers", [])) if a.kind is ActionKind.LAYER_SPEC else 0,
        "candidates": len(d.get("chosen", [])) + len(d.get("rejected", []))
        if a.kind is ActionKind.SELECTION
        else 0,
        "changed": a.before_sha256 is not None
        and a.after_sha256 is not None
        and a.before_sha256 != a.after_sha256,
        "perceptible": d.get("perceptible") if a.kind is ActionKind.HUMAN_ASSET else None,
        "asset_type": d.get("asset_type"),
        "operations": int(d.get("operations", 0)) if isinstance(d.get("operations"), int) else 0,
        "similarity": d.get("similarity"),
    }


_CMP: dict[str, Any] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
    "in": lambda a, b: a in b,
}


def _holds(value: Any, cond: Any) -> bool:
    if not isinstance(cond, dict):
        return bool(value == cond) if cond is not None else value is None
    for op, ref in cond.items():
        if value is None and op not in ("eq", "ne"):
            return False
        try:
            if not _CMP[op](value, ref):
                return False
        except TypeError:
            return False
    return True


def _fmt(template: str, values: dict[str, Any]) -> str:
    try:
        return " ".join(template.format_map(values).split())
    except (KeyError, IndexError, ValueError) as exc:
        raise RubricError(f"bad placeholder in rubric text {template!r}: {exc}") from None


@lru_cache(maxsize=32)
def load_rubric(name: str = "default") -> Rubric:
    """Load a packaged rubric by profile name (``default``, ``seed``) or a YAML file path."""
    if name.endswith((".yaml", ".yml")):
        try:
            with open(name, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise RubricError(f"cannot read rubric {name}: {exc.strerror}") from None
    else:
        if not name.replace("-", "").replace("_", "").isalnum():
            raise RubricError(f"unknown rubric profile {name!r}")
        res = resources.files("provenance.certificate").joinpath("rubrics", f"{name}.yaml")
        if not res.is_file():
            raise RubricError(f"unknown rubric profile {name!r} (known: {', '.join(profiles())})")
        raw = res.read_bytes()
    try:
        data = yaml.safe_load(raw)
        if not isinstance(data, dict):
            raise RubricError(f"rubric {name} is not a mapping")
        data["sha256"] = hashlib.sha256(raw).hexdigest()
        return Rubric.model_validate(data)
    except yaml.YAMLError as exc:
        raise RubricError(f"rubric {name} is not valid YAML: {exc}".replace("\n", " ")) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise RubricError(f"invalid rubric {name}: {loc}: {err['msg']}") from None


def profiles() -> list[str]:
    """Names of the packaged rubric profiles."""
    root = resources.files("provenance.certificate").joinpath("rubrics")
    return sorted(p.name.rsplit(".", 1)[0] for p in root.iterdir() if p.name.endswith(".yaml"))


def score(
    log: ActionLog,
    rubric: Rubric,
    *,
    model: str = "",
    generation_id: str = "",
    evidence_sha256: str | None = None,
) -> Contribution:
    """Score an action log under ``rubric``: the certificate's contribution block."""
    feats = [(a, _features(a)) for a in log.actions]
    scored: list[ScoredFactor] = []
    claims: list[str] = []
    total = 0.0
    for f in rubric.factors:
        hits = [
            (a, ft)
            for a, ft in feats
            if a.kind in f.kinds and all(_holds(ft.get(k), c) for k, c in f.where.items())
        ]
        if not hits:
            continue
        n = len(hits)
        pts = f.points if f.mode == "once" else f.points * n
        if f.max is not None:
            pts = min(pts, f.max)
        pts = round(pts, 4)
        ids = [a.id for a, _ in hits]
        text = f.rationale + (f.authored or "")
        values: dict[str, Any] = {
            "n": n,
            "ids": ", ".join(ids),
            "model": model,
            "generation_id": generation_id,
        }
        if "{asset_types}" in text:
            kinds = sorted({str(ft["asset_type"]) for _, ft in hits if ft["asset_type"]})
            values["asset_types"] = ", ".join(kinds) or "assets"
        if "{operations}" in text:
            values["operations"] = sum(ft["operations"] for _, ft in hits)
        if "{max_prompt_chars}" in text:
            values["max_prompt_chars"] = max(ft["prompt_chars"] for _, ft in hits)
        if "{layer_count}" in text:
            values["layer_count"] = max(ft["layers"] for _, ft in hits)
        scored.append(
            ScoredFactor.model_construct(
                id=f.id,
                criterion=f.criterion,
                evidence=ids,
                points=pts,
                rationale=_fmt(f.rationale, values),
            )
        )
        total += pts
        if f.authored and pts > 0:
            claims.append(_fmt(f.authored, values))
    final = round(min(total, rubric.cap), 4)
    excluded = _fmt(rubric.exclude, {"model": model, "generation_id": generation_id})
    included = "; ".join(claims) if claims else "none evidenced"
    reg = Registration.model_construct(
        human_authored=claims,
        ai_excluded=excluded,
        text=f"Material excluded: {excluded} New material included: {included}.",
    )
    return Contribution.model_construct(
        profile=rubric.profile,
        profile_version=rubric.version,
        profile_sha256=rubric.sha256,
        score=final,
        cap=rubric.cap,
        factors=scored,
        evidence_sha256=evidence_sha256 or log.digest(),
        action_count=len(log.actions),
        registration=reg,
    )
