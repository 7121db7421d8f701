"""The screener: prompt (+ tier, user) → :class:`Decision`.

Pipeline: validate → normalize → find targets (registry names, library voices, unnamed
celebrities, private persons, roles, the user's own voice) → read the intent bound to each
target and the prompt's context flags → one policy rule per target → the most severe action,
with a reason per rule that fired, the matched identities, a suggested rewrite and the policy
version. Pure text: no network, no model.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from screening import intent, lexicon
from screening.consent import ConsentEntry, ConsentRegistry
from screening.decoding import decode_spans
from screening.errors import BadPrompt
from screening.names import find_named_unknown
from screening.normalization import Normalized, normalize, render, span_obfuscations
from screening.policy import TIERS, Facts, Policy, Rule
from screening.registry import Identity, IdentityRegistry, NameHit
from screening.semantic import SemanticStage, summarize
from screening.semantic import available as semantic_available

__all__ = [
    "DEFAULT_MAX_CHARS",
    "Decision",
    "Match",
    "Reason",
    "ReviewClassifier",
    "Screener",
    "detect_language",
]

#: Prompts longer than this are denied (after being screened in full up to 5× this length).
DEFAULT_MAX_CHARS = 10_000
_SEVERITY = {"allow": 0, "review": 1, "deny": 2}
# allowed readings the semantic stage overrides only with a certain score
_SETTLED = frozenset({"NEGATED", "SELF_VOICE_DECLARED"})
_METHOD_OBFUSCATION = {
    "fuzzy": {"misspelling"},
    "homophone": {"homophone"},
    "mask": {"mask"},
    "work": {"indirect"},
    "pinyin": {"pinyin"},
    "separator": {"separator"},
}
_NO_SUGGESTION = frozenset({"FRAUD_IMPERSONATION", "DETECTION_EVASION", "FRAUD_CONTEXT"})
_PUBLIC_WHO = frozenset(
    {"public", "nogo", "unnamed_public", "unnamed_vague", "unnamed_nogo", "named_unknown"}
)
_MAX_TARGETS = 2000  # markers are private-use characters U+E000–U+F8FF
_DECLARED = re.compile(r"verified|enrolled|registered|已验证|认证|验证过|已录入|已注册")
_SINGING = re.compile(
    r"\b(?:sing|sings|singing|sang|song|songs|vocals?|cover|rap|track|album)\b|唱|歌|曲"
)
_WORK_LEFT = re.compile(
    r"(?:singer|voice|vocalist|artist|rapper|band|guy|girl|woman|man|person|one|performer|"
    r"original)\s+(?:of|behind|from|who (?:sang|sings|performed|did|made))\s*['\"“‘《]?\s*$"
    r"|who (?:sang|sings|performed|played|starred in|directed)\s*['\"“‘]?\s*$"
    r"|(?:actor|actress|director|star)\s+(?:of|from|in|who (?:played|starred in|directed))\s*['\"“‘]?\s*$"
    r"|(?:唱|原唱|演唱|唱过|演|演过|主演|出演|导演|导过|拍|拍过)(?:了)?《?$"
)
_WORK_RIGHT = re.compile(
    r"^\s*['\"”’》]?\s*(?:'s\s+)?(?:singer|vocalist|original singer|的原唱|的歌手|的演唱者|原唱)"
)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why: a stable code, a message in the prompt's language, the span and the rule."""

    code: str
    message: str
    span: tuple[int, int] | None
    rule: str


@dataclass(frozen=True, slots=True)
class Match:
    """Who was matched: registry id (or consent id / None), display name and kind."""

    id: str | None
    name: str
    kind: str
    method: str = "exact"


@dataclass(frozen=True, slots=True)
class Decision:
    """The screening decision for one prompt."""

    action: str
    approved: bool
    reasons: list[Reason]
    matched: list[Match]
    suggestion: str | None
    policy_version: str
    language: str = "en"
    obfuscations: list[str] = field(default_factory=list)
    stage: str = "rules"  # which stage set the action: rules | semantic
    semantic: dict[str, Any] | None = None  # the semantic stage's score and neighbours, if run

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        d = asdict(self)
        for r in d["reasons"]:
            r["span"] = list(r["span"]) if r["span"] is not None else None
        return d


