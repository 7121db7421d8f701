"""Text normalization before screening.

Every step is a small public function that can be tested on its own:

* :func:`nfkc` — Unicode NFKC compatibility folding.
* :func:`to_halfwidth` — full-width ASCII forms and the ideographic space to ASCII.
* :func:`strip_invisible` — zero-width, bidi, variation-selector and control characters removed.
* :func:`fold_homoglyphs` — Cyrillic/Greek look-alikes folded to Latin letters, accents dropped.
* :func:`to_simplified` — traditional Chinese characters to simplified ones (OpenCC ``t2s``).
* :func:`collapse_separators` — separators inside names collapsed ("周·杰·伦", "T a y l o r").
* :func:`decode_leet` — leetspeak digits and symbols inside words back to letters.
* :func:`strip_pinyin_tones` — tone marks and tone digits removed from pinyin.
* :func:`to_pinyin` — Chinese characters to tone-less pinyin syllables.

:func:`normalize` composes them into a :class:`Normalized` view of a prompt. The per-character
steps are folded into one cached translation table so the hot path is a single
``str.translate`` call; the context-dependent steps (separators, leetspeak, pinyin tone digits)
work on the token stream.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import opencc

__all__ = [
    "MASK",
    "Normalized",
    "Unit",
    "collapse_separators",
    "decode_leet",
    "fold_homoglyphs",
    "is_cjk",
    "is_cjk_like",
    "is_kana_hangul",
    "nfkc",
    "normalize",
    "normalize_char",
    "pinyin_readings",
    "span_obfuscations",
    "strip_invisible",
    "strip_pinyin_tones",
    "to_halfwidth",
    "to_pinyin",
    "to_simplified",
]

#: The character every masking symbol ("*", "×", "○", "□", …) is folded to.
MASK = "*"
_MASK_CHARS = set("*×✕✖○●□■◯〇#＊�")
# The ideographic zero 〇 is also a masking mark in Chinese text ("周〇伦").

# Cyrillic and Greek letters that render like Latin ones (lower case; input is case-folded first).
_HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "с": "c",
    "ԁ": "d",
    "е": "e",
    "ё": "e",
    "һ": "h",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "к": "k",
    "ӏ": "l",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "ԛ": "q",
    "ѕ": "s",
    "т": "t",
    "у": "y",
    "ү": "y",
    "х": "x",
    "ԝ": "w",
    "ѡ": "w",
    "ь": "b",
    "г": "r",
    "п": "n",
    "з": "3",
    "л": "n",
    # Greek
    "α": "a",
    "β": "b",
    "γ": "y",
    "δ": "d",
    "ε": "e",
    "ζ": "z",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "σ": "o",
    "ς": "s",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    "μ": "u",
    "θ": "o",
    "λ": "l",
    # Latin look-alikes outside ASCII that NFKC keeps
    "ı": "i",
    "ł": "l",
    "ø": "o",
    "đ": "d",
    "ħ": "h",
    "ŀ": "l",
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ɑ": "a",
    "ɡ": "g",
    "ɩ": "i",
    "ɪ": "i",
    "ʏ": "y",
}

_LEET: dict[str, str] = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
    "+": "t",
    "€": "e",
}
_LEET_L = dict(_LEET, **{"1": "l"})

_T2S = opencc.OpenCC("t2s")

# Enclosed letters NFKC leaves alone: squared, negative circled/squared, regional indicators.
_ENCLOSED = ((0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189), (0x1F1E6, 0x1F1FF))
# Between the letters of a name any short run of these is a separator (not sentence punctuation).
_CLAUSE_COMMA = set("，,、")
_HARD_PUNCT = set('。！？!?《》「」『』"“”()（）[]【】{}:：=;；')

# Separators that may be inserted inside a name ("周·杰·伦", "T.a.y.l.o.r", "J-a-y").
_SEPARATORS = set(" \t\r\n·•・‧∙⋅.,-–—_~/\\|:;'`^+=、，。")


def nfkc(text: str) -> str:
    """Unicode NFKC normalization (compatibility forms, ligatures, circled letters)."""
    return unicodedata.normalize("NFKC", text)


def to_halfwidth(text: str) -> str:
    """Full-width ASCII forms (U+FF01–U+FF5E) and the ideographic space to ASCII."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        elif code == 0x3000:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def _invisible(ch: str) -> bool:
    cat = unicodedata.category(ch)
    if ch in "\t\n\r":
        return False
    if cat in ("Cc", "Cf", "Co", "Cs", "Cn"):
        return True
    code = ord(ch)
    return (
        0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or code in (0x115F, 0x1160, 0x3164)
    )


