"""The registry of protected identities and the matcher that finds them in a prompt.

The registry is a CSV file (``screening/data/identities.csv``): one real public figure per row
with English and Chinese names, aliases, romanizations, kind, a no-go flag and a few signature
works. Operators extend it with their own CSV files of the same columns
(:meth:`IdentityRegistry.load` takes several paths; a later row with the same ``id`` replaces an
earlier one).

Matching is built once into hash indexes: exact Latin keys (names with spaces removed, so
"Taylor Swift", "TaylorSwift" and "T a y l o r S w i f t" all hit "taylorswift"), Chinese
substrings, pinyin keys (with and without tones, both name orders), homophone pinyin for
Chinese names of three or more characters, masked Chinese names ("周*伦") and a SymSpell-style
bounded-edit-distance matcher that finds misspellings for names of six or more
letters (keys bucketed by first letter, searched with rapidfuzz next to a voice cue). A prompt
costs a few hundred dictionary look-ups, nearly independent of the registry size.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

from screening import lexicon
from screening.errors import RegistryError
from screening.normalization import (
    MASK,
    Normalized,
    Unit,
    is_cjk,
    is_cjk_like,
    is_kana_hangul,
    normalize,
    pinyin_readings,
)

__all__ = ["DEFAULT_REGISTRY", "Identity", "IdentityRegistry", "NameHit"]

DATA_DIR = Path(__file__).resolve().parent / "data"
#: The identity registry shipped with the package.
DEFAULT_REGISTRY = DATA_DIR / "identities.csv"

COLUMNS = (
    "id",
    "name_en",
    "name_zh",
    "aliases",
    "romanizations",
    "kind",
    "gender",
    "nogo",
    "works",
    "region",
)
KINDS = frozenset(
    {
        "singer",
        "actor",
        "politician",
        "business",
        "anchor",
        "athlete",
        "streamer",
        "host",
        "central_banker",
        "other",
    }
)

# Latin keys that are ordinary words: matched exactly only, never fuzzily, and never alone.
_COMMON_WORDS = frozenset(lexicon.words("common_words"))
# Chinese names that are also everyday words ("文章" = article, "黎明" = dawn): never matched.
_COMMON_CJK = frozenset(lexicon.words("common_cjk"))
# three-letter names that are everyday tokens
_SHORT_STOP = frozenset(lexicon.words("short_stop"))
_FUZZY_MIN = 5
_MAX_NGRAM = 6
_FUZZY_STOP = frozenset(lexicon.words("fuzzy_stop"))


@dataclass(frozen=True, slots=True)
class Identity:
    """One protected person."""

    id: str
    name_en: str
    name_zh: str
    aliases: tuple[str, ...] = ()
    romanizations: tuple[str, ...] = ()
    kind: str = "other"
    gender: str = "x"
    nogo: bool = False
    works: tuple[str, ...] = ()
    region: str = ""

    def display(self, lang: str) -> str:
        """The name to show in a message of language ``lang`` (zh, yue, ja, ko or en).

        Japanese and Korean messages use an alias in kana or hangul when the registry has one.
        """
        if lang in ("zh", "yue"):
            return self.name_zh or self.name_en
        if lang in ("ja", "ko"):
            script = is_kana_hangul
            for a in self.aliases:
                if any(map(script, a)) and (lang == "ko") == any(
                    "\uac00" <= c <= "\ud7af" for c in a
                ):
                    return a
        return self.name_en or self.name_zh


@dataclass(frozen=True, slots=True)
class NameHit:
    """A registry name found in a prompt: units ``[u0, u1)`` of the normalized prompt."""

    index: int
    u0: int
    u1: int
    method: str  # exact | pinyin | fuzzy | homophone | mask | work
    key: str


@dataclass(slots=True)
class _Index:
    latin: dict[str, list[int]] = field(default_factory=dict)
    latin_method: dict[str, str] = field(default_factory=dict)
    cjk: dict[str, list[int]] = field(default_factory=dict)
    cjk_lengths: list[int] = field(default_factory=list)
    cjk_first: dict[str, tuple[int, ...]] = field(default_factory=dict)  # first char -> lengths
    works_first: dict[str, tuple[int, ...]] = field(default_factory=dict)
    masked: dict[str, list[int]] = field(default_factory=dict)
    # first two syllables -> (all syllables, identity index)
    homophone: dict[tuple[str, str], list[tuple[tuple[str, ...], int]]] = field(
        default_factory=dict
    )
    # (first letter, length) -> keys: a misspelling is searched among keys of its own length ± edits
    fuzzy: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    max_key: int = 0
    mononym: dict[str, bool] = field(default_factory=dict)  # fuzzy key -> a one-word name
    latin_prefix: frozenset[str] = frozenset()
    works_prefix: frozenset[str] = frozenset()
    works_latin: dict[str, list[int]] = field(default_factory=dict)
    works_cjk: dict[str, list[int]] = field(default_factory=dict)
    # names kept only with a voice phrase attached: two-letter Latin names ("Ye"), everyday
    # words ("Prince", "Seal") and one-syllable hangul or kana names ("뷔")
    attached_latin: dict[str, list[int]] = field(default_factory=dict)
    attached_cjk: dict[str, list[int]] = field(default_factory=dict)


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(";") if v.strip())


def _latin_key(text: str) -> str:
    norm = normalize(text)
    return "".join(u.text for u in norm.units if u.kind == "L")


def _cjk_key(text: str) -> str:
    return "".join(ch for ch in normalize(text).base if is_cjk_like(ch))


_CUE_TOKEN = lexicon.compiled("cue_token")


def _max_edits(n: int) -> int:
    return 1 if n <= 8 else 2


class IdentityRegistry:
    """Protected identities with a prebuilt matcher."""

    def __init__(self, identities: Sequence[Identity]) -> None:
        self.identities: list[Identity] = list(identities)
        self.by_id: dict[str, Identity] = {p.id: p for p in self.identities}
        self._ix = self._build()

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, *paths: str | Path) -> IdentityRegistry:
        """Load one or more registry CSV files (later rows with the same id replace earlier)."""
        if not paths:
            paths = (DEFAULT_REGISTRY,)
        rows: dict[str, Identity] = {}
        for path in paths:
            p = Path(path)
            try:
                text = p.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise RegistryError(f"{p}: not UTF-8 text ({exc.reason})") from exc
            for ident in parse_csv(text, source=str(p)):
                rows[ident.id] = ident
        return cls(list(rows.values()))

    @classmethod
    def default(cls) -> IdentityRegistry:
        """The registry shipped with the package."""
        return cls.load(DEFAULT_REGISTRY)

    def __len__(self) -> int:
        return len(self.identities)

    # ------------------------------------------------------------------ index
    def _build(self) -> _Index:
        ix = _Index()
        weak: list[tuple[str, int]] = []
        fuzzy_keys: set[str] = set()
        lengths: set[int] = set()
        for i, p in enumerate(self.identities):
            latin_names = [p.name_en, *[a for a in p.aliases if not any(map(is_cjk_like, a))]]
            for name in latin_names:
                key = _latin_key(name)
                if len(key) == 2 and key not in _SHORT_STOP and name[:1].isupper():
                    ix.attached_latin.setdefault(key, []).append(i)
                if len(key) < 3 or key in _SHORT_STOP:
                    continue
                ix.latin.setdefault(key, []).append(i)
                ix.latin_method.setdefault(key, "exact")
                words = len(name.split())
                if (len(key) >= _FUZZY_MIN and key not in _COMMON_WORDS and words > 1) or (
                    len(key) >= 5 and key not in _COMMON_WORDS
                ):
                    fuzzy_keys.add(key)
                    ix.mononym[key] = ix.mononym.get(key, True) and words == 1
            for rom in p.romanizations:
                sy = _latin_key(rom)
                parts = rom.lower().split()
                if len(sy) < 4:
                    continue
                for key in {sy, "".join(parts[1:] + parts[:1])} if len(parts) > 1 else {sy}:
                    ix.latin.setdefault(key, []).append(i)
                    ix.latin_method.setdefault(key, "pinyin")
                    if len(key) >= 7:
                        fuzzy_keys.add(key)
                        ix.mononym[key] = False
            cjk_names = [p.name_zh, *[a for a in p.aliases if any(map(is_cjk_like, a))]]
            if "·" in p.name_zh:
                # "泰勒·斯威夫特" is usually written by its last segment ("斯威夫特"); it is a
                # weak key: used only when no identity has it as an explicit name or alias
                weak.append((_cjk_key(p.name_zh.split("·")[-1]), i))
            for name in cjk_names:
                key = _cjk_key(name)
                if len(key) == 1 and is_kana_hangul(key):
                    ix.attached_cjk.setdefault(key, []).append(i)
                if len(key) < 2 or key in _COMMON_CJK:
                    continue
                ix.cjk.setdefault(key, []).append(i)
                lengths.add(len(key))
                if 3 <= len(key) <= 6:
                    for pos in range(len(key)):
                        masked = key[:pos] + MASK + key[pos + 1 :]
                        ix.masked.setdefault(masked, []).append(i)
                    syl = tuple(pinyin_readings(ch)[0] if pinyin_readings(ch) else ch for ch in key)
                    ix.homophone.setdefault((syl[0], syl[1]), []).append((syl, i))
            for work in p.works:
                if any(map(is_cjk_like, work)):
                    wk = _cjk_key(work)
                    if len(wk) >= 2:
                        ix.works_cjk.setdefault(wk, []).append(i)
                else:
                    wk = _latin_key(work)
                    if len(wk) >= 4:
                        ix.works_latin.setdefault(wk, []).append(i)
        strong = set(ix.cjk)
        for key, i in weak:
            if len(key) >= 2 and key not in strong and key not in _COMMON_CJK:
                ix.cjk.setdefault(key, []).append(i)
                lengths.add(len(key))
                if len(key) >= 3:
                    syl = tuple(pinyin_readings(c)[0] if pinyin_readings(c) else c for c in key)
                    ix.homophone.setdefault((syl[0], syl[1]), []).append((syl, i))
                    for m in range(len(key)):
                        ix.masked.setdefault(key[:m] + MASK + key[m + 1 :], []).append(i)
        ix.cjk_lengths = sorted(lengths)
        ix.cjk_first = _first_index(ix.cjk)
        ix.latin_prefix = _prefixes(ix.latin)
        ix.works_prefix = _prefixes(ix.works_latin)
        ix.works_first = _first_index(ix.works_cjk)
        for key in sorted(fuzzy_keys):
            ix.fuzzy.setdefault((key[0], len(key)), []).append(key)
            ix.max_key = max(ix.max_key, len(key))
        for lk, lv in ix.latin.items():
            ix.latin[lk] = sorted(set(lv))
        return ix

    # ------------------------------------------------------------------ matching
    def find(self, norm: Normalized, *, deep: bool = False) -> list[NameHit]:
        """Registry names in a normalized prompt.

        ``deep`` also runs the costlier fuzzy, homophone and masked matchers (the screener
        turns it on when the prompt carries a voice-imitation cue).
        """
        hits: list[NameHit] = []
        units = norm.units
        latin_pos = [i for i, u in enumerate(units) if u.kind == "L"]
        self._find_latin(units, latin_pos, hits, deep, norm)
        cjk_pos = [i for i, u in enumerate(units) if u.kind == "C"]
        if cjk_pos:
            self._find_cjk(units, cjk_pos, hits, deep)
        return _dedupe(hits)

    def _find_latin(
        self, units: list[Unit], pos: list[int], hits: list[NameHit], deep: bool, norm: Normalized
    ) -> None:
        ix = self._ix
        n = len(pos)
        texts = [units[p].text for p in pos]
        alts = [units[p].alt or units[p].text for p in pos]
        has_alt = any(units[p].alt for p in pos)
        covered: set[int] = set()
        streams = [texts, alts] if has_alt else [texts]
        # adjacent Latin tokens, allowing a comma or dash between ("Tyler, the Creator")
        join = [True] + [
            pos[k] - pos[k - 1] == 1
            or (pos[k] - pos[k - 1] == 2 and units[pos[k] - 1].text in _SOFT_PUNCT)
            for k in range(1, n)
        ]
        for a in range(n):
            if a in covered:
                continue
            longest: tuple[int, str] | None = None
            for stream in streams:
                got = _longest(stream, join, a, _MAX_NGRAM, ix.latin_prefix, ix.latin)
                if got is not None and (longest is None or got[0] > longest[0]):
                    longest = got
            if longest is None:
                continue
            end, name_key = longest
            if (
                end - a == 1
                and name_key in _COMMON_WORDS
                and not _in_chinese(units, pos[a])
                and not _voice_attached(norm, units, pos, texts, a)
            ):
                continue
            method = ix.latin_method.get(name_key, "exact")
            for i in ix.latin[name_key]:
                hits.append(NameHit(i, pos[a], pos[end - 1] + 1, method, name_key))
            covered.update(range(a, end))
        for a in range(n):
            ids = ix.attached_latin.get(texts[a])
            if ids and a not in covered and _voice_attached(norm, units, pos, texts, a):
                hits.extend(NameHit(i, pos[a], pos[a] + 1, "exact", texts[a]) for i in ids)
                covered.add(a)
        # works by title: "the singer of 'Blank Space'"
        for a in range(n):
            work = _longest(texts, join, a, 8, ix.works_prefix, ix.works_latin)
            if work is not None:
                for i in ix.works_latin[work[1]]:
                    hits.append(NameHit(i, pos[a], pos[work[0] - 1] + 1, "work", work[1]))
        if not deep:
            return
        # misspelled names sit next to the voice cue ("voice of Tayler Swfit")
        cues = [k for k, t in enumerate(texts) if _CUE_TOKEN.match(t)]
        near = set(range(n)) if n <= 12 else {j for k in cues for j in range(k - 5, k + 6)}
        for a in range(n):
            if texts[a] in _FUZZY_STOP or a not in near:
                continue
            for b in range(min(n, a + 4), a, -1):
                if pos[b - 1] - pos[a] != b - 1 - a:
                    continue
                span = range(a, b)
                if any(t in _FUZZY_STOP for t in texts[a:b]) or all(j in covered for j in span):
                    continue
                cand = "".join(texts[a:b])
                if (
                    not _FUZZY_MIN <= len(cand) <= ix.max_key + 2
                    or not cand.replace(MASK, "a").isalpha()
                ):
                    continue
                if b - a == 1 and (len(cand) < 5 or cand.endswith(_WORD_ENDINGS)):
                    continue
                if b - a == 1 and len(cand) < 7 and not _capitalized(norm, units[pos[a]]):
                    continue  # "tramp", "elves": short lower-case words are not misspelled names
                best = self._fuzzy(cand, single=b - a == 1)
                if best is not None:
                    for i in ix.latin[best]:
                        hits.append(NameHit(i, pos[a], pos[b - 1] + 1, "fuzzy", best))
                    covered.update(range(a, b))
                    break

    def _fuzzy(self, cand: str, *, single: bool = False) -> str | None:
        """The closest key within the edit bound (OSA: a swap counts as one edit).

        A single token only matches a one-word name ("Beyonse"), within one edit; several
        tokens only match names of several words ("Tayler Swfit").
        """
        k = _max_edits(len(cand))
        fuzzy = self._ix.fuzzy
        keys = [
            key
            for n in range(len(cand) - k, len(cand) + k + 1)
            for key in fuzzy.get((cand[0], n), ())
        ]
        if not keys:
            return None
        # several keys can tie ("bidan" is one edit from "biden" and from "bidao"): take the
        # closest one that passes the guards
        best = process.extractOne(cand, keys, scorer=OSA.distance, score_cutoff=k)
        if best is None or int(best[1]) == 0:
            return None  # an exact key is matched (or deliberately skipped) elsewhere
        if self._fuzzy_ok(cand, str(best[0]), int(best[1]), single):
            return str(best[0])
        for key, dist, _ in process.extract(
            cand, keys, scorer=OSA.distance, score_cutoff=k, limit=4
        ):
            if self._fuzzy_ok(cand, str(key), int(dist), single):
                return str(key)
        return None

    def _fuzzy_ok(self, cand: str, key: str, dist: int, single: bool) -> bool:
        k = _max_edits(len(cand))
        if dist == 0 or dist > _max_edits(len(key)) or abs(len(key) - len(cand)) > k:
            return False
        if single != self._ix.mononym.get(key, False) or (single and dist > 1):
            return False
        # "snoopy" is another word than "snoop", not a misspelling
        return not (single and (cand.startswith(key) or key.startswith(cand)))

    def _exact_cjk(
        self, chars: str, pos: list[int], hits: list[NameHit], method: str
    ) -> list[bool]:
        ix = self._ix
        n = len(chars)
        first = ix.cjk_first
        covered = [False] * n
        for a in range(n):
            if covered[a]:
                continue
            for L in first.get(chars[a], ()):
                if a + L > n:
                    continue
                ids = ix.cjk.get(chars[a : a + L])
                if (
                    ids
                    and L == 2
                    and (
                        chars[max(0, a - 1) : a + 1] in _BIGRAM_CONFLICTS
                        or chars[a + 1 : a + 3] in _BIGRAM_CONFLICTS
                    )
                ):
                    continue  # "生成龙" is "generate a dragon", not 成龙
                if (
                    ids
                    and pos[a + L - 1] - pos[a] != L - 1
                    and any(is_kana_hangul(c) for c in chars[a : a + L])
                ):
                    continue  # kana and hangul names are never read across punctuation
                if ids and a > 0 and pos[a - 1] == pos[a] - 1 and _inside_kana_word(chars, a, L):
                    continue  # "あちゃん" inside "おばあちゃん" is part of a word, not a name
                if ids:
                    for i in ids:
                        hits.append(
                            NameHit(i, pos[a], pos[a + L - 1] + 1, method, chars[a : a + L])
                        )
                    for k in range(a, a + L):
                        covered[k] = True
                    break
        return covered

    def _find_cjk(self, units: list[Unit], pos: list[int], hits: list[NameHit], deep: bool) -> None:
        ix = self._ix
        chars = "".join(units[p].text for p in pos)
        n = len(chars)
        covered = self._exact_cjk(chars, pos, hits, "exact")
        for a, ch in enumerate(chars):
            ids = ix.attached_cjk.get(ch)
            after = _VOICE_AFTER_CJK.match(chars, a + 1)
            if (
                after
                and after.group(0) in _ROLEPLAY_ENDINGS
                and chars[max(0, a - 2) : a]
                not in (
                    "이제",
                    "今から",
                )
            ):
                after = None  # "…야" makes a name only after "너는 이제"
            if ids and not covered[a] and after:
                prev = units[pos[a] - 1] if pos[a] > 0 else None
                if (
                    prev is not None
                    and prev.end == units[pos[a]].start
                    and is_kana_hangul(prev.text)
                ):
                    continue  # "뷔" inside a longer word is a syllable, not a name
                hits.extend(NameHit(i, pos[a], pos[a] + 1, "exact", ch) for i in ids)
                covered[a] = True
        if MASK in chars:
            # "周*杰*伦": the star may be a separator rather than a masked character
            keep = [k for k, c in enumerate(chars) if c != MASK]
            self._exact_cjk(
                "".join(chars[k] for k in keep), [pos[k] for k in keep], hits, "separator"
            )
        # works: 《七里香》 or a bare title of 3+ characters
        wfirst = ix.works_first
        for a in range(n):
            for L in wfirst.get(chars[a], ()):
                if a + L > n:
                    continue
                ids = ix.works_cjk.get(chars[a : a + L])
                before = units[pos[a] - 1].text if pos[a] > 0 else ""
                if ids and (L >= 3 or before in ("《", "“", '"', "「")):
                    for i in ids:
                        hits.append(
                            NameHit(i, pos[a], pos[a + L - 1] + 1, "work", chars[a : a + L])
                        )
        if not deep:
            return
        masked_chars = chars.replace("某", MASK) if "某" in chars else chars
        if MASK in masked_chars:
            for a in range(n):
                for L in (3, 4, 5, 6):
                    if a + L > n:
                        continue
                    sub = masked_chars[a : a + L]
                    if chars[a] == "某":
                        continue  # "某天王" is "a certain superstar", not a masked name
                    if sub.count(MASK) != 1 or (sub[0] == MASK and sub[-1] == MASK):
                        continue
                    ids = ix.masked.get(sub)
                    if ids and len(ids) <= 3:
                        for i in ids:
                            hits.append(NameHit(i, pos[a], pos[a + L - 1] + 1, "mask", sub))
        readings = [pinyin_readings(c) for c in chars]
        hom = ix.homophone
        for a in range(n - 2):
            if covered[a] or covered[a + 1]:
                continue
            for r0 in readings[a]:
                for r1 in readings[a + 1]:
                    for syl, i in hom.get((r0, r1), ()):
                        L = len(syl)
                        if a + L > n or any(covered[a : a + L]):
                            continue
                        if all(syl[k] in readings[a + k] for k in range(2, L)):
                            hits.append(
                                NameHit(
                                    i, pos[a], pos[a + L - 1] + 1, "homophone", chars[a : a + L]
                                )
                            )


def _prefixes(keys: dict[str, list[int]]) -> frozenset[str]:
    return frozenset(k[:i] for k in keys for i in range(1, len(k) + 1))


_SOFT_PUNCT = frozenset(",.-'&")
# ordinary English word endings: a single such token is not fuzzily read as a name
_WORD_ENDINGS = ("ing", "ed", "tion", "ly", "ment", "ness", "ers", "est", "ies", "ful", "able")


def _capitalized(norm: Normalized, unit: Unit) -> bool:
    """True when the original text of ``unit`` starts with a capital letter."""
    s, e = norm.base_span_to_original(unit.start, unit.end)
    head = norm.original[s:e].lstrip()
    return bool(head) and head[0].isupper()


_VOICE_WORDS = frozenset({"voice", "voices", "vocals", "vocal", "timbre", "singing"})
_VOICE_MARKERS = frozenset({"ai", "real", "actual", "exact", "authentic", "cloned"})
_VOICE_BEFORE = frozenset(
    {("voice", "of"), ("vocals", "of"), ("sound", "like"), ("sounds", "like"), ("sing", "like")}
)
# after a one-syllable hangul or kana name: an optional title or particle, then a voice word
_VOICE_AFTER_CJK = lexicon.compiled("voice_after_cjk")


_ROLEPLAY_ENDINGS = frozenset({"야", "이야", "예요", "입니다", "です", "だ"})


def _voice_attached(
    norm: Normalized, units: list[Unit], pos: list[int], texts: list[str], a: int
) -> bool:
    """A capitalized name token with a voice phrase attached: "Prince's voice", "an AI Ye voice",
    "in the voice of Seal". Everyday words stay words: "a sunny voice" is lower case and "a Prince
    voice for the fairy tale" has neither a possessive nor a marker such as "AI" or "real".
    """
    if _in_chinese(units, pos[a]):
        # "用IU的声音", "IU 목소리로": a voice word in the CJK text that follows
        u = pos[a] + 1
        follow = "".join(x.text for x in units[u : u + 6] if x.kind == "C")
        return _capitalized(norm, units[pos[a]]) and bool(_VOICE_AFTER_CJK.match(follow))
    unit = units[pos[a]]
    if not _capitalized(norm, unit):
        return False
    _, e = norm.base_span_to_original(unit.start, unit.end)
    possessive = norm.original[e : e + 2] in ("'s", "’s")
    nxt = texts[a + 1] if a + 1 < len(texts) else ""
    if nxt in _VOICE_WORDS:
        return possessive or (a >= 1 and texts[a - 1] in _VOICE_MARKERS)
    return a >= 2 and (texts[a - 2], texts[a - 1]) in _VOICE_BEFORE


def _in_chinese(units: list[Unit], u: int) -> bool:
    """A Latin token written inside Chinese text ("Mirror的声音") is a name, not a word."""
    before = units[u - 1].kind == "C" if u > 0 else False
    after = units[u + 1].kind == "C" if u + 1 < len(units) else False
    return before or after


def _longest(
    texts: list[str],
    join: list[bool],
    a: int,
    max_n: int,
    prefixes: frozenset[str],
    keys: dict[str, list[int]],
) -> tuple[int, str] | None:
    """The longest run of adjacent tokens from ``a`` whose concatenation is a key."""
    n = len(texts)
    best: tuple[int, str] | None = None
    key = ""
    for b in range(a + 1, min(n, a + max_n) + 1):
        if b - 1 > a and not join[b - 1]:
            break  # a name never spans a unit that is not adjacent
        key += texts[b - 1]
        if key not in prefixes:
            break
        if key in keys:
            best = (b, key)
    return best


# Everyday words that overlap a two-character name ("生成|龙", "那|英文", "新郎|朗读").
_BIGRAM_CONFLICTS = frozenset(lexicon.words("bigram_conflicts"))


def _first_index(keys: dict[str, list[int]]) -> dict[str, tuple[int, ...]]:
    out: dict[str, set[int]] = {}
    for k in keys:
        out.setdefault(k[0], set()).add(len(k))
    return {c: tuple(sorted(v, reverse=True)) for c, v in out.items()}


def _dedupe(hits: list[NameHit]) -> list[NameHit]:
    seen: set[tuple[int, int, int]] = set()
    out: list[NameHit] = []
    for h in hits:
        k = (h.index, h.u0, h.u1)
        if k not in seen:
            seen.add(k)
            out.append(h)
    return out


def parse_csv(text: str, source: str = "<registry>") -> list[Identity]:
    """Parse registry CSV text (header row with the :data:`COLUMNS`) into identities."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"id", "name_en", "name_zh"} <= set(reader.fieldnames):
        raise RegistryError(f"{source}: header must name at least id, name_en, name_zh")
    out: list[Identity] = []
    for line, row in enumerate(reader, start=2):
        pid = (row.get("id") or "").strip()
        en = (row.get("name_en") or "").strip()
        zh = (row.get("name_zh") or "").strip()
        if not pid or not (en or zh):
            raise RegistryError(f"{source}:{line}: id and a name are required")
        kind = (row.get("kind") or "other").strip() or "other"
        if kind not in KINDS:
            raise RegistryError(f"{source}:{line}: unknown kind {kind!r}")
        roms = _split(row.get("romanizations") or "")
        if roms == ("-",):
            roms = ()  # explicitly none (a transliterated foreign name)
        elif zh and not roms and any(map(is_cjk, zh)):
            roms = (romanize(zh),)
        out.append(
            Identity(
                id=pid,
                name_en=en,
                name_zh=zh,
                aliases=_split(row.get("aliases") or ""),
                romanizations=roms,
                kind=kind,
                gender=(row.get("gender") or "x").strip() or "x",
                nogo=(row.get("nogo") or "").strip().lower() in ("1", "true", "yes", "y"),
                works=_split(row.get("works") or ""),
                region=(row.get("region") or "").strip(),
            )
        )
    return out


