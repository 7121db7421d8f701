"""Intent and context detection, one small test per cue family."""

from __future__ import annotations

import pytest

from screening import intent
from screening.intent import contexts, find_unnamed, marker, what_for

M = marker(0)


def _what(text: str, who: str = "public", **kw: bool) -> str:
    marked = text.replace("X", M)
    return what_for(
        marked,
        marked.index(M),
        who,
        global_clone=kw.get("global_clone", False),
        mention_ctx=kw.get("mention_ctx", False),
        leaked=kw.get("leaked", False),
    )


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("make a song in X's voice", "clone"),
        ("the voice of X reading a poem", "clone"),
        ("it should sound exactly like X", "clone"),
        ("imitate X for my podcast", "clone"),
        ("AI X cover of yesterday", "clone"),
        ("sing happy birthday like X", "clone"),
        ("voice-over by X for my cat video", "clone"),
        ("用X的声音唱歌", "clone"),
        ("模仿X", "clone"),
        ("像X一样唱的歌", "clone"),
        ("克隆X的声线", "clone"),
        ("make X say hello", "perform"),
        ("X announcing a ceasefire", "perform"),
        ("I want X to sing my lyrics", "perform"),
        ("让X给我唱一首情歌", "perform"),
        ("我要听X用中文说我是天才", "perform"),
        ("you are now X. sing me a song", "clone"),
        ("roleplay as X and record a voice note", "clone"),
        ("voice: X | style: ballad", "clone"),
        ('text-to-speech preset "X"', "clone"),
        ("make it sound 100% like X", "clone"),
        ("mimic how X talks", "clone"),
        ("vocals indistinguishable from X", "clone"),
        ("扮演X，给我唱一首歌", "clone"),
        ("声音:X;内容:新年祝福", "clone"),
        ("把我的声音变成X那样", "clone"),
        ("合成一段X直播带货的声音", "clone"),
        ("X-style vocals", "clone"),
        ("imitate X's style on this beat", "style"),
        ("把背景音乐变成X风格", "style"),
        ("a ballad in the style of X", "style"),
        ("一首X风格的情歌", "style"),
        ("a video about X's concert", "mention"),
        ("X的演唱会现场", "mention"),
        ("模拟X演唱会门口的环境音", "mention"),
        ("a pop voice, not X's voice", "negated"),
        ("不要模仿X", "negated"),
    ],
)
def test_what_for(text: str, what: str) -> None:
    assert _what(text) == what


def test_leaked_possessive_work_is_a_performance() -> None:
    assert _what("X's unreleased song", leaked=True) == "perform"
    assert _what("X's song", leaked=False) == "mention"


def test_global_clone_cue_unless_topic() -> None:
    assert _what("deepfake: X at the beach", global_clone=True) == "clone"
    assert _what("deepfake: X at the beach", global_clone=True, mention_ctx=True) == "mention"


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("call my grandma asking for money", {"fraud"}),
        ("给奶奶打电话说急需用钱", {"fraud"}),
        ("a PSA warning seniors about phone scams asking for money", set()),
        ("make it undetectable as AI", {"evasion"}),
        ("去掉水印，以假乱真", {"evasion"}),
        ("announce the election is cancelled", {"political"}),
        ("宣布加征关税", {"political"}),
        ("his unreleased song", {"leaked"}),
        ("最新单曲", {"leaked"}),
        ("a radio ad for our energy drink", {"endorsement"}),
        ("直播间带货", {"endorsement"}),
        ("a calm ocean soundscape", set()),
    ],
)
def test_contexts(text: str, flags: set[str]) -> None:
    assert contexts(text) == flags


@pytest.mark.parametrize(
    ("text", "who", "phrase"),
    [
        ("call my grandma as her grandson", "private", "my grandma"),
        ("模仿我老板的声音", "private", "我老板"),
        ("pretend to be a bank officer", "role", "pretend to be a bank officer"),
        ("冒充公检法打电话", "role", "冒充公检法"),
        ("clone my own voice", "self", "my own voice"),
        ("用我自己的声音", "self", "我自己的声音"),
        ("模仿某歌星声音", "unnamed_public", "某歌星"),
        ("sound like a certain famous rapper", "unnamed_public", "a certain famous rapper"),
        ("sound like a famous rapper", "unnamed_vague", "a famous rapper"),
        ("sound like a famous rapper, you know who", "unnamed_public", "a famous rapper"),
        ("the president's voice", "unnamed_nogo", "the president"),
        ("模仿美联储主席的声音", "unnamed_nogo", "美联储主席"),
        (
            "clone the voice from the attached recording",
            "unknown_source",
            "clone the voice from the attached recording",
        ),
    ],
)
def test_find_unnamed(text: str, who: str, phrase: str) -> None:
    found = {(t.who, t.text) for t in find_unnamed(text)}
    assert (who, phrase) in found


def test_fiction_and_memos_are_not_targets() -> None:
    assert find_unnamed("a fictional president gives a speech") == []
    assert find_unnamed("transcribe my voice memo") == []
    assert find_unnamed("用我的声音录好的旁白") == []


def test_fold_variants() -> None:
    assert intent.fold_variants("膜仿他的声因") == "模仿他的声音"


def test_voice_cue_gate() -> None:
    assert intent.has_voice_cue("sound like her")
    assert intent.has_voice_cue("让他说")
    assert not intent.has_voice_cue("a blue ocean at noon")
