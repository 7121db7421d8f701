"""Verdict rules, one test per rule, plus a property: more evidence never lowers the verdict.

The rules are each signal's claim rule (:func:`mark_claims`, :func:`match_claim`, the exact
hash) and the fold of claims into a verdict (:func:`decide`).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from service.signals import Claim, fields, reason_table, reason_text
from service.signals.fingerprint import match_claim
from service.signals.watermark import mark_claims
from service.verdict import Thresholds, decide

RANK = {"not_found": 0, "inconclusive": 1, "generated": 2}
TH = Thresholds()


def _match(**kw: Any) -> dict[str, Any]:
    return {"video_id": "v", "score": 0.9, "matched_frames": 10, "offset_s": 2.0, **kw}


def test_nothing_is_not_found() -> None:
    assert decide([]).verdict == "not_found"


def test_strong_watermark_with_record() -> None:
    v = decide(mark_claims(True, 1e-12, 7, TH))
    assert (v.verdict, v.record_id) == ("generated", 7)


def test_watermark_without_record_is_inconclusive() -> None:
    assert decide(mark_claims(True, 1e-12, None, TH)).verdict == "inconclusive"


def test_weak_watermark_is_inconclusive() -> None:
    assert decide(mark_claims(False, 1e-4, None, TH)).verdict == "inconclusive"
    assert decide(mark_claims(True, 1e-5, 3, TH)).verdict == "inconclusive"
    assert mark_claims(False, 0.5, None, TH) == []


def test_fingerprint_rules() -> None:
    v = decide([match_claim(_match(), 5, TH)])
    assert (v.verdict, v.record_id) == ("generated", 5)
    assert decide([match_claim(_match(matched_frames=1), 5, TH)]).verdict == "inconclusive"
    assert decide([match_claim(_match(), None, TH)]).verdict == "inconclusive"
    assert decide([match_claim(_match(score=0.2), 5, TH)]).verdict == "inconclusive"


def test_hash_match() -> None:
    assert decide([Claim("strong", "hash", record_id=4)]).record_id == 4


def test_a_strong_claim_names_a_record() -> None:
    import pytest

    with pytest.raises(ValueError):
        Claim("strong", "hash")


def test_agreeing_signals_and_compilations() -> None:
    v = decide([*mark_claims(True, 1e-9, 5, TH), match_claim(_match(), 5, TH)])
    assert v.verdict == "generated"
    assert len(v.why) == 2
    two = decide([match_claim(_match(), 5, TH), match_claim(_match(video_id="w"), 6, TH)])
    assert two.verdict == "generated"
    assert "2 generations" in reason_text(two.why[-1])


claims = st.lists(
    st.one_of(
        st.builds(
            mark_claims,
            st.booleans(),
            st.floats(min_value=0, max_value=1),
            st.none() | st.integers(0, 5),
            st.just(TH),
        ),
        st.builds(
            lambda m, r: [match_claim(m, r, TH)],
            st.fixed_dictionaries(
                {
                    "video_id": st.text(max_size=5),
                    "score": st.floats(0, 1),
                    "matched_frames": st.integers(0, 20),
                    "offset_s": st.floats(0, 100),
                }
            ),
            st.none() | st.integers(0, 5),
        ),
    ),
    max_size=4,
).map(lambda groups: [c for g in groups for c in g])


@given(claims, st.integers(0, 5))
def test_adding_a_hash_match_never_lowers_the_verdict(cs: list[Claim], rid: int) -> None:
    before = RANK[decide(cs).verdict]
    after = decide([*cs, Claim("strong", "hash", record_id=rid)])
    assert RANK[after.verdict] >= before
    assert after.verdict == "generated"


@given(claims)
def test_every_claim_has_a_text_in_both_languages(cs: list[Claim]) -> None:
    for r in decide(cs).why:
        en, zh = reason_text(r, "en"), reason_text(r, "zh")
        assert en != r.code and zh != r.code and en != zh


def test_reasons_are_coded_and_every_code_has_both_languages() -> None:
    v = decide([*mark_claims(True, 2e-40, 1, TH), match_claim(_match(video_id="gen:ab",
               matched_frames=9, offset_s=1.25), 2, TH)])  # fmt: skip
    assert [r.code for r in v.why] == ["watermark", "fingerprint", "several_generations"]
    assert v.why[1].to_dict() == {
        "code": "fingerprint", "video_id": "gen:ab", "offset_s": 1.25, "frames": 9
    }  # fmt: skip
    text = reason_text(v.why[0])
    assert text == "watermark decoded (p=2.0e-40) and points to a registered generation"
    assert reason_text(v.why[2]) == "evidence points at 2 generations"
    assert reason_text(v.why[2], "zh") == "证据指向 2 条生成记录"
    for code, texts in reason_table().items():
        # one English and one Chinese template, with the same fields
        assert set(texts) >= {"en", "zh"}, code
        assert fields(texts["en"]) == fields(texts["zh"]), code