class ReviewClassifier(Protocol):
    """Optional second stage for ``review`` decisions (e.g. an operator-run guard model).

    Return ``"allow"``, ``"review"`` or ``"deny"``, or ``None`` to keep the first-stage decision.
    Nothing in the default screener uses one.
    """

    def classify(self, prompt: str, decision: Decision) -> str | None:
        """Second opinion on a prompt the rules sent to review."""


@dataclass(slots=True)
class _Target:
    who: str
    u0: int = -1
    u1: int = -1
    identities: list[Identity] = field(default_factory=list)
    entry: ConsentEntry | None = None
    text: str = ""
    span: tuple[int, int] | None = None
    method: str = "exact"
    what: str = "mention"
    consent: str = "none"
    posed: bool = False


_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_JUNK_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff\ud800-\udfff]")
_VISIBLE_RE = re.compile(
    r"[^\s\x00-\x1f\x7f-\x9f\ufffd\u200b-\u200f\u2060-\u2064\ufeff\ue000-\uf8ff\ud800-\udfff]"
)


_HANGUL_RE = re.compile(r"[\uac00-\ud7af]")
_KANA_RE = re.compile(r"[\u3041-\u3096\u30a1-\u30fa]")
_YUE_RE = re.compile(lexicon.alternation("cantonese_markers"))


def detect_language(text: str) -> str:
    """The prompt's language among ``zh``, ``yue``, ``ja``, ``ko`` and ``en``, by script.

    Hangul makes a prompt Korean and kana Japanese (Japanese text always carries kana; a
    Chinese sentence never does); Chinese text with a written-Cantonese word (嘅, 佢, 咗, 唔 …)
    is Cantonese. A general language-id model was measured and not used: on short prompts it
    read Mandarin as Japanese and has no Cantonese (docs/screening.md).
    """
    latin_words = len(re.findall(r"[A-Za-z]{2,}", text))
    hangul = len(_HANGUL_RE.findall(text))
    if hangul >= 2 and hangul >= latin_words:
        return "ko"
    kana = len(_KANA_RE.findall(text))
    cjk = len(_CJK_RE.findall(text))
    if kana >= 1 and kana + cjk >= latin_words:
        return "ja"
    if cjk == 0:
        return "en"
    if cjk >= 2 and cjk >= latin_words:
        return "yue" if _YUE_RE.search(text) else "zh"
    return "en"


_DEFAULT: dict[str, Screener] = {}


