"""People named but not in the registry: the possessor of a voice word.

The registry knows 3,000 people; a prompt can name anyone else. "Clone Joanna Lumley's voice",
"用李雪琴的声音", "長屋晴子の声で" and "최유리 목소리로" name a real person as surely as a
registry hit does; only the matcher does not know them. This stage finds such names where a
voice word hangs on them (patterns ``named_unknown_*`` in ``screening/data/patterns.yaml``) and
keeps a candidate only when it looks like a person's name:

* Latin script: two or more words, each capitalized in the original prompt and none of them a
  stop word ("Make", "Santa", "Siri"; ``named_unknown_stop_en``), so "a deep male voice" and
  "Darth Vader's voice" are not people;
* Chinese: three characters starting with a common surname ("温柔的声音", "模仿鸟叫声" do
  not), or a title after the name (老师, 先生), minus the words in ``named_unknown_stop_zh``;
* Japanese: three to five kanji not ending in a description's last character ("中年男性"), or
  a name with さん / ちゃん;
* Korean: three syllables starting with a surname and not ending like an adjective
  ("조용한"), or a name with 님 / 씨.

The screener reads the intent around each name as for a registry person, so "why is Jo
Bloggs's voice so calm?" stays a mention; the policy treats a clone of such a person like a
private person's (denied on the free tier, reviewed on paid tiers) with the reason
``NAMED_PERSON_VOICE``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from screening import lexicon
from screening.intent import TargetSpan
from screening.normalization import normalize_char

__all__ = ["find_named_unknown"]

_EN_RIGHT = lexicon.compiled("named_unknown_en")  # the name ends at the voice word
_EN_LEFT = (lexicon.compiled("named_unknown_en_of"), lexicon.compiled("named_unknown_en_like"))
_ZH = lexicon.compiled("named_unknown_zh")
_JA = lexicon.compiled("named_unknown_ja")
_JA_TITLE = lexicon.compiled("named_unknown_ja_title")
_KO = lexicon.compiled("named_unknown_ko")


def _folded(key: str) -> list[str]:
    """A lexicon list folded like the prompt text (lower case, simplified: 長 → 长)."""
    return ["".join(normalize_char(c) for c in w.lower()) for w in lexicon.words(key)]


_STOP_EN = frozenset(_folded("named_unknown_stop_en"))
_SURNAMES_ZH = tuple(_folded("named_unknown_surnames_zh"))
_STOP_ZH = frozenset(_folded("named_unknown_stop_zh"))
_STOP_END_JA = tuple(_folded("named_unknown_stop_end_ja"))
_STOP_JA = frozenset(_folded("named_unknown_stop_ja"))
_SURNAMES_KO = frozenset(lexicon.words("named_unknown_surnames_ko"))
_STOP_KO = frozenset(lexicon.words("named_unknown_stop_ko"))
_STOP_END_KO = frozenset(lexicon.words("named_unknown_stop_end_ko"))
_MARKER = re.compile("[\ue000-\uf8ff]")
# an adjective before a name candidate: "優しい", "可愛い", "素敵な" (kanji, then い or な)
_JA_ADJECTIVE = re.compile(r".*(?:[\u4e00-\u9fff]|し)[いな]")
_WORD = re.compile(r"\S+")


def find_named_unknown(marked: str, capitalized: Callable[[int, int], bool]) -> list[TargetSpan]:
    """Candidate names (``who="named_unknown"``) in the marked text.

    ``capitalized(start, end)`` says whether the marked text's word at ``start:end`` is
    capitalized in the original prompt (the marked text is lower case).
    """
    out: list[TargetSpan] = []
    for m in _EN_RIGHT.finditer(marked):
        _latin(marked, m, capitalized, from_right=True, out=out)
    for rx in _EN_LEFT:
        for m in rx.finditer(marked):
            _latin(marked, m, capitalized, from_right=False, out=out)
    for m in _ZH.finditer(marked):
        name, title = m.group("name"), m.group("title")
        if _MARKER.search(name) or name in _STOP_ZH:
            continue
        if (len(name) == 3 and name.startswith(_SURNAMES_ZH)) or title is not None:
            out.append(_span(m, "name"))
    for rx in (_JA, _JA_TITLE):
        for m in rx.finditer(marked):
            name = m.group("name")
            s = m.start("name")
            cut = name.rfind("の") + 1
            if 0 < cut <= len(name) - 2:  # "友達のゆいちゃん" → "ゆい"
                name, s = name[cut:], s + cut
            adj = _JA_ADJECTIVE.search(name)
            if adj is not None:  # "優しいおばあちゃん" → "おばあ" (a stop word)
                name, s = name[adj.end() :], s + adj.end()
            if (
                len(name) < 2
                or _MARKER.search(name)
                or name in _STOP_JA
                or name.endswith(_STOP_END_JA)
            ):
                continue
            out.append(TargetSpan("named_unknown", s, s + len(name), name))
    for m in _KO.finditer(marked):
        name, title = m.group("name"), m.group("title")
        if _MARKER.search(name) or name in _STOP_KO:
            continue
        plain = len(name) == 3 and name[0] in _SURNAMES_KO and name[-1] not in _STOP_END_KO
        if plain or title is not None:
            out.append(_span(m, "name"))
    return out


def _span(m: re.Match[str], group: str) -> TargetSpan:
    return TargetSpan("named_unknown", m.start(group), m.end(group), m.group(group))


def _latin(
    marked: str,
    m: re.Match[str],
    capitalized: Callable[[int, int], bool],
    *,
    from_right: bool,
    out: list[TargetSpan],
) -> None:
    s0 = m.start("name")
    words = [(s0 + w.start(), s0 + w.end()) for w in _WORD.finditer(m.group("name"))]
    if from_right:
        words.reverse()
    run: list[tuple[int, int]] = []
    for a, b in words:
        word = marked[a:b].strip(".,'’-")
        if not word or word in _STOP_EN or _MARKER.search(word) or not capitalized(a, b):
            break
        run.append((a, a + len(marked[a:b].rstrip(".,'’-"))))
    if len(run) < 2:
        return
    start, end = min(a for a, _ in run), max(b for _, b in run)
    out.append(TargetSpan("named_unknown", start, end, marked[start:end]))
