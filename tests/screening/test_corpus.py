"""The labelled corpus and the evaluation protocol: split by family, test split frozen."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from screening.corpus import SPLITS, assign_splits, generate, load_families, sha256_file, to_jsonl

DATA = Path(__file__).resolve().parents[1] / "data"
#: SHA-256 of the test split, written before the rule changes it measures (BENCHMARKS.md).
FROZEN_TEST_SHA256 = "0b6c331d4c2efc483d3482d8c2aac151666ebfa91ae52b995d684722f0b15545"


def _split_file(split: str) -> Path:
    return DATA / f"screening_corpus_{split}.jsonl"


def test_test_split_is_frozen() -> None:
    assert sha256_file(_split_file("test")) == FROZEN_TEST_SHA256


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[dict[str, object]]]:
    return generate()


def test_generator_reproduces_the_committed_splits(
    corpus: dict[str, list[dict[str, object]]],
) -> None:
    for split in SPLITS:
        assert to_jsonl(corpus[split]) == _split_file(split).read_text(encoding="utf-8"), split


def test_splits_are_family_disjoint_and_cover_every_language(
    corpus: dict[str, list[dict[str, object]]],
) -> None:
    fams = {s: {str(r["family"]) for r in corpus[s]} for s in SPLITS}
    assert not (fams["train"] & fams["dev"]) and not (fams["train"] & fams["test"])
    assert not (fams["dev"] & fams["test"])
    for split in ("train", "test"):
        langs = Counter((r["lang"], r["label"] == "allow") for r in corpus[split])
        for lang in ("zh", "en", "yue", "ja", "ko"):
            assert langs[(lang, True)] > 0 and langs[(lang, False)] > 0, (split, lang)
    assert sum(len(v) for v in corpus.values()) >= 3000
    ids = [r["id"] for s in SPLITS for r in corpus[s]]
    assert len(ids) == len(set(ids))


def test_frozen_families_keep_their_mechanical_split() -> None:
    fams, *_ = load_families()
    mech = assign_splits(fams)
    for f in fams:
        if f.split == "test":
            assert mech[f.id] == "test", f.id
    rows = [json.loads(x) for x in _split_file("test").read_text(encoding="utf-8").splitlines()]
    assert {r["family"] for r in rows} == {f.id for f in fams if f.split == "test"}
