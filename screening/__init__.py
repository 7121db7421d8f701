"""Voice-impersonation prompt screening (Mandarin, Cantonese, English, Japanese, Korean),
robust to obfuscation and encodings, with an optional semantic stage.

>>> from screening import Screener
>>> d = Screener.default().screen("make a song in Jay Chou's voice", tier="free")
>>> d.action, [r.code for r in d.reasons]
('deny', ['VOICE_IMPERSONATION'])

Rules over normalized text always; with the ``semantic`` extra installed, ``Screener.default()``
also attaches :class:`SemanticStage` (a bundled multilingual encoder and a trained classifier that
sends likely voice requests the rules allowed to review). Imports nothing from the other provkit
parts; no network, nothing downloaded at run time.
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
from screening.semantic import SemanticStage

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
    "SemanticStage",
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