def strip_invisible(text: str) -> str:
    """Remove zero-width, bidi, variation-selector, private-use and control characters."""
    return "".join(ch for ch in text if not _invisible(ch))


def fold_homoglyphs(text: str) -> str:
    """Fold Cyrillic/Greek look-alikes to Latin and drop accents (é → e); lower-cases the text."""
    out = []
    for ch in text.casefold():
        mapped = _HOMOGLYPHS.get(ch)
        if mapped is not None:
            out.append(mapped)
            continue
        if ord(ch) < 128 or is_cjk(ch):
            out.append(ch)
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        out.append(_HOMOGLYPHS.get(base, base))
    return "".join(out)


def to_simplified(text: str) -> str:
    """Traditional Chinese characters to simplified ones (OpenCC ``t2s``)."""
    return str(_T2S.convert(text))


def is_cjk(ch: str) -> bool:
    """True for a CJK unified ideograph (basic block and extension A)."""
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


def is_kana_hangul(ch: str) -> bool:
    """True for a Japanese kana (with the prolonged-sound mark) or a Korean hangul syllable.

    They are matched like Chinese characters, one unit each ("아이유", "ヒカキン"), but never
    read as pinyin or homophones.
    """
    code = ord(ch)
    return (
        0x3041 <= code <= 0x3096
        or 0x30A1 <= code <= 0x30FA
        or code == 0x30FC
        or 0xAC00 <= code <= 0xD7AF
    )


def is_cjk_like(ch: str) -> bool:
    """A Chinese character, kana or hangul: a one-character matching unit."""
    return is_cjk(ch) or is_kana_hangul(ch)


@lru_cache(maxsize=65536)
def normalize_char(ch: str) -> str:
    """All per-character steps for one character: NFKC, half-width, invisible, homoglyph, t2s.

    Masking symbols become :data:`MASK`; separators and punctuation are kept for the token pass.
    """
    if _invisible(ch):
        return " " if unicodedata.category(ch) == "Cc" and ch not in "\x00" else ""
    if ch in _MASK_CHARS:
        return MASK
    code = ord(ch)
    for lo, hi in _ENCLOSED:
        if lo <= code <= hi:
            return chr(ord("a") + code - lo)
    s = to_halfwidth(nfkc(ch))
    if any(c in _MASK_CHARS for c in s):
        return MASK
    if s and all(is_kana_hangul(c) for c in s):
        return s  # "が", "아": the accent folding below would split them into parts
    s = fold_homoglyphs(s)
    if any(is_cjk(c) for c in s):
        t = to_simplified(s)
        # OpenCC writes a few Cantonese characters as astral ones ("嗰" → U+20BB6), which
        # the matchers do not read as Chinese; such characters are kept as written
        s = s if any(ord(c) > 0xFFFF for c in t) else t
    return s


class _CharTable(dict[int, str]):
    """A ``str.translate`` table that computes and caches :func:`normalize_char` on demand."""

    def __missing__(self, code: int) -> str:
        value = normalize_char(chr(code))
        self[code] = value
        return value


_TABLE = _CharTable()
for _c in range(32, 127):
    _TABLE[_c] = chr(_c).lower()


def _per_char(text: str) -> str:
    return text.translate(_TABLE)