class Screener:
    """Screens prompts for voice impersonation."""

    def __init__(
        self,
        registry: IdentityRegistry,
        consent: ConsentRegistry,
        policy: Policy,
        *,
        max_chars: int = DEFAULT_MAX_CHARS,
        classifier: ReviewClassifier | None = None,
        today: dt.date | None = None,
        semantic: SemanticStage | None = None,
    ) -> None:
        self.registry = registry
        self.consent = consent
        self.policy = policy
        self.max_chars = max_chars
        self.classifier = classifier
        self.today = today
        self.semantic = semantic

    @classmethod
    def default(cls, semantic: bool | None = None) -> Screener:
        """The screener with the shipped registry, consent registry and policy (built once).

        ``semantic``: attach the semantic stage (``True``), run rules only (``False``), or — the
        default — attach it when the ``semantic`` extra is installed, unless the environment
        sets ``PROVKIT_SCREEN_SEMANTIC=0``.
        """
        if semantic is None:
            semantic = (
                os.environ.get("PROVKIT_SCREEN_SEMANTIC", "1") != "0" and semantic_available()
            )
        key = "semantic" if semantic else "rules"
        s = _DEFAULT.get(key)
        if s is None:
            s = cls(
                IdentityRegistry.default(),
                ConsentRegistry.default(),
                Policy.default(),
                semantic=SemanticStage.default() if semantic else None,
            )
            _DEFAULT[key] = s
        return s

    @classmethod
    def from_paths(
        cls,
        registry: list[str | Path] | None = None,
        consent: str | Path | None = None,
        policy: str | Path | None = None,
        *,
        extend: bool = True,
        **kwargs: Any,
    ) -> Screener:
        """A screener from operator files; ``extend`` adds registry files to the shipped one."""
        from screening.registry import DEFAULT_REGISTRY

        paths: list[str | Path] = list(registry or [])
        if extend or not paths:
            paths = [DEFAULT_REGISTRY, *paths]
        return cls(
            IdentityRegistry.load(*paths),
            ConsentRegistry.load(consent) if consent else ConsentRegistry.default(),
            Policy.load(policy) if policy else Policy.default(),
            **kwargs,
        )

    # ------------------------------------------------------------------ screening
    def screen(self, prompt: str, tier: str = "free", user_id: str | None = None) -> Decision:
        """Decide on ``prompt`` for an account of ``tier`` (free, pro, enterprise).

        Encoded spans (base64, hex, percent-encoding, text marked as reversed) are decoded and
        the decoded reading is screened too; the more severe decision is kept.
        """
        decision = self._screen_rules(prompt, tier, user_id)
        decoded = decode_spans(prompt) if len(prompt) <= self.max_chars else None
        if decoded is not None:
            other = self._screen_rules(decoded, tier, user_id, encoded=True)
            if _SEVERITY[other.action] > _SEVERITY[decision.action]:
                decision = replace(
                    other,
                    obfuscations=sorted({*other.obfuscations, "encoded"}),
                    reasons=[
                        replace(r, span=None) for r in other.reasons
                    ],  # spans index the decoded reading, not the prompt
                    language=decision.language,
                )
        if self.semantic is not None and decision.action == "allow":
            decision = self._semantic(prompt, decision)
        return decision

    def _semantic(self, prompt: str, decision: Decision) -> Decision:
        """Second look at an allowed prompt that talks about voices or imitation."""
        norm = normalize(prompt[: self.max_chars])
        if not intent.has_voice_cue(intent.fold_variants(norm.clean)):
            return decision
        assert self.semantic is not None
        v = self.semantic.assess(prompt)
        evidence = {"score": round(v.score, 4), "neighbours": list(v.neighbours)}
        # what the rules read: an explicit negation bound to the request's verb ("do not make
        # it sound like X") or the user's own declared voice ("my verified voice")
        read = {"NEGATED" if r.rule == "negated-voice" else r.code for r in decision.reasons}
        settled = bool(read & _SETTLED) and read <= _SETTLED | {"NO_IMPERSONATION"}
        if not v.harmful or (settled and not v.certain):
            # the embedding cannot read negation scope nor whose voice it is: only a certain
            # score overrides the rules there
            return replace(decision, semantic=evidence)
        lang = decision.language
        msg = self.policy.message(
            "SEMANTIC_MATCH", lang, score=f"{v.score:.2f}", neighbours=summarize(v.neighbours)
        )
        named = any(
            m.id in self.registry.by_id or m.kind in ("named_unknown", "unnamed_public")
            for m in decision.matched
        )
        action, rule = (
            ("deny", "semantic-stage-named")
            if v.certain and named
            else ("review", "semantic-stage")
        )
        kept = [
            r for r in decision.reasons if r.code not in ("NON_VOICE_MENTION", "NO_IMPERSONATION")
        ]
        return replace(
            decision,
            action=action,
            approved=False,
            reasons=[Reason("SEMANTIC_MATCH", msg, None, rule), *kept],
            suggestion=self._semantic_suggestion(prompt, decision),
            stage="semantic",
            semantic=evidence,
        )

    def _semantic_suggestion(self, prompt: str, decision: Decision) -> str | None:
        """The prompt with each named person replaced by a described voice (as for rules)."""
        people = [
            self.registry.by_id[m.id] for m in decision.matched if m.id in self.registry.by_id
        ]
        spans = [r.span for r in decision.reasons if r.code == "NON_VOICE_MENTION" and r.span]
        if not people or len(spans) != len(people):
            return None
        text = prompt
        for (s, e), p in sorted(zip(spans, people, strict=True), key=lambda x: -x[0][0]):
            kind = p.kind if p.kind in self.policy.descriptors else "default"
            text = text[:s] + self.policy.descriptor(kind, p.gender, decision.language) + text[e:]
        return self.policy.suggestion_template(decision.language).format(
            rewrite=" ".join(text.split())
        )

    def _screen_rules(
        self, prompt: str, tier: str, user_id: str | None, *, encoded: bool = False
    ) -> Decision:
        """The rules' decision; ``encoded``: ``prompt`` is the decoded reading of an encoded one."""
        if not isinstance(prompt, str):
            raise BadPrompt(f"prompt must be text, not {type(prompt).__name__}")
        if tier not in TIERS:
            raise BadPrompt(f"unknown tier {tier!r} (expected one of: {', '.join(TIERS)})")
        _check_text(prompt)
        too_long = len(prompt) > self.max_chars
        lang = detect_language(prompt[: self.max_chars])
        if too_long and len(prompt) > 5 * self.max_chars:
            return self._too_long(lang, [], [], [])
        norm = normalize(prompt)
        targets, marked = self._targets(norm)
        clean = intent.fold_variants(norm.clean)
        ctx = self._bind(targets, intent.fold_variants(marked), clean, encoded=encoded)
        use = (
            "endorsement"
            if "endorsement" in ctx
            else "singing"
            if _SINGING.search(clean)
            else "speech"
        )
        today = self.today or dt.date.today()
        results: list[tuple[_Target, Rule]] = []
        for t in targets:
            t.consent = self._consent(t, tier, use, user_id, today)
            results.append((t, self.policy.decide(Facts(t.who, t.what, ctx, tier, t.consent))))
        if not any(t.what in ("clone", "perform") for t, _ in results):
            none = _Target("none")
            results.append((none, self.policy.decide(Facts("none", "mention", ctx, tier))))
        decision = self._decide(norm, results, lang, too_long)
        if self.classifier is not None and decision.action == "review":
            second = self.classifier.classify(prompt, decision)
            if second in _SEVERITY and second != "review":
                decision = _with_action(decision, str(second), lang)
        return decision

    def _bind(
        self, targets: list[_Target], marked: str, clean: str, *, encoded: bool = False
    ) -> frozenset[str]:
        """Set each target's intent (``what``) and return the prompt's context flags.

        ``encoded``: the text is the decoded reading of a prompt that hid something in base64,
        hex, percent-encoding or reversed text. A person named there, in a prompt that asks for
        a voice ("use that person's voice: QXJpYW5h…"), is the voice asked for: nobody encodes
        a name they only mention.
        """
        ctx = frozenset(intent.contexts(clean))
        gclone = intent.global_clone_cue(clean)
        mctx = intent.mention_context(clean)
        question = intent.is_info_question(clean)
        for i, t in enumerate(targets):
            t.what = intent.what_for(
                marked,
                marked.find(intent.marker(i)),
                t.who,
                global_clone=gclone,
                mention_ctx=mctx,
                leaked="leaked" in ctx,
                question=question,
            )
            if t.posed and t.what == "mention":
                t.what = "clone"
        if intent.is_fictional_or_awareness(clean):
            for t in targets:
                if t.who in ("private", "role"):
                    t.what = "mention"  # characters of a story, or a scam-awareness piece
        impersonated = any(t.who in ("private", "role") and t.what == "clone" for t in targets)
        if impersonated and "fraud" not in ctx and intent.is_call(clean):
            # a private person's or an official's voice on a call or voice message deceives
            ctx = ctx | {"fraud"}
        if encoded and intent.has_voice_cue(clean):
            for t in targets:
                if t.who in _PUBLIC_WHO and t.what == "mention":
                    t.what = "clone"
        pronoun = intent.pronoun_clone(marked) and not mctx and not intent.talk_about(marked)
        for t in targets:
            if t.who == "role" and not t.posed and "fraud" not in ctx:
                t.what = "mention"  # "a bank officer's voice" matters only in a fraud setting
            if (
                pronoun
                and (t.who in _PUBLIC_WHO or t.who == "private")
                and t.what in ("mention", "negated", "style")
            ):
                # "not X, but someone who sounds exactly like her"; "宇多田ヒカル風じゃなくて本人の声で"
                t.what = "clone"
        return ctx

    def _too_long(
        self, lang: str, reasons: list[Reason], matched: list[Match], obf: list[str]
    ) -> Decision:
        msg = self.policy.message("PROMPT_TOO_LONG", lang, limit=str(self.max_chars))
        return Decision(
            "deny",
            False,
            [Reason("PROMPT_TOO_LONG", msg, None, "prompt-too-long"), *reasons],
            matched,
            None,
            self.policy.version,
            lang,
            obf,
        )

    def _targets(self, norm: Normalized) -> tuple[list[_Target], str]:
        units = norm.units
        deep = intent.has_voice_cue(intent.fold_variants(norm.clean))
        hits = [h for h in self.registry.find(norm, deep=deep) if self._keep_hit(norm, h)]
        lib = self.consent.find(norm)
        ranges: dict[tuple[int, int], _Target] = {}
        for lh in lib:
            ranges[(lh.u0, lh.u1)] = _Target(
                "licensed", lh.u0, lh.u1, entry=lh.entry, method="exact"
            )
        # longest hits first; identities sharing a range form one target
        for h in sorted(hits, key=lambda h: (-(h.u1 - h.u0), h.u0)):
            key = (h.u0, h.u1)
            if key in ranges:
                if ranges[key].who != "licensed":
                    ranges[key].identities.append(self.registry.identities[h.index])
                continue
            if any(not (h.u1 <= a or h.u0 >= b) for a, b in ranges):
                continue
            ranges[key] = _Target(
                "public", h.u0, h.u1, [self.registry.identities[h.index]], method=h.method
            )
        named = sorted(ranges.values(), key=lambda t: t.u0)[:_MAX_TARGETS]
        for t in named:
            if t.identities:
                t.who = "nogo" if any(p.nogo for p in t.identities) else "public"
                t.identities.sort(key=lambda p: not p.nogo)
            t.span = norm.unit_span_to_original(t.u0, t.u1)
            t.text = norm.original[t.span[0] : t.span[1]]
        markers = {t.u0: (t.u1, intent.marker(i)) for i, t in enumerate(named)}
        marked, cmap = render(units, markers)
        # unnamed targets found by phrase in the marked text
        extra: list[tuple[int, int, _Target]] = []
        spans = intent.find_unnamed(marked)

        def capitalized(a: int, b: int) -> bool:
            span = _clean_span_to_original(norm, cmap, a, b)
            return span is not None and norm.original[span[0] : span[0] + 1].isupper()

        if deep:  # a name nobody registered, with a voice word hanging on it
            for span in find_named_unknown(marked, capitalized):
                if all(span.end <= o.start or span.start >= o.end for o in spans):
                    spans.append(span)
        for span in spans[: _MAX_TARGETS - len(named)]:
            if any(0xE000 <= ord(c) <= 0xF8FF for c in span.text):
                continue
            t = _Target(span.who, text=span.text, method="phrase", posed=span.posed)
            t.span = _clean_span_to_original(norm, cmap, span.start, span.end)
            if span.who == "named_unknown" and t.span is not None:
                t.text = norm.original[t.span[0] : t.span[1]]  # as written, not lower case
            extra.append((span.start, span.end, t))
        if not extra:
            return named, marked
        # rebuild the marked text with the unnamed spans as markers too (in text order)
        allt: list[tuple[int, int, _Target]] = []
        for i, ch in enumerate(marked):
            if 0xE000 <= ord(ch) <= 0xF8FF:
                allt.append((i, i + 1, named[ord(ch) - 0xE000]))
        allt.extend(extra)
        allt.sort(key=lambda x: x[0])
        out: list[str] = []
        targets: list[_Target] = []
        last = 0
        for s, e, t in allt:
            out.append(marked[last:s])
            out.append(intent.marker(len(targets)))
            targets.append(t)
            last = e
        out.append(marked[last:])
        return targets, "".join(out)

    def _keep_hit(self, norm: Normalized, h: NameHit) -> bool:
        if h.method != "work":
            return True
        _, cmap = render(norm.units)
        # a title counts only when the prompt points at its performer
        clean = norm.clean
        try:
            s = cmap.index(h.u0)
            e = len(cmap) - cmap[::-1].index(h.u1 - 1)
        except ValueError:
            return False
        return bool(
            _WORK_LEFT.search(clean[max(0, s - 40) : s]) or _WORK_RIGHT.match(clean[e : e + 30])
        )

    def _consent(self, t: _Target, tier: str, use: str, user_id: str | None, today: dt.date) -> str:
        if t.who == "licensed" and t.entry is not None:
            return t.entry.status(tier, use, user_id, today)
        if t.who == "self":
            if user_id is None and _DECLARED.search(t.text):
                # no account to check: the prompt's own claim is recorded as such
                return "declared"
            return self.consent.best_status(
                self.consent.for_self(user_id), tier, use, user_id, today
            )[0]
        if t.who in ("public", "nogo"):
            entries = [e for p in t.identities for e in self.consent.for_subject(p.id)]
            return self.consent.best_status(entries, tier, use, user_id, today)[0]
        return "none"

    def _decide(
        self,
        norm: Normalized,
        results: list[tuple[_Target, Rule]],
        lang: str,
        too_long: bool,
    ) -> Decision:
        action = max((r.action for _, r in results), key=lambda a: _SEVERITY[a])
        reasons: list[Reason] = []
        seen: set[tuple[str, tuple[int, int] | None]] = set()
        ordered = sorted(results, key=lambda x: -_SEVERITY[x[1].action])
        for t, rule in ordered:
            if action != "allow" and rule.action == "allow":
                continue
            if t.who == "none" and rule.action == "allow" and len(results) > 1:
                continue
            key = (rule.reason, t.span)
            if key in seen:
                continue
            seen.add(key)
            reasons.append(
                Reason(
                    rule.reason,
                    self.policy.message(rule.reason, lang, name=self._name(t, lang)),
                    t.span,
                    rule.id,
                )
            )
        matched: list[Match] = []
        for t, _ in results:
            if t.identities:
                matched.extend(Match(p.id, p.display(lang), p.kind, t.method) for p in t.identities)
            elif t.entry is not None:
                matched.append(Match(t.entry.id, t.entry.display(lang), "licensed_voice"))
            elif t.who not in ("none",):
                matched.append(Match(None, t.text, t.who, t.method))
        suggestion = None
        if action != "allow" and not any(r.code in _NO_SUGGESTION for r in reasons):
            suggestion = self._suggest(norm.original, results, lang)
        obf_set: set[str] = set()
        for t, _ in results:
            if t.span is not None and t.who not in ("none",) and t.method != "phrase":
                obf_set |= span_obfuscations(norm.original[t.span[0] : t.span[1]])
                obf_set |= _METHOD_OBFUSCATION.get(t.method, set())
        obf = sorted(obf_set)
        if too_long:
            return self._too_long(lang, reasons, matched, obf)
        return Decision(
            action,
            action == "allow",
            reasons,
            matched,
            suggestion,
            self.policy.version,
            lang,
            obf,
        )

    def _name(self, t: _Target, lang: str) -> str:
        if t.identities:
            return t.identities[0].display(lang)
        if t.entry is not None:
            return t.entry.display(lang)
        return t.text.strip()

    def _suggest(self, original: str, results: list[tuple[_Target, Rule]], lang: str) -> str | None:
        repl: list[tuple[int, int, str]] = []
        for t, rule in results:
            if rule.action == "allow" or t.span is None:
                continue
            if t.identities:
                p = t.identities[0]
                kind = p.kind if p.kind in self.policy.descriptors else "default"
                if kind in ("business", "athlete", "streamer", "host", "other"):
                    kind = "default"
                desc = self.policy.descriptor(kind, p.gender, lang)
            elif t.who in ("unnamed_public", "unnamed_vague", "unnamed_nogo"):
                desc = self.policy.descriptor("unnamed", "x", lang)
            elif t.who in ("private", "named_unknown"):
                desc = self.policy.descriptor("private", "x", lang)
            else:
                continue
            repl.append((t.span[0], t.span[1], desc))
        if not repl:
            return None
        text = original
        for s, e, desc in sorted(repl, reverse=True):
            text = text[:s] + desc + text[e:]
        template = self.policy.suggestion_template(lang)
        return template.format(rewrite=" ".join(text.split()))


