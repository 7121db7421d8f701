"""The consent registry: voices whose owners licensed them, with their scope.

``screening/data/consent.yaml`` lists library voices (voice actors with licence ids), users'
own verified voices and licences for registry identities. Each entry has a scope: the tiers and
uses (speech, singing, endorsement) it covers, the accounts it belongs to, and an expiry date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from screening.errors import RegistryError
from screening.normalization import Normalized, is_cjk, normalize

__all__ = ["DEFAULT_CONSENT", "ConsentEntry", "ConsentRegistry", "LibraryHit"]

DEFAULT_CONSENT = Path(__file__).resolve().parent / "data" / "consent.yaml"
_KINDS = ("voice_actor", "self", "public_figure")
_USES = ("speech", "singing", "endorsement")


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    """One licensed voice."""

    id: str
    kind: str
    licence: str
    name_en: str = ""
    name_zh: str = ""
    user_id: str = ""
    subject: str = ""
    users: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset({"free", "pro", "enterprise"})
    uses: frozenset[str] = frozenset(_USES)
    expires: dt.date | None = None

    def status(self, tier: str, use: str, user_id: str | None, today: dt.date) -> str:
        """``valid``, ``expired`` or ``out_of_scope`` for this request."""
        if self.expires is not None and today > self.expires:
            return "expired"
        if tier not in self.tiers or use not in self.uses:
            return "out_of_scope"
        if self.users and (user_id is None or user_id not in self.users):
            return "out_of_scope"
        return "valid"

    def display(self, lang: str) -> str:
        """The name shown in messages."""
        if lang == "zh":
            return self.name_zh or self.name_en or self.id
        return self.name_en or self.name_zh or self.id


@dataclass(frozen=True, slots=True)
class LibraryHit:
    """A library voice named in a prompt: units ``[u0, u1)``."""

    entry: ConsentEntry
    u0: int
    u1: int


def _latin_key(text: str) -> str:
    return "".join(u.text for u in normalize(text).units if u.kind == "L")


def _cjk_key(text: str) -> str:
    return "".join(c for c in normalize(text).base if is_cjk(c))


class ConsentRegistry:
    """Licensed voices, indexed for lookup by name, id, user and registry subject."""

    def __init__(self, entries: list[ConsentEntry]) -> None:
        self.entries = entries
        self._latin: dict[str, ConsentEntry] = {}
        self._cjk: dict[str, ConsentEntry] = {}
        self._self: dict[str, list[ConsentEntry]] = {}
        self._subject: dict[str, list[ConsentEntry]] = {}
        for e in entries:
            if e.kind == "voice_actor":
                for name in (e.name_en, e.id, e.licence):
                    key = _latin_key(name)
                    if len(key) >= 4:
                        self._latin[key] = e
                if e.name_zh:
                    key = _cjk_key(e.name_zh)
                    if len(key) >= 2:
                        self._cjk[key] = e
            elif e.kind == "self":
                self._self.setdefault(e.user_id, []).append(e)
            else:
                self._subject.setdefault(e.subject, []).append(e)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_CONSENT) -> ConsentRegistry:
        """Load a consent YAML file."""
        p = Path(path)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise RegistryError(f"{p}: not a readable YAML consent file") from exc
        return cls(parse_entries(data, str(p)))

    @classmethod
    def default(cls) -> ConsentRegistry:
        """The consent registry shipped with the package (example library voices)."""
        return cls.load(DEFAULT_CONSENT)

    def find(self, norm: Normalized) -> list[LibraryHit]:
        """Library voices named in a prompt (by name, id such as ``VA-1001`` or licence id)."""
        hits: list[LibraryHit] = []
        units = norm.units
        pos = [i for i, u in enumerate(units) if u.kind == "L"]
        texts = [units[p].text for p in pos]
        n = len(pos)
        for a in range(n):
            for b in range(min(n, a + 4), a, -1):
                if pos[b - 1] - pos[a] != b - 1 - a:
                    continue
                e = self._latin.get("".join(texts[a:b]))
                if e is not None:
                    hits.append(LibraryHit(e, pos[a], pos[b - 1] + 1))
                    break
        if self._cjk:
            cpos = [i for i, u in enumerate(units) if u.kind == "C"]
            chars = "".join(units[p].text for p in cpos)
            for key, e in self._cjk.items():
                start = chars.find(key)
                if start >= 0:
                    hits.append(LibraryHit(e, cpos[start], cpos[start + len(key) - 1] + 1))
        return hits

    def for_self(self, user_id: str | None) -> list[ConsentEntry]:
        """The verified-voice entries of a user."""
        return self._self.get(user_id or "", []) if user_id else []

    def for_subject(self, subject_id: str) -> list[ConsentEntry]:
        """Licences held for a registry identity."""
        return self._subject.get(subject_id, [])

    def best_status(
        self, entries: list[ConsentEntry], tier: str, use: str, user_id: str | None, today: dt.date
    ) -> tuple[str, ConsentEntry | None]:
        """The most permissive status among ``entries`` (``none`` when there are none)."""
        order = {"valid": 0, "out_of_scope": 1, "expired": 2}
        best: tuple[str, ConsentEntry | None] = ("none", None)
        for e in entries:
            st = e.status(tier, use, user_id, today)
            if best[1] is None or order[st] < order[best[0]]:
                best = (st, e)
        return best


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise RegistryError(f"{where}: expires must be an ISO date") from exc


def parse_entries(data: Any, source: str = "<consent>") -> list[ConsentEntry]:
    """Validate parsed consent YAML into entries."""
    if not isinstance(data, dict) or not isinstance(data.get("voices"), list):
        raise RegistryError(f"{source}: expected a mapping with a 'voices' list")
    out: list[ConsentEntry] = []
    for n, v in enumerate(data["voices"]):
        where = f"{source}: voice {n}"
        if not isinstance(v, dict) or not v.get("id"):
            raise RegistryError(f"{where}: each voice needs an id")
        kind = v.get("kind")
        if kind not in _KINDS:
            raise RegistryError(f"{where}: kind must be one of {_KINDS}")
        if not v.get("licence"):
            raise RegistryError(f"{where}: a licence id is required")
        if kind == "self" and not v.get("user_id"):
            raise RegistryError(f"{where}: a self voice needs user_id")
        if kind == "public_figure" and not v.get("subject"):
            raise RegistryError(f"{where}: a public_figure licence needs subject")
        if kind == "voice_actor" and not (v.get("name_en") or v.get("name_zh")):
            raise RegistryError(f"{where}: a voice actor needs a name")
        uses = frozenset(v.get("uses") or _USES)
        if not uses <= set(_USES):
            raise RegistryError(f"{where}: uses must be among {_USES}")
        out.append(
            ConsentEntry(
                id=str(v["id"]),
                kind=str(kind),
                licence=str(v["licence"]),
                name_en=str(v.get("name_en") or ""),
                name_zh=str(v.get("name_zh") or ""),
                user_id=str(v.get("user_id") or ""),
                subject=str(v.get("subject") or ""),
                users=frozenset(str(u) for u in v.get("users") or ()),
                tiers=frozenset(v.get("tiers") or ("free", "pro", "enterprise")),
                uses=uses,
                expires=_date(v.get("expires"), where),
            )
        )
    return out
