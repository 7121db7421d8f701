"""Word lists held as data: ``screening/data/lexicon.yaml``, loaded once at import.

Stop lists, surname readings, homophone spellings of cue words, language markers and the
Japanese, Korean and Cantonese cue words live in the YAML file so that operators tune them
without touching code; the matchers compile them into regular expressions where they are used.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from screening.errors import ScreeningError

__all__ = ["DEFAULT_LEXICON", "alternation", "load", "words"]

DEFAULT_LEXICON = Path(__file__).resolve().parent / "data" / "lexicon.yaml"


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
