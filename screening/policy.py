"""The screening policy: a versioned rules file mapping facts to an action and a reason code.

Rules live in ``screening/data/policy.yaml`` (operators pass their own path). Each rule has an
``id``, a ``when`` clause over the facts ``who``, ``what``, ``context``/``not_context``, ``tier``
and ``consent``, an ``action`` (allow / review / deny) and a stable ``reason`` code. The first
matching rule decides for one target; :class:`Policy` also carries the human messages (Chinese
and English) per reason code and the voice descriptors used for suggested rewrites.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from screening.errors import PolicyError

__all__ = [
    "ACTIONS",
    "CONSENTS",
    "DEFAULT_POLICY",
    "TIERS",
    "WHATS",
    "WHOS",
    "Facts",
    "Policy",
    "Rule",
]

DEFAULT_POLICY = Path(__file__).resolve().parent / "data" / "policy.yaml"

ACTIONS = ("allow", "review", "deny")
TIERS = ("free", "pro", "enterprise")
WHOS = (
    "nogo",
    "public",
    "unnamed_nogo",
    "unnamed_public",
    "unnamed_vague",
    "named_unknown",
    "private",
    "role",
    "unknown_source",
    "self",
    "licensed",
    "none",
)
WHATS = ("clone", "perform", "style", "mention", "negated")
CONSENTS = ("none", "valid", "expired", "out_of_scope", "declared")
CONTEXT_FLAGS = ("fraud", "evasion", "political", "leaked", "endorsement", "consent_claim")
_KEYS = {
    "who": WHOS,
    "what": WHATS,
    "context": CONTEXT_FLAGS,
    "not_context": CONTEXT_FLAGS,
    "tier": TIERS,
    "consent": CONSENTS,
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What the screener established about one target of a prompt."""

    who: str
    what: str
    context: frozenset[str]
    tier: str
    consent: str = "none"


@dataclass(frozen=True, slots=True)
class Rule:
    """One policy rule."""

    id: str
    when: dict[str, frozenset[str]]
    action: str
    reason: str

    def matches(self, f: Facts) -> bool:
        """True when every condition of ``when`` holds for ``f``."""
        w = self.when
        if "who" in w and f.who not in w["who"]:
            return False
        if "what" in w and f.what not in w["what"]:
            return False
        if "tier" in w and f.tier not in w["tier"]:
            return False
        if "consent" in w and f.consent not in w["consent"]:
            return False
        if "context" in w and not (w["context"] & f.context):
            return False
        return not ("not_context" in w and w["not_context"] & f.context)


class Policy:
    """A loaded rules file."""

    def __init__(
        self,
        version: str,
        rules: list[Rule],
        messages: dict[str, dict[str, str]],
        descriptors: dict[str, dict[str, dict[str, str]]],
        suggestion: dict[str, str],
        fallback: dict[str, str] | None = None,
    ) -> None:
        self.fallback = fallback or {}
        self.version = version
        self.rules = rules
        self.messages = messages
        self.descriptors = descriptors
        self.suggestion = suggestion

    @classmethod
    def load(cls, path: str | Path = DEFAULT_POLICY) -> Policy:
        """Load and validate a policy file."""
        p = Path(path)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise PolicyError(f"{p}: not valid YAML ({str(exc).splitlines()[0]})") from exc
        except UnicodeDecodeError as exc:
            raise PolicyError(f"{p}: not UTF-8 text") from exc
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<policy>") -> Policy:
        """Build a policy from parsed YAML, raising :class:`PolicyError` on any mistake."""
        if not isinstance(data, dict):
            raise PolicyError(f"{source}: top level must be a mapping")
        version = str(data.get("version") or "")
        if not version:
            raise PolicyError(f"{source}: 'version' is required")
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise PolicyError(f"{source}: 'rules' must be a non-empty list")
        rules: list[Rule] = []
        seen: set[str] = set()
        for n, r in enumerate(raw_rules):
            if not isinstance(r, dict):
                raise PolicyError(f"{source}: rule {n} must be a mapping")
            rid = str(r.get("id") or "")
            if not rid or rid in seen:
                raise PolicyError(f"{source}: rule {n} needs a unique id")
            seen.add(rid)
            action = r.get("action")
            if action not in ACTIONS:
                raise PolicyError(f"{source}: rule {rid}: action must be one of {ACTIONS}")
            reason = str(r.get("reason") or "")
            if not reason:
                raise PolicyError(f"{source}: rule {rid}: 'reason' is required")
            when_raw = r.get("when") or {}
            if not isinstance(when_raw, dict):
                raise PolicyError(f"{source}: rule {rid}: 'when' must be a mapping")
            when: dict[str, frozenset[str]] = {}
            for key, values in when_raw.items():
                if key not in _KEYS:
                    raise PolicyError(f"{source}: rule {rid}: unknown condition {key!r}")
                vals = [values] if isinstance(values, str) else list(values or [])
                bad = [v for v in vals if v not in _KEYS[key]]
                if bad:
                    raise PolicyError(f"{source}: rule {rid}: unknown {key} value(s) {bad}")
                when[key] = frozenset(vals)
            rules.append(Rule(rid, when, str(action), reason))
        messages = data.get("messages") or {}
        for r in rules:
            m = messages.get(r.reason)
            if not isinstance(m, dict) or not m.get("en") or not m.get("zh"):
                raise PolicyError(f"{source}: reason {r.reason} needs 'en' and 'zh' messages")
        return cls(
            version,
            rules,
            {k: {lk: str(lv) for lk, lv in v.items()} for k, v in messages.items()},
            data.get("descriptors") or {},
            data.get("suggestion") or {},
            {str(k): str(v) for k, v in (data.get("language_fallback") or {}).items()},
        )

    @classmethod
    def default(cls) -> Policy:
        """The policy shipped with the package."""
        return cls.load(DEFAULT_POLICY)

    def decide(self, facts: Facts) -> Rule:
        """The first rule matching ``facts`` (the file should end with a catch-all rule)."""
        for rule in self.rules:
            if rule.matches(facts):
                return rule
        raise PolicyError(f"no rule matches {facts} (add a catch-all rule)")

    def message(self, reason: str, lang: str, **fields: str) -> str:
        """The message of ``reason`` in ``lang`` with ``{name}``-style fields filled in."""
        m = self.messages.get(reason, {})
        text = m.get(lang) or m.get(self.fallback.get(lang, "en")) or m.get("en") or reason
        try:
            return text.format(**fields)
        except (KeyError, IndexError):
            return text

    def suggestion_template(self, lang: str) -> str:
        """The suggestion sentence of ``lang`` (``{rewrite}`` is the rewritten prompt)."""
        s = self.suggestion
        return str(s.get(lang) or s.get(self.fallback.get(lang, "en")) or "{rewrite}")

    def descriptor(self, kind: str, gender: str, lang: str) -> str:
        """A generic voice description replacing an identity in a suggested rewrite."""
        for k in (kind, "default"):
            table = self.descriptors.get(k)
            if not table:
                continue
            entry = table.get(gender) or table.get("x") or next(iter(table.values()))
            if entry:
                return str(entry.get(lang) or entry.get(self.fallback.get(lang, "en")) or "")
        return "a generic voice" if lang == "en" else "一个通用的声音"
