"""Evaluation of the screener on a labelled JSONL set.

Each line: ``{"id", "prompt", "label": allow|review|deny, "tier"?, "lang"?, "category"?,
"obfuscation"?}``. :func:`evaluate` returns per-label precision/recall, the confusion matrix,
breakdowns per language, category and obfuscation type, and the issue's bars:

* ``deny_recall`` — deny-labelled prompts that got deny or review;
* ``deny_strict`` — deny-labelled prompts that got deny;
* ``false_block`` — allow-labelled prompts that got deny;
* ``allow_review`` — allow-labelled prompts sent to review (reported, not a block).

The protocol (docs/screening.md): the labelled corpus (:mod:`screening.corpus`) is split by
template family into train / dev / test; rules and the semantic head are tuned on train and dev
only, the test split was written before the changes it measures and is frozen (its SHA-256 is
checked by the tests and recorded in BENCHMARKS.md). :func:`evaluate_corpus` reports all three;
``provkit screen eval`` without a file prints them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from screening.corpus import SPLITS, generate
from screening.errors import BadPrompt
from screening.screener import Screener

__all__ = [
    "EvalReport",
    "Example",
    "evaluate",
    "evaluate_corpus",
    "examples_from_rows",
    "format_splits",
    "read_labelled",
]

LABELS = ("allow", "review", "deny")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled prompt."""

    id: str
    prompt: str
    label: str
    tier: str = "free"
    lang: str = ""
    category: str = ""
    obfuscation: str = "none"
    user_id: str | None = None
    family: str = ""


def read_labelled(path: str | Path) -> list[Example]:
    """Read a labelled JSONL file; a malformed line is a :class:`BadPrompt` naming the line."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadPrompt(f"{p}: not valid UTF-8 (byte {exc.start})") from exc
    out: list[Example] = []
    for n, obj in iter_jsonl_prompts(text, str(p)):
        label = obj.get("label")
        if label not in LABELS:
            raise BadPrompt(f"{p}:{n}: label must be one of {', '.join(LABELS)}")
        out.append(
            Example(
                id=str(obj.get("id", n)),
                prompt=obj["prompt"],
                label=str(label),
                tier=str(obj.get("tier") or "free"),
                lang=str(obj.get("lang") or ""),
                category=str(obj.get("category") or ""),
                obfuscation=str(obj.get("obfuscation") or "none"),
                user_id=obj.get("user_id"),
                family=str(obj.get("family") or ""),
            )
        )
    return out


def examples_from_rows(rows: Iterable[dict[str, Any]]) -> list[Example]:
    """Examples from corpus rows (:func:`screening.corpus.generate`)."""
    return [
        Example(
            id=str(r["id"]),
            prompt=str(r["prompt"]),
            label=str(r["label"]),
            tier=str(r.get("tier") or "free"),
            lang=str(r.get("lang") or ""),
            category=str(r.get("category") or ""),
            user_id=r.get("user_id"),
            family=str(r.get("family") or ""),
        )
        for r in rows
    ]


def evaluate_corpus(screener: Screener) -> dict[str, EvalReport]:
    """Reports on the corpus's train, dev and test splits (regenerated from its seed)."""
    corpus = generate()
    return {split: evaluate(screener, examples_from_rows(corpus[split])) for split in SPLITS}


def format_splits(reports: dict[str, EvalReport]) -> str:
    """A summary row per split, then each split's full report."""
    lines = [
        f"{'split':6} {'n':>5} {'deny rec':>9} {'deny→deny':>10} {'false blk':>10} {'allow→rev':>10}"
    ]
    for split, r in reports.items():
        b = r.bars()
        lines.append(
            f"{split:6} {r.total.n:>5} {_pct(b['deny_recall']):>9} {_pct(b['deny_strict']):>10} "
            f"{_pct(b['false_block']):>10} {_pct(b['allow_review']):>10}"
        )
    for split, r in reports.items():
        lines += ["", f"== {split}", r.format()]
    return "\n".join(lines)


@dataclass
class _Counts:
    n: int = 0
    confusion: dict[str, dict[str, int]] = field(
        default_factory=lambda: {a: dict.fromkeys(LABELS, 0) for a in LABELS}
    )

    def add(self, label: str, got: str) -> None:
        self.n += 1
        self.confusion[label][got] += 1

    def bars(self) -> dict[str, float | None]:
        c = self.confusion
        deny_n = sum(c["deny"].values())
        allow_n = sum(c["allow"].values())
        return {
            "deny_recall": (c["deny"]["deny"] + c["deny"]["review"]) / deny_n if deny_n else None,
            "deny_strict": c["deny"]["deny"] / deny_n if deny_n else None,
            "false_block": c["allow"]["deny"] / allow_n if allow_n else None,
            "allow_review": c["allow"]["review"] / allow_n if allow_n else None,
            "accuracy": sum(c[a][a] for a in LABELS) / self.n if self.n else None,
        }

    def per_label(self) -> dict[str, dict[str, float | None]]:
        c = self.confusion
        out: dict[str, dict[str, float | None]] = {}
        for lab in LABELS:
            tp = c[lab][lab]
            pred = sum(c[a][lab] for a in LABELS)
            true = sum(c[lab].values())
            out[lab] = {
                "precision": tp / pred if pred else None,
                "recall": tp / true if true else None,
                "support": float(true),
            }
        return out


