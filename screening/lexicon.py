"""Word lists and patterns held as data, loaded once at import.

``screening/data/lexicon.yaml`` holds word lists: stop lists, surname readings, homophone
spellings of cue words, language markers and the Japanese, Korean and Cantonese cue words; the
matchers compile them into regular expressions where they are used.
``screening/data/patterns.yaml`` holds the cue and target-phrase patterns of the intent reader
and the registry ("clone X's voice", "my grandma", "the founder of …", the context words of
fraud, evasion, politics, leaks and ads), each as a list of alternatives. Operators tune both
without touching code.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from screening.errors import ScreeningError

__all__ = [
    "DEFAULT_LEXICON",
    "DEFAULT_PATTERNS",
    "alternation",
    "compiled",
    "load",
    "pattern",
    "words",
]

DEFAULT_LEXICON = Path(__file__).resolve().parent / "data" / "lexicon.yaml"
DEFAULT_PATTERNS = Path(__file__).resolve().parent / "data" / "patterns.yaml"


@lru_cache(maxsize=4)
def load(path: str | Path = DEFAULT_LEXICON) -> dict[str, Any]:
    """The parsed lexicon file (cached)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ScreeningError(f"{path}: expected a mapping of word lists")
    return data


def words(key: str) -> list[str]:
    """One list of the shipped lexicon (``[]`` when absent)."""
    value = load().get(key) or []
    if not isinstance(value, list):
        raise ScreeningError(f"lexicon: {key} must be a list")
    return [str(v) for v in value]


def alternation(key: str) -> str:
    """A regex alternation of one list, longest first, each entry escaped."""
    items = sorted(set(words(key)), key=lambda w: (-len(w), w))
    return "(?:" + "|".join(re.escape(w) for w in items) + ")" if items else "(?!)"


def pattern(key: str, path: str | Path = DEFAULT_PATTERNS) -> str:
    """One pattern of the patterns file: its alternatives joined by ``|``."""
    value = load(path).get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ScreeningError(f"{path}: {key} must be a non-empty list of pattern alternatives")
    return "|".join(value)


def compiled(key: str) -> re.Pattern[str]:
    """One shipped pattern, compiled (a bad pattern names its key)."""
    try:
        return re.compile(pattern(key))
    except re.error as exc:
        raise ScreeningError(f"patterns: {key}: {exc}") from exc
