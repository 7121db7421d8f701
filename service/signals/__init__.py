"""Provenance signals, each one module of this package, run by :func:`service.pipeline.verify`.

Every module here defines a :class:`~service.signals.base.Signal` subclass and registers it with
:func:`register`; :func:`registered` imports the package's modules and returns one instance of
each, cheapest first. Adding a signal is adding a module: nothing else changes, including the
verdict (it folds claims) and the web page (it reads :func:`reason_table` from
``/reasons.json``).

>>> [s.name for s in registered()]
['exact_hash', 'watermark', 'fingerprint', 'label', 'c2pa']
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import TypeVar

from service.signals.base import (
    Claim,
    GenerateJob,
    Outcome,
    Signal,
    SignalResult,
    Upload,
    VerifyContext,
)
from service.verdict import VERDICT_REASONS, Reason

S = TypeVar("S", bound=type[Signal])
_REGISTRY: dict[str, type[Signal]] = {}
_LOADED = False
LANGUAGES = ("en", "zh")


def register(cls: S) -> S:
    """Class decorator: make ``cls`` one of the signals :func:`verify` runs."""
    for code, texts in cls.reasons.items():
        missing = [lang for lang in LANGUAGES if lang not in texts]
        if missing:
            raise ValueError(f"signal {cls.name}: reason {code!r} has no {missing[0]} text")
    _REGISTRY[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a signal (tests use it to undo a toy signal)."""
    _REGISTRY.pop(name, None)


def _load() -> None:
    global _LOADED
    if not _LOADED:
        for mod in pkgutil.iter_modules(__path__):
            if mod.name != "base":
                importlib.import_module(f"{__name__}.{mod.name}")
        _LOADED = True


def registered() -> list[Signal]:
    """One instance of every registered signal, cheapest first."""
    _load()
    return [cls() for cls in sorted(_REGISTRY.values(), key=lambda c: (c.cost, c.name))]


def generate_order() -> list[Signal]:
    """One instance of every registered signal in the order the generate phases run them."""
    _load()
    return [cls() for cls in sorted(_REGISTRY.values(), key=lambda c: (c.generate_order, c.name))]


def reason_table() -> dict[str, dict[str, str]]:
    """Every reason code a verdict may carry → its text per language (Python format fields)."""
    _load()
    table = dict(VERDICT_REASONS)
    for cls in _REGISTRY.values():
        table.update(cls.reasons)
    return table


_FIELD = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def reason_text(reason: Reason, lang: str = "en") -> str:
    """``reason`` in ``lang``; its code when no text is known (never raises)."""
    texts = reason_table().get(reason.code)
    if texts is None:
        return reason.code
    try:
        return texts.get(lang, texts["en"]).format(**reason.params)
    except (KeyError, ValueError, IndexError):
        return reason.code


def fields(template: str) -> set[str]:
    """The format fields a reason template uses (``{p:.1e}`` → ``p``)."""
    return set(_FIELD.findall(template))


__all__ = [
    "Claim",
    "GenerateJob",
    "Outcome",
    "Signal",
    "SignalResult",
    "Upload",
    "VerifyContext",
    "generate_order",
    "reason_table",
    "reason_text",
    "register",
    "registered",
    "unregister",
]