@dataclass
class EvalReport:
    """Results of :func:`evaluate`."""

    total: _Counts
    by_lang: dict[str, _Counts]
    by_category: dict[str, _Counts]
    by_obfuscation: dict[str, _Counts]
    errors: list[dict[str, Any]]
    mistakes: list[dict[str, Any]]

    def bars(self) -> dict[str, float | None]:
        """The issue's bars on the whole set."""
        return self.total.bars()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""

        def group(g: dict[str, _Counts]) -> dict[str, Any]:
            return {k: {"n": v.n, **v.bars()} for k, v in sorted(g.items())}

        return {
            "n": self.total.n,
            "bars": self.total.bars(),
            "per_label": self.total.per_label(),
            "confusion": self.total.confusion,
            "by_lang": group(self.by_lang),
            "by_category": group(self.by_category),
            "by_obfuscation": group(self.by_obfuscation),
            "errors": self.errors,
        }

    def format(self) -> str:
        """A plain-text report (tables)."""
        lines: list[str] = []
        b = self.total.bars()
        lines.append(f"examples: {self.total.n}   errors: {len(self.errors)}")
        lines.append(
            "bars: deny recall (deny|review) {}  deny→deny {}  false blocks (allow→deny) {}  "
            "allow→review {}".format(
                *(_pct(b[k]) for k in ("deny_recall", "deny_strict", "false_block", "allow_review"))
            )
        )
        lines.append("")
        lines.append(f"{'label':8} {'precision':>9} {'recall':>7} {'support':>8}")
        for lab, m in self.total.per_label().items():
            lines.append(
                f"{lab:8} {_pct(m['precision']):>9} {_pct(m['recall']):>7} {int(m['support'] or 0):>8}"
            )
        lines.append("")
        lines.append("confusion (rows: label, columns: decision)")
        lines.append(f"{'':8} " + " ".join(f"{a:>7}" for a in LABELS))
        for lab in LABELS:
            lines.append(
                f"{lab:8} " + " ".join(f"{self.total.confusion[lab][a]:>7}" for a in LABELS)
            )
        for title, g in (
            ("language", self.by_lang),
            ("category", self.by_category),
            ("obfuscation", self.by_obfuscation),
        ):
            lines.append("")
            lines.append(
                f"{title:18} {'n':>4} {'deny rec':>9} {'deny→deny':>10} {'false blk':>10} {'allow→rev':>10} {'acc':>6}"
            )
            for k, v in sorted(g.items()):
                bb = v.bars()
                lines.append(
                    f"{k[:18]:18} {v.n:>4} {_pct(bb['deny_recall']):>9} {_pct(bb['deny_strict']):>10} "
                    f"{_pct(bb['false_block']):>10} {_pct(bb['allow_review']):>10} {_pct(bb['accuracy']):>6}"
                )
        return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def evaluate(screener: Screener, examples: Iterable[Example]) -> EvalReport:
    """Screen every example and tally the results."""
    total = _Counts()
    by_lang: dict[str, _Counts] = defaultdict(_Counts)
    by_cat: dict[str, _Counts] = defaultdict(_Counts)
    by_obf: dict[str, _Counts] = defaultdict(_Counts)
    errors: list[dict[str, Any]] = []
    mistakes: list[dict[str, Any]] = []
    for ex in examples:
        try:
            d = screener.screen(ex.prompt, tier=ex.tier, user_id=ex.user_id)
            got = d.action
        except BadPrompt as exc:
            errors.append({"id": ex.id, "error": str(exc)})
            continue
        total.add(ex.label, got)
        by_lang[ex.lang or "?"].add(ex.label, got)
        by_cat[ex.category or "?"].add(ex.label, got)
        by_obf[ex.obfuscation or "none"].add(ex.label, got)
        if got != ex.label:
            mistakes.append(
                {
                    "id": ex.id,
                    "label": ex.label,
                    "got": got,
                    "prompt": ex.prompt,
                    "reasons": [r.code for r in d.reasons],
                }
            )
    return EvalReport(total, dict(by_lang), dict(by_cat), dict(by_obf), errors, mistakes)


def iter_jsonl_prompts(text: str, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Parse ``{"id", "prompt", "tier"?}`` lines; malformed lines raise :class:`BadPrompt`."""
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadPrompt(f"{source}:{n}: not JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("prompt"), str):
            raise BadPrompt(f"{source}:{n}: needs a string 'prompt'")
        yield n, obj