_SYL = (
    r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|"
    r"van|ai|ei|ao|ou|an|en|in|un|vn|ia|ie|iu|ua|uo|ui|ve|ue|er|a|o|e|i|u|v)"
)
_SYL_TONE = re.compile(rf"^(?:{_SYL}[1-5])+$")
_TONE_DIGIT = re.compile(r"[1-5]")


def strip_pinyin_tones(text: str) -> str:
    """Remove tone marks ("zhōu jiélún") and tone digits ("zhou1 jie2 lun2") from pinyin."""
    text = fold_homoglyphs(text)
    return " ".join(
        _TONE_DIGIT.sub("", tok) if _SYL_TONE.match(tok) else tok for tok in text.split(" ")
    )


def decode_leet(text: str, one: str = "i") -> str:
    """Leetspeak back to letters inside words that also contain letters ("t4yl0r" → "taylor").

    Pure numbers ("2024", "3") are left alone. ``one`` chooses the reading of "1" (i or l).
    """
    table = _LEET if one == "i" else _LEET_L
    return _LEET_WORD.sub(lambda m: _decode_token(m.group(0), table), text)


_LEET_WORD = re.compile(r"[a-z0-9@$€]+(?:[!|+][a-z0-9@$€]+)*[!]?", re.IGNORECASE)


_NOT_LEET = re.compile(
    r"^(?:\d+(?:s|st|nd|rd|th|d|k|p|x|am|pm|kb|mb|gb|hz|khz|db|min|h|m|fps|bpm|ms|v)"
    r"|[a-z]{1,4}\d{1,4}|\d+[a-z]\d+)$"
)


def _decode_token(tok: str, table: dict[str, str]) -> str:
    if (
        not any(c.isalpha() for c in tok)
        or not any(c in table for c in tok)
        or _NOT_LEET.match(tok)
    ):
        return tok  # "1980s", "3d", "mp3", "2024": numbers and codes, not leetspeak
    if tok.endswith("!") and not tok[:-1].isalpha():
        tok = tok[:-1] + "i"
    elif tok.endswith("!"):
        return tok
    return "".join(table.get(c, c) for c in tok)


def collapse_separators(text: str) -> str:
    """Collapse separators inserted inside a name.

    Between two Chinese characters any short run (≤ 3) of separators/spaces is removed
    ("周·杰·伦" → "周杰伦"); runs of three or more single Latin letters split by separators are
    joined ("T a y l o r" → "taylor").
    """
    norm = normalize(text)
    return norm.clean


def to_pinyin(text: str) -> str:
    """Chinese characters to tone-less pinyin syllables separated by spaces (first reading)."""
    out: list[str] = []
    for ch in text:
        if is_cjk(ch):
            readings = pinyin_readings(ch)
            out.append(readings[0] if readings else ch)
        elif ch.strip():
            out.append(ch)
    return " ".join(out)


@lru_cache(maxsize=65536)
def pinyin_readings(ch: str) -> tuple[str, ...]:
    """All tone-less pinyin readings of one Chinese character ("曾" → ("zeng", "ceng"))."""
    from pypinyin.pinyin_dict import pinyin_dict

    raw = pinyin_dict.get(ord(ch))
    if not raw:
        return ()
    seen: list[str] = []
    for r in str(raw).split(","):
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", r) if not unicodedata.combining(c)
        ).replace("ü", "v")
        if plain and plain not in seen:
            seen.append(plain)
    return tuple(seen)


@dataclass(slots=True)
class Unit:
    """One unit of the cleaned prompt: a Latin token or a single Chinese character.

    ``start``/``end`` are offsets in :attr:`Normalized.base`.
    """

    kind: str  # "L" (latin token) or "C" (CJK char / mask between CJK)
    text: str
    start: int
    end: int
    alt: str = ""  # second leetspeak reading ("1" as "l") when it differs
    poss: bool = False  # followed by a possessive "'s" ("swift's")


