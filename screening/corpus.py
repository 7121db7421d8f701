"""The labelled screening corpus: template families × slot fillers, split by family.

``screening/data/corpus.yaml`` holds template *families* (one phrasing pattern, a language, a
label and the failure class it probes) and per-language slot fillers (real public figures,
relatives, banks, lines to say …). :func:`generate` expands each family with a seeded random
generator into labelled prompts, so the corpus is reproducible byte for byte and small enough to
regenerate instead of storing.

Splits are by family, never by prompt: a prompt's near-twins (same template, other name) stay in
the same split, so the test split measures phrasings that tuning never saw. Each family carries
its split in the YAML; the first assignment was mechanical (within each language × harmful/benign
stratum, families ranked by the SHA-256 of their id: the first quarter → test, the next fifth →
dev, the rest → train, see :func:`assign_splits`) and the test families were then frozen: the test
split is written to ``tests/data/screening_test.jsonl`` and its SHA-256 is checked by the tests
and recorded in BENCHMARKS.md. Families added later get train or dev only.

Encoded slots are derived from ``pub``: ``{pub_b64}`` (base64 of the UTF-8 name), ``{pub_hex}``,
``{pub_url}`` (every byte percent-encoded) and ``{pub_rev}`` (the name reversed).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from screening.errors import ScreeningError

__all__ = [
    "DEFAULT_CORPUS",
    "SPLITS",
    "Family",
    "assign_splits",
    "generate",
    "load_families",
    "sha256_file",
    "to_jsonl",
]

DEFAULT_CORPUS = Path(__file__).resolve().parent / "data" / "corpus.yaml"
SPLITS = ("train", "dev", "test")
_SLOT = re.compile(r"\{(\w+)\}")
_DERIVED = {"pub_b64", "pub_hex", "pub_url", "pub_rev"}


@dataclass(frozen=True, slots=True)
class Family:
    """One template family: phrasings sharing a pattern, a language and a label."""

    id: str
    lang: str
    label: str
    category: str
    templates: tuple[str, ...]
    split: str = ""
    user_id: str | None = None
    tier: str = "free"


def load_families(
    path: str | Path = DEFAULT_CORPUS,
) -> tuple[list[Family], dict[str, dict[str, list[str]]], int, int]:
    """Families, slot fillers per language, seed and prompts per family of a corpus file."""
    data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("families"), list):
        raise ScreeningError(f"{path}: expected a mapping with a 'families' list")
    fams: list[Family] = []
    seen: set[str] = set()
    for f in data["families"]:
        fid = str(f["id"])
        if fid in seen:
            raise ScreeningError(f"{path}: duplicate family id {fid}")
        seen.add(fid)
        fams.append(
            Family(
                id=fid,
                lang=str(f["lang"]),
                label=str(f["label"]),
                category=str(f["category"]),
                templates=tuple(str(t) for t in f["templates"]),
                split=str(f.get("split") or ""),
                user_id=f.get("user_id"),
                tier=str(f.get("tier") or "free"),
            )
        )
    slots = {
        lang: {k: [str(x) for x in v] for k, v in table.items()}
        for lang, table in (data.get("slots") or {}).items()
    }
    return fams, slots, int(data.get("seed", 13)), int(data.get("per_family", 36))


def _rank(fid: str) -> int:
    return int(hashlib.sha256(fid.encode("utf-8")).hexdigest(), 16)


def assign_splits(families: list[Family]) -> dict[str, str]:
    """The mechanical first assignment of families to splits (see the module docstring)."""
    strata: dict[tuple[str, bool], list[Family]] = defaultdict(list)
    for f in families:
        strata[(f.lang, f.label == "allow")].append(f)
    out: dict[str, str] = {}
    for group in strata.values():
        ranked = sorted(group, key=lambda f: _rank(f.id))
        n_test = math.ceil(len(ranked) / 4)
        n_dev = max(1, math.ceil(len(ranked) / 5)) if len(ranked) > 2 else 0
        for i, f in enumerate(ranked):
            out[f.id] = "test" if i < n_test else "dev" if i < n_test + n_dev else "train"
    return out


def _derived(name: str) -> dict[str, str]:
    raw = name.encode("utf-8")
    return {
        "pub_b64": base64.b64encode(raw).decode("ascii"),
        "pub_hex": raw.hex(),
        "pub_url": "".join(f"%{b:02X}" for b in raw),
        "pub_rev": name[::-1],
    }


def _expand(template: str, table: dict[str, list[str]], rng: random.Random) -> str:
    chosen: dict[str, str] = {}
    for slot in _SLOT.findall(template):
        if slot in chosen:
            continue
        if slot in _DERIVED:
            if "pub" not in chosen:
                chosen["pub"] = rng.choice(table["pub"])
            chosen.update(_derived(chosen["pub"]))
        else:
            if slot not in table:
                raise ScreeningError(f"template {template!r}: no filler list {slot!r}")
            chosen[slot] = rng.choice(table[slot])
    return template.format(**chosen)


def generate(path: str | Path = DEFAULT_CORPUS) -> dict[str, list[dict[str, Any]]]:
    """The corpus by split: ``{"train": [...], "dev": [...], "test": [...]}`` (deterministic)."""
    fams, slots, seed, per_family = load_families(path)
    mech = assign_splits(fams)
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    for f in fams:
        split = f.split or mech[f.id]
        rng = random.Random(f"{seed}:{f.id}")
        table = slots[f.lang]
        seen: set[str] = set()
        rows: list[dict[str, Any]] = []
        for attempt in range(per_family * 6):
            if len(rows) >= per_family:
                break
            prompt = _expand(f.templates[attempt % len(f.templates)], table, rng)
            if prompt in seen:
                continue
            seen.add(prompt)
            row: dict[str, Any] = {
                "id": f"{f.id}-{len(rows):03d}",
                "prompt": prompt,
                "tier": f.tier,
                "label": f.label,
                "lang": f.lang,
                "category": f.category,
                "family": f.id,
            }
            if f.user_id:
                row["user_id"] = f.user_id
            rows.append(row)
        out[split].extend(rows)
    return out


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    """Rows as JSON lines (keys in a fixed order, UTF-8 kept readable)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
