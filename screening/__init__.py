"""Voice-impersonation prompt screening (Chinese and English), robust to obfuscation.

>>> from screening import Screener
>>> d = Screener.default().screen("make a song in Jay Chou's voice", tier="free")
>>> d.action, [r.code for r in d.reasons]
('deny', ['VOICE_IMPERSONATION'])

Pure text: imports nothing from the other provkit parts, needs no network and no model.
"""

from __future__ import annotations

from screening.consent import ConsentEntry, ConsentRegistry
from screening.errors import BadPrompt, PolicyError, RegistryError, ScreeningError
from screening.normalization import (
    Normalized,
    collapse_separators,
    decode_leet,
    fold_homoglyphs,
    nfkc,
    normalize,
    strip_invisible,
    strip_pinyin_tones,
    to_halfwidth,
    to_pinyin,
    to_simplified,
)
from screening.policy import Facts, Policy, Rule
from screening.registry import Identity, IdentityRegistry
from screening.screener import (
    DEFAULT_MAX_CHARS,
    Decision,
    Match,
    Reason,
    ReviewClassifier,
    Screener,
    detect_language,
)

__all__ = [
    "DEFAULT_MAX_CHARS",
    "BadPrompt",
    "ConsentEntry",
    "ConsentRegistry",
    "Decision",
    "Facts",
    "Identity",
    "IdentityRegistry",
    "Match",
    "Normalized",
    "Policy",
    "PolicyError",
    "Reason",
    "RegistryError",
    "ReviewClassifier",
    "Rule",
    "Screener",
    "ScreeningError",
    "collapse_separators",
    "decode_leet",
    "detect_language",
    "fold_homoglyphs",
    "nfkc",
    "normalize",
    "strip_invisible",
    "strip_pinyin_tones",
    "to_halfwidth",
    "to_pinyin",
    "to_simplified",
]