_SURNAMES: dict[str, str] = {
    str(k): str(v) for k, v in (lexicon.load().get("surnames") or {}).items()
}


def romanize(name_zh: str) -> str:
    """Tone-less pinyin of a Chinese name, surname first ("周杰伦" → "Zhou Jielun")."""
    chars = [c for c in normalize(name_zh).base if is_cjk(c)]
    if not chars:
        return ""
    sy = [pinyin_readings(c)[0] if pinyin_readings(c) else c for c in chars]
    if chars[0] in _SURNAMES:
        sy[0] = _SURNAMES[chars[0]]
    if len(sy) >= 4 and "".join(chars[:2]) in (
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "令狐",
        "慕容",
    ):
        return f"{(sy[0] + sy[1]).title()} {''.join(sy[2:]).title()}"
    return f"{sy[0].title()} {''.join(sy[1:]).title()}".strip()


def write_csv(identities: Iterable[Identity]) -> str:
    """Registry CSV text for ``identities`` (the inverse of :func:`parse_csv`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for p in identities:
        w.writerow(
            [
                p.id,
                p.name_en,
                p.name_zh,
                ";".join(p.aliases),
                ";".join(p.romanizations) or "-",
                p.kind,
                p.gender,
                "1" if p.nogo else "0",
                ";".join(p.works),
                p.region,
            ]
        )
    return buf.getvalue()


# kana that end a word before a name: particles and verb or adjective endings ("大好きなあいみょん",
# "今からあいみょん", "米津玄師とあいみょん")
_KANA_WORD_ENDS = frozenset("のはがをにでともなやへかねよてたるすだうくらどしぜぞわさ、")


def _script(ch: str) -> str:
    if "\u3041" <= ch <= "\u3096":
        return "hiragana"
    if "\u30a1" <= ch <= "\u30fa" or ch == "\u30fc":
        return "katakana"
    return ""


def _inside_kana_word(chars: str, a: int, length: int) -> bool:
    """True when a short name written in kana continues a kana word ("おば|あちゃん").

    Kana names are matched as substrings; a name of up to four kana that starts right after a
    kana of the same script that does not end a word is a piece of a longer word.
    """
    name = chars[a : a + length]
    script = _script(name[0]) if a > 0 and length <= 4 else ""
    if not script or any(_script(c) != script for c in name):
        return False
    return _script(chars[a - 1]) == script and chars[a - 1] not in _KANA_WORD_ENDS
