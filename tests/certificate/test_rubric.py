"""Scoring: rubric files drive the points; the seed profile reproduces the platform example."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cert_testdata import at, full_actions, h

from provenance.certificate import RubricError, load_rubric, parse_actions, profiles, score


def _score(actions: list[dict[str, Any]], profile: str = "default") -> Any:
    return score(parse_actions(actions), load_rubric(profile), model="m", generation_id="g")


def test_packaged_profiles() -> None:
    assert {"default", "seed"} <= set(profiles())
    for name in profiles():
        r = load_rubric(name)
        assert 0 < r.cap < 1 and len(r.sha256) == 64


def test_seed_profile_reproduces_platform_example() -> None:
    c = _score(full_actions(), "seed")
    pts = {f.id: f.points for f in c.factors}
    assert pts == {
        "complex_prompt": 0.15,
        "audio_layers": 0.25,
        "post_processing": 0.30,
        "semantic_intervention": 0.20,
    }
    assert c.score == 0.9 and c.cap == 0.9


@pytest.mark.parametrize(
    ("drop", "expected"),
    [("p1", 0.75), ("l1", 0.65), ("e1", 0.6), ("f1", 0.7)],
)
def test_seed_factors_one_by_one(drop: str, expected: float) -> None:
    acts = [a for a in full_actions() if a["id"] != drop]
    assert _score(acts, "seed").score == pytest.approx(expected)


def test_seed_short_prompt_earns_nothing() -> None:
    def acts(n: int) -> list[dict[str, Any]]:
        return [{"id": "p", "kind": "prompt_edit", "at": at(0), "details": {"text": "x" * n}}]

    assert _score(acts(100), "seed").score == 0
    assert _score(acts(101), "seed").score == 0.15


def test_default_prompts_and_effort_earn_little() -> None:
    one = [{"id": "p0", "kind": "prompt_edit", "at": at(0), "details": {"length": 500}}]
    many = [
        {"id": f"p{i}", "kind": "prompt_edit", "at": at(i), "details": {"length": 500 + i}}
        for i in range(300)
    ] + [
        {
            "id": f"k{i}",
            "kind": "parameter_change",
            "at": at(400 + i),
            "details": {"name": "seed", "value": i},
        }
        for i in range(300)
    ]
    assert _score(one).score == _score(many).score == 0.02  # iterations earn nothing


def test_default_rewards_the_three_criteria_with_reasons() -> None:
    c = _score(full_actions())
    by = {f.id: f for f in c.factors}
    assert set(by) >= {
        "expressive_input",
        "selection",
        "arrangement",
        "modification",
        "instructions",
    }
    assert by["expressive_input"].evidence == ["h1"] and by["expressive_input"].points == 0.25
    assert all(f.criterion and f.rationale and f.evidence for f in c.factors)
    assert c.score == pytest.approx(sum(f.points for f in c.factors))
    assert "lyrics" in c.registration.text and "Material excluded" in c.registration.text
    assert "ref" not in c.registration.ai_excluded  # names the model of the record, here "m"
    assert len(c.evidence_sha256) == 64 and c.action_count == len(full_actions())


def test_default_cap_below_one() -> None:
    acts: list[dict[str, Any]] = []
    for i in range(40):
        acts.append(
            {
                "id": f"h{i}",
                "kind": "human_asset",
                "at": at(i),
                "refs": [h(str(i))],
                "details": {"asset_type": "recording", "perceptible": True},
            }
        )
        acts.append(
            {
                "id": f"e{i}",
                "kind": "post_edit",
                "at": at(i),
                "before_sha256": h(f"b{i}"),
                "after_sha256": h(f"a{i}"),
            }
        )
        acts.append(
            {"id": f"r{i}", "kind": "sequence_edit", "at": at(i), "details": {"operations": 2}}
        )
        acts.append(
            {"id": f"f{i}", "kind": "semantic_fix", "at": at(i), "details": {"description": "d"}}
        )
        acts.append(
            {
                "id": f"s{i}",
                "kind": "selection",
                "at": at(i),
                "details": {"chosen": [1], "rejected": [2]},
            }
        )
    c = _score(acts)
    assert c.score == load_rubric("default").cap < 1.0
    assert sum(f.points for f in c.factors) > c.score


def test_unmeasured_assets_earn_less() -> None:
    a = {
        "id": "h",
        "kind": "human_asset",
        "at": at(0),
        "refs": [h("m")],
        "details": {"asset_type": "melody"},
    }
    unmeasured = _score([a]).score
    a["details"] = {"asset_type": "melody", "perceptible": True}
    assert unmeasured < _score([a]).score
    a["details"] = {"asset_type": "melody", "perceptible": False}
    assert _score([a]).score == 0


def test_rubric_errors(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match="unknown rubric"):
        load_rubric("nope")
    with pytest.raises(RubricError, match="unknown rubric"):
        load_rubric("../etc")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "profile: x\nversion: '1'\ntitle: t\ncap: 0.9\nexclude: e\nfactors:\n"
        "  - {id: a, criterion: c, kinds: [selection], where: {mood: 1}, points: 0.1, rationale: r}\n"
    )
    with pytest.raises(RubricError, match="unknown feature"):
        load_rubric(str(bad))
    capped = tmp_path / "cap.yaml"
    capped.write_text(bad.read_text().replace("cap: 0.9", "cap: 1.0").replace("{mood: 1}", "{}"))
    with pytest.raises(RubricError, match="cap"):
        load_rubric(str(capped))
    holes = tmp_path / "holes.yaml"
    holes.write_text(
        bad.read_text().replace("{mood: 1}", "{}").replace("rationale: r", "rationale: '{secret}'")
    )
    with pytest.raises(RubricError, match="placeholder"):
        load_rubric(str(holes))
    custom = tmp_path / "ok.yaml"
    custom.write_text(bad.read_text().replace("{mood: 1}", "{candidates: {ge: 3}}"))
    r = load_rubric(str(custom))
    sel = [
        {
            "id": "s",
            "kind": "selection",
            "at": at(0),
            "details": {"chosen": [1], "rejected": [2, 3]},
        }
    ]
    assert score(parse_actions(sel), r).score == 0.1