@dataclass(slots=True)
class Normalized:
    """A prompt after normalization, with the views the matchers use."""

    original: str
    base: str  # per-character normalized (same order; lengths may differ from original)
    units: list[Unit]
    clean: str  # units rendered: latin tokens space-separated, CJK joined, key punctuation
    clean_map: list[int]  # clean offset -> unit index (-1 for rendered punctuation/space)
    obfuscations: set[str] = field(default_factory=set)
    _cum: list[int] | None = None  # base offset where each original character starts

    def base_span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of :attr:`base` back to the original prompt."""
        cum = self._cum
        if cum is None:
            cum = [0]
            for ch in self.original:
                cum.append(cum[-1] + len(_TABLE[ord(ch)]))
            self._cum = cum
        o_start = max(0, bisect.bisect_right(cum, start) - 1)
        o_end = min(len(self.original), bisect.bisect_left(cum, end))
        return min(o_start, len(self.original)), max(o_end, o_start)

    def unit_span_to_original(self, u0: int, u1: int) -> tuple[int, int]:
        """Map units ``[u0, u1)`` back to an original span."""
        return self.base_span_to_original(self.units[u0].start, self.units[u1 - 1].end)


_TOKEN = re.compile(
    r"(?P<L>[a-z0-9@$€*]+(?:[!|+'][a-z0-9@$€*]+)*!?)|(?P<C>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3041-\u3096\u30a1-\u30fa\u30fc\uac00-\ud7af])|(?P<P>[^\s])"
)
_KEEP_PUNCT = set("。，,.!?！？;；:：=>→\"“”‘’'《》「」『』()（）")


def normalize(text: str) -> Normalized:
    """Run the whole pipeline and return the views used by the matchers."""
    base = _per_char(text)
    obf: set[str] = set()
    if len(base) != len(text) or base != text.lower():
        _note_char_obfuscation(text, base, obf)
    units: list[Unit] = []
    raw: list[tuple[str, str, int, int]] = []
    for m in _TOKEN.finditer(base):
        raw.append((m.lastgroup or "P", m.group(0), m.start(), m.end()))
    n = len(raw)
    i = 0
    pending: list[tuple[str, int, int]] = []
    run = 0  # length of the current run of CJK units with nothing between them
    while i < n:
        kind, tok, s, e = raw[i]
        if kind == "L" and tok.strip(MASK) == "":
            # a run of masks ("周*伦", "周**"): one masked character each
            units.extend(_flush(pending))
            pending = []
            units.extend(Unit("C", MASK, s + k, s + k + 1) for k in range(len(tok)))
            obf.add("mask")
        elif kind == "L":
            if len(tok) == 1 and (tok.isalpha() or tok in _LEET):
                j, letters, last_end = _letter_run(raw, i)
                if len(letters) >= 3 and sum(c.isalpha() for c in "".join(letters)) >= 2:
                    units.extend(_flush(pending))
                    pending = []
                    units.extend(_spaced_words(base, raw, i, j, letters, last_end))
                    obf.add("spacing")
                    i = j + 1
                    continue
            units.extend(_flush(pending))
            pending = []
            units.append(_latin_unit(tok, s, e, obf))
        elif kind == "C":
            prev_c = bool(units) and units[-1].kind == "C"
            ideographs = (
                prev_c
                and is_cjk(tok)
                and units[-1].text[:1] != ""
                and (is_cjk(units[-1].text[0]) or units[-1].text == MASK)
            )
            # a comma after a run of two or more characters ends a clause ("不要太长，用…"),
            # while "周，杰，伦" separates single characters
            clause = run >= 2 and any(p[0] in _CLAUSE_COMMA for p in pending)
            if (
                prev_c
                and ideographs
                and len(pending) <= 3
                and not clause
                and all(p[0] not in _HARD_PUNCT for p in pending)
            ):
                # "周·杰·伦": separators inside a Chinese name are dropped (never between kana or
                # hangul, where "로 '제" is two words, not the name 로제)
                if pending or (base[units[-1].end : s].strip() == "" and units[-1].end < s):
                    obf.add("separator")
                    run = 0  # the next character starts a new run after a dropped separator
                pending = []
            run = run + 1 if prev_c and not pending and run else 1
            units.extend(_flush(pending))
            pending = []
            units.append(Unit("C", tok, s, e))
        else:
            pending.append((tok, s, e))
        i += 1
    units.extend(_flush(pending))
    clean, cmap = render(units)
    return Normalized(text, base, units, clean, cmap, obf)


_TRIPLE = re.compile(r"([a-z])\1{2,}")
_LETTER_POSS = re.compile(r"^[a-z]'s$")


def _letter_run(raw: list[tuple[str, str, int, int]], i: int) -> tuple[int, list[str], int]:
    """Single letters split by short separator runs, starting at ``raw[i]``.

    Returns the index of the last letter, the letters and the end offset of the run.
    """
    n = len(raw)
    j = i
    letters = [raw[i][1]]
    last_end = raw[i][3]
    while j + 1 < n:
        k = j + 1
        while k < n and raw[k][0] == "P" and raw[k][1] not in _HARD_PUNCT:
            k += 1
        if (
            k == j + 2
            and k < n
            and raw[j + 1][1] in "'’"
            and raw[k][1] == "s"
            and (k + 1 >= n or raw[k + 1][2] > raw[k][3])
        ):
            # "C h o u 's": a possessive, not one more letter
            letters.append("'s")
            last_end = raw[k][3]
            j = k
            break
        if (
            k < n
            and raw[k][0] == "L"
            and (len(raw[k][1]) == 1 or _LETTER_POSS.match(raw[k][1]))
            and (raw[k][1][0].isalpha() or raw[k][1][0] in _LEET)
            and raw[k][2] - last_end <= 3
        ):
            letters.append(raw[k][1])
            last_end = raw[k][3]
            j = k
            if len(raw[k][1]) > 1:
                break
        else:
            break
    return j, letters, last_end


def _spaced_words(
    base: str, raw: list[tuple[str, str, int, int]], i: int, j: int, letters: list[str], end: int
) -> list[Unit]:
    """Units for a run of spaced letters, split into words where the gap is wider.

    "T a y l o r   S w i f t" and "c.l.o.n.e T.a.y.l.o.r" become two and more words; a run
    with one kind of gap ("T a y l o r") stays one word.
    """
    spans: list[tuple[int, int]] = []
    k = i
    for _ in letters:
        while raw[k][0] != "L":
            k += 1
        spans.append((raw[k][2], raw[k][3]))
        k += 1
    gaps = [base[spans[m][1] : spans[m + 1][0]] for m in range(len(spans) - 1)]
    common = max(set(gaps), key=gaps.count) if gaps else ""
    words: list[list[int]] = [[0]]
    for m, gap in enumerate(gaps):
        wider = gap != common and (
            (any(c.isspace() for c in gap) and not any(c.isspace() for c in common))
            or (len(gap.strip()) == len(common.strip()) and len(gap) > len(common))
        )
        if wider:
            words.append([])
        words[-1].append(m + 1)
    out: list[Unit] = []
    for w in words:
        word = "".join(letters[m] for m in w)
        start, stop = spans[w[0]][0], spans[w[-1]][1]
        poss = word.endswith("'s")
        if poss:
            word, stop = word[:-2], stop - 2
        out.append(Unit("L", _decode_token(word, _LEET), start, stop, poss=poss))
    if out and out[-1].end < end and not out[-1].poss:
        out[-1].end = end
    return out


def _flush(pending: list[tuple[str, int, int]]) -> list[Unit]:
    return [Unit("P", p[0], p[1], p[2]) for p in pending if p[0] in _KEEP_PUNCT or p[0] == MASK]


def _latin_unit(tok: str, s: int, e: int, obf: set[str]) -> Unit:
    poss = False
    while tok.endswith("!") and len(tok) > 1 and tok[-2] != "!" and tok[:-1].isalpha():
        tok, e = tok[:-1], e - 1  # "ADELE!" is a shout, not leetspeak
    if "'" in tok:
        if tok.endswith("'s") and len(tok) > 2:
            # possessive "swift's": keep the name token intact for the matchers
            tok, e, poss = tok[:-2], e - 2, True
        tok = tok.replace("'", "")
    if _SYL_TONE.match(tok):
        obf.add("pinyin")
        return Unit("L", _TONE_DIGIT.sub("", tok), s, e, poss=poss)
    if any(c in _LEET for c in tok) and any(c.isalpha() for c in tok):
        dec = _decode_token(tok, _LEET)
        if dec != tok:
            obf.add("leet")
            alt = _decode_token(tok, _LEET_L)
            return Unit("L", dec, s, e, alt=alt if alt != dec else "", poss=poss)
        # "elvi5", "sz4": read as a code first, as leetspeak by the name matcher
        alt = "".join(_LEET.get(c, c) for c in tok)
        return Unit("L", tok, s, e, alt=alt, poss=poss)
    if tok.endswith("!"):
        tok = tok[:-1]
    if _TRIPLE.search(tok):
        # "Obamaaa", "Swiiiift": stretched letters
        return Unit("L", tok, s, e, alt=_TRIPLE.sub(r"\1", tok), poss=poss)
    if MASK in tok:
        # "Taylor*Swift" (a separator) or "T*ylor" (a masked letter, left to the fuzzy matcher)
        obf.add("mask")
        return Unit("L", tok, s, e, alt=tok.replace(MASK, ""), poss=poss)
    return Unit("L", tok, s, e, poss=poss)


def render(
    units: list[Unit], markers: dict[int, tuple[int, str]] | None = None
) -> tuple[str, list[int]]:
    """Render units as clean text; ``markers`` maps a start unit to (end unit, marker text)."""
    parts: list[str] = []
    cmap: list[int] = []
    prev = ""
    i = 0
    n = len(units)
    while i < n:
        if markers and i in markers:
            end, mark = markers[i]
            if prev == "L":
                parts.append(" ")
                cmap.append(-1)
            if units[end - 1].poss:
                mark += "'s"
            parts.append(mark)
            cmap.extend([i] * len(mark))
            cmap.append(i)
            prev = "M"
            i = end
            continue
        u = units[i]
        if u.kind == "L":
            if prev in ("L", "M"):
                parts.append(" ")
                cmap.append(-1)
            text = u.text + "'s" if u.poss else u.text
            parts.append(text)
            cmap.extend([i] * len(text))
        else:
            parts.append(u.text)
            cmap.append(i)
        prev = u.kind if u.kind != "P" else ""
        i += 1
    return "".join(parts), cmap


_SPAN_SEP = re.compile(r"[^\w\s]|_")


def span_obfuscations(text: str) -> set[str]:
    """The obfuscation kinds visible inside one matched name (its original text)."""
    out: set[str] = set()
    _note_char_obfuscation(text, _per_char(text), out)
    plain = strip_invisible(to_halfwidth(nfkc(text)))
    if any(c in _MASK_CHARS for c in plain):
        out.add("mask")
    stripped = plain.replace("'s", "")
    if _SPAN_SEP.search(stripped.replace("·", "").replace("-", "")) or (
        "·" in stripped and sum(map(is_cjk, stripped)) >= 2 and stripped.count("·") >= 2
    ):
        out.add("separator")
    words = stripped.split()
    if len(words) >= 3 and sum(len(w) == 1 for w in words) >= 3:
        out.add("spacing")
    if any(ch.isdigit() for ch in stripped) and any(ch.isalpha() for ch in stripped):
        out.add("leet")
    return out


def _note_char_obfuscation(original: str, base: str, obf: set[str]) -> None:
    for ch in original:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            obf.add("fullwidth")
        elif _invisible(ch) and ch not in "\t\n\r":
            obf.add("invisible")
        elif ch.casefold() in _HOMOGLYPHS and not ch.isascii():
            obf.add("homoglyph")
        elif is_cjk(ch) and normalize_char(ch) != ch:
            obf.add("traditional")
