"""The identity and consent registries: content, loading, extension, matching methods."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from screening import ConsentRegistry, IdentityRegistry, RegistryError
from screening.normalization import is_cjk, normalize
from screening.registry import DEFAULT_REGISTRY, parse_csv, romanize


def test_shipped_registry_size_and_content(registry: IdentityRegistry) -> None:
    assert len(registry) >= 3000
    both = [p for p in registry.identities if p.name_en and any(map(is_cjk, p.name_zh))]
    assert len(both) >= 950
    kinds = {p.kind for p in registry.identities}
    assert {"singer", "actor", "politician", "business", "anchor", "athlete", "streamer"} <= kinds
    assert {"central_banker"} <= kinds
    nogo = {p.name_en for p in registry.identities if p.nogo}
    assert {"Xi Jinping", "Donald Trump", "Jerome Powell", "Emmanuel Macron"} <= nogo
    assert "Jay Chou" not in nogo
    jay = registry.by_id["s0001"]
    assert jay.name_zh == "周杰伦" and "Zhou Jielun" in jay.romanizations
    assert "七里香" in jay.works
    assert len({p.id for p in registry.identities}) == len(registry)


def _names(registry: IdentityRegistry, text: str) -> set[tuple[str, str]]:
    hits = registry.find(normalize(text), deep=True)
    return {(registry.identities[h.index].name_en, h.method) for h in hits}


@pytest.mark.parametrize(
    ("text", "name", "method"),
    [
        ("Taylor Swift", "Taylor Swift", "exact"),
        ("TaylorSwift", "Taylor Swift", "exact"),
        ("T a y l o r  S w i f t", "Taylor Swift", "exact"),
        ("周杰伦", "Jay Chou", "exact"),
        ("zhou jie lun", "Jay Chou", "exact"),
        ("Jielun Zhou", "Jay Chou", "pinyin"),
        ("voice of Tayler Swfit", "Taylor Swift", "fuzzy"),
        ("用周*伦的声音", "Jay Chou", "mask"),
        ("用州杰仑的声音", "Jay Chou", "homophone"),
        ("斯威夫特", "Taylor Swift", "exact"),
        ("the singer of Blank Space", "Taylor Swift", "work"),
    ],
)
def test_matching_methods(registry: IdentityRegistry, text: str, name: str, method: str) -> None:
    assert (name, method) in _names(registry, text)


def test_no_match_on_everyday_words(registry: IdentityRegistry) -> None:
    assert _names(registry, "写一篇文章，在黎明时分朗读") == set()
    assert _names(registry, "a prince and a queen sing in the rain") == set()
    assert _names(registry, "the future of pink music") == set()


def test_fuzzy_guards(registry: IdentityRegistry) -> None:
    assert ("Joe Biden", "fuzzy") in _names(registry, "make Bidan say hello")
    assert ("Donald Trump", "fuzzy") in _names(registry, "sing like Tramp")
    assert _names(registry, "sing like a tramp") == set()  # lower-case word
    assert _names(registry, "a voice like Snoopy") == set()  # another word, not a typo
    assert _names(registry, "the protesters were declaring victory") == set()


def test_shallow_matching_skips_fuzzy(registry: IdentityRegistry) -> None:
    hits = registry.find(normalize("voice of Tayler Swfit"), deep=False)
    assert hits == []


def test_operator_extension(tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "id,name_en,name_zh,aliases,kind,gender,nogo\n"
        "x0001,Wren Halloway,霍洛维·雷恩,Wrenny,singer,f,0\n"
        "s0001,Jay Chou,周杰伦,周董,singer,m,1\n",
        encoding="utf-8",
    )
    reg = IdentityRegistry.load(DEFAULT_REGISTRY, extra)
    assert reg.by_id["x0001"].name_en == "Wren Halloway"
    assert reg.by_id["s0001"].nogo  # the later file replaces the row
    assert ("Wren Halloway", "exact") in _names(reg, "sing like wren halloway")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("foo,bar\n1,2\n", "header"),
        ("id,name_en,name_zh\n,,\n", "required"),
        ("id,name_en,name_zh,kind\nx1,A B,,wizard\n", "unknown kind"),
    ],
)
def test_bad_registry_csv(text: str, error: str) -> None:
    with pytest.raises(RegistryError, match=error):
        parse_csv(text)


def test_registry_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id,name_en,name_zh\n\xff\xfe\n")
    with pytest.raises(RegistryError, match="UTF-8"):
        IdentityRegistry.load(bad)


def test_romanize() -> None:
    assert romanize("周杰伦") == "Zhou Jielun"
    assert romanize("曾志伟") == "Zeng Zhiwei"


def test_consent_registry_scopes() -> None:
    c = ConsentRegistry.default()
    today = dt.date(2026, 11, 21)
    hits = c.find(normalize("use Mira Solberg to narrate"))
    assert [h.entry.id for h in hits] == ["VA-1001"]
    mira = hits[0].entry
    assert mira.status("free", "speech", None, today) == "valid"
    assert mira.status("free", "endorsement", None, today) == "out_of_scope"
    dario = c.find(normalize("Dario Venn reads"))[0].entry
    assert dario.status("pro", "speech", None, today) == "expired"
    assert c.find(normalize("library voice VA-1005"))[0].entry.id == "VA-1005"
    assert c.find(normalize("用赵雨宁的声音"))[0].entry.id == "VA-1005"
    assert c.best_status(c.for_self("u-1001"), "free", "speech", "u-1001", today)[0] == "valid"
    assert c.best_status(c.for_self("u-1002"), "free", "speech", "u-1002", today)[0] == "expired"
    assert c.best_status(c.for_self("nobody"), "free", "speech", "nobody", today)[0] == "none"
    lic = c.for_subject("a0162")[0]
    assert lic.status("enterprise", "speech", "ent-acme", today) == "valid"
    assert lic.status("enterprise", "speech", "someone-else", today) == "out_of_scope"


def test_bad_consent_file(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("voices:\n  - id: X\n    kind: voice_actor\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="licence"):
        ConsentRegistry.load(bad)