def _with_action(d: Decision, action: str, lang: str) -> Decision:
    msg = (
        "A second-stage classifier set the final action."
        if lang == "en"
        else "第二阶段分类器给出了最终结论。"
    )
    reasons = [*d.reasons, Reason("SECOND_STAGE", msg, None, "second-stage")]
    return Decision(
        action,
        action == "allow",
        reasons,
        d.matched,
        d.suggestion if action != "allow" else None,
        d.policy_version,
        d.language,
        d.obfuscations,
    )


def _clean_span_to_original(
    norm: Normalized, cmap: list[int], start: int, end: int
) -> tuple[int, int] | None:
    idx = [u for u in cmap[start:end] if u >= 0]
    if not idx:
        return None
    return norm.unit_span_to_original(min(idx), max(idx) + 1)


def _check_text(prompt: str) -> None:
    stripped = prompt.strip()
    if not stripped:
        raise BadPrompt("empty prompt")
    head = prompt[:20_000]
    junk = len(_JUNK_RE.findall(head))
    visible = len(_VISIBLE_RE.findall(head))
    if visible == 0 or not any(unicodedata.category(c)[0] in "LNPS" for c in head[:2000]):
        raise BadPrompt("prompt has no visible text")
    if junk >= 4 and junk > 0.3 * (junk + visible):
        raise BadPrompt("prompt looks like binary data, not text")
