"""One test per normalization step, then the composed pipeline."""

from __future__ import annotations

from screening.normalization import (
    collapse_separators,
    decode_leet,
    fold_homoglyphs,
    nfkc,
    normalize,
    pinyin_readings,
    strip_invisible,
    strip_pinyin_tones,
    to_halfwidth,
    to_pinyin,
    to_simplified,
)


def test_nfkc_folds_compatibility_forms() -> None:
    assert nfkc("ﬁne ① Ⓐ") == "fine 1 A"


def test_halfwidth() -> None:
    assert to_halfwidth("ＪＡＹ　ｃｈｏｕ！") == "JAY chou!"
    assert to_halfwidth("周杰伦") == "周杰伦"


def test_strip_invisible() -> None:
    assert strip_invisible("Tay\u200blor\u200d Sw\u2060ift\ufe0f\x07") == "Taylor Swift"
    assert strip_invisible("a\tb\nc") == "a\tb\nc"


def test_fold_homoglyphs() -> None:
    assert fold_homoglyphs("Тaylor Ѕwift") == "taylor swift"  # Cyrillic Т and Ѕ
    assert fold_homoglyphs("Βеyoncé") == "beyonce"  # Greek Β, Cyrillic е, accent
    assert fold_homoglyphs("周杰伦") == "周杰伦"


def test_to_simplified() -> None:
    assert to_simplified("周杰倫的聲音") == "周杰伦的声音"


def test_collapse_separators() -> None:
    assert collapse_separators("周·杰·伦") == "周杰伦"
    assert collapse_separators("周 杰 伦") == "周杰伦"
    assert collapse_separators("T a y l o r") == "taylor"
    assert collapse_separators("J.a.y C.h.o.u") == "jay chou"
    assert collapse_separators("c.l.o.n.e T.a.y.l.o.r") == "clone taylor"
    assert collapse_separators("I am a fan") == "i am a fan"  # two single letters stay


def test_decode_leet() -> None:
    assert decode_leet("t4yl0r sw1ft") == "taylor swift"
    assert decode_leet("ade1e", one="l") == "adele"
    assert decode_leet("in 2024 at 3 pm") == "in 2024 at 3 pm"
    assert decode_leet("b3y0nc3") == "beyonce"


def test_pinyin_tones() -> None:
    assert strip_pinyin_tones("Zhōu Jiélún") == "zhou jielun"
    assert strip_pinyin_tones("zhou1 jie2 lun2") == "zhou jie lun"
    assert strip_pinyin_tones("sz4") == "sz4"  # not a pinyin syllable


def test_to_pinyin_and_readings() -> None:
    assert to_pinyin("周杰伦") == "zhou jie lun"
    assert "zeng" in pinyin_readings("曾")


def test_pipeline_views_and_obfuscation_flags() -> None:
    n = normalize("用周·杰·倫的聲\u200b音")
    assert n.clean == "用周杰伦的声音"
    assert {"separator", "traditional", "invisible"} <= n.obfuscations
    n = normalize("ｍａｋｅ Т4ylor's voice")
    assert n.clean == "make taylor's voice"
    assert {"fullwidth", "homoglyph", "leet"} <= n.obfuscations


def test_span_maps_back_to_original() -> None:
    text = "sing like Ｔａｙｌｏｒ Swift please"
    n = normalize(text)
    idx = [i for i, u in enumerate(n.units) if u.text in ("taylor", "swift")]
    s, e = n.unit_span_to_original(idx[0], idx[-1] + 1)
    assert text[s:e] == "Ｔａｙｌｏｒ Swift"


def test_masks_between_chinese_characters() -> None:
    n = normalize("周*伦 and 周×伦")
    assert n.clean.count("周*伦") == 2
    assert "mask" in n.obfuscations
