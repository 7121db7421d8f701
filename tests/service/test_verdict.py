"""Verdict rules, one test per rule, plus a property: more evidence never lowers the verdict."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.verdict import Evidence, Thresholds, decide

RANK = {"not_found": 0, "inconclusive": 1, "generated": 2}


def test_nothing_is_not_found() -> None:
    assert decide(Evidence()).verdict == "not_found"


def test_strong_watermark_with_record() -> None:
    v = decide(Evidence(wm_found=True, wm_p_value=1e-12, wm_record=7))
    assert (v.verdict, v.record_id) == ("generated", 7)


def test_watermark_without_record_is_inconclusive() -> None:
    assert decide(Evidence(wm_found=True, wm_p_value=1e-12)).verdict == "inconclusive"


def test_weak_watermark_is_inconclusive() -> None:
    assert (
        decide(Evidence(wm_found=False, wm_p_value=1e-4, wm_record=None)).verdict == "inconclusive"
    )
    assert decide(Evidence(wm_found=True, wm_p_value=1e-5, wm_record=3)).verdict == "inconclusive"


def test_fingerprint_rules() -> None:
    m = {"video_id": "v", "score": 0.9, "matched_frames": 10, "offset_s": 2.0, "record": 5}
    v = decide(Evidence(fp_matches=[m]))
    assert (v.verdict, v.record_id) == ("generated", 5)
    assert decide(Evidence(fp_matches=[{**m, "matched_frames": 1}])).verdict == "inconclusive"
    assert decide(Evidence(fp_matches=[{**m, "record": None}])).verdict == "inconclusive"


def test_hash_match() -> None:
    assert decide(Evidence(hash_records=[4])).record_id == 4


def test_agreeing_signals_and_compilations() -> None:
    m = {"video_id": "v", "score": 0.9, "matched_frames": 10, "record": 5}
    v = decide(Evidence(wm_found=True, wm_p_value=1e-9, wm_record=5, fp_matches=[m]))
    assert v.verdict == "generated"
    assert len(v.reasons) == 2
    two = decide(Evidence(fp_matches=[m, {**m, "record": 6, "video_id": "w"}]))
    assert two.verdict == "generated"
    assert "2 generations" in two.reasons[-1]


evidence = st.builds(
    Evidence,
    wm_found=st.booleans(),
    wm_p_value=st.floats(min_value=0, max_value=1),
    wm_record=st.none() | st.integers(0, 5),
    fp_matches=st.lists(
        st.fixed_dictionaries(
            {
                "video_id": st.text(max_size=5),
                "score": st.floats(0, 1),
                "matched_frames": st.integers(0, 20),
                "record": st.none() | st.integers(0, 5),
            }
        ),
        max_size=3,
    ),
    hash_records=st.lists(st.integers(0, 5), max_size=2),
)


@given(evidence, st.integers(0, 5))
def test_adding_a_hash_match_never_lowers_the_verdict(ev: Evidence, rid: int) -> None:
    before = RANK[decide(ev).verdict]
    ev.hash_records = [*ev.hash_records, rid]
    assert RANK[decide(ev).verdict] >= before
    assert decide(ev, Thresholds()).verdict == "generated"


def test_reasons_are_coded_and_every_code_is_translated_on_the_page() -> None:
    import re
    from pathlib import Path

    from service.verdict import REASON_TEXT

    v = decide(
        Evidence(
            wm_found=True,
            wm_p_value=2e-40,
            wm_record=1,
            fp_matches=[
                {
                    "video_id": "gen:ab",
                    "matched_frames": 9,
                    "score": 0.9,
                    "offset_s": 1.25,
                    "record": 2,
                }
            ],
        )
    )
    assert [r.code for r in v.why] == ["watermark", "fingerprint", "several_generations"]
    assert v.why[1].to_dict() == {
        "code": "fingerprint", "video_id": "gen:ab", "offset_s": 1.25, "frames": 9
    }  # fmt: skip
    assert v.reasons[0] == "watermark decoded (p=2.0e-40) and points to a registered generation"
    assert v.reasons[2] == "evidence points at 2 generations"
    page = (Path(__file__).parents[2] / "service" / "static" / "index.html").read_text("utf-8")
    for code, text in REASON_TEXT.items():
        # one English and one Chinese template, with the same placeholders as the server's text
        templates = re.findall(rf'why_{code}:"([^"]*)"', page)
        assert len(templates) == 2, code
        want = set(re.findall(r"\{(\w+)", text))
        assert all(set(re.findall(r"\{(\w+)\}", t)) == want for t in templates), code
