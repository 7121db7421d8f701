"""What a prompt wants done with a voice, and in which context.

The screener replaces every target it found (a registry name, a library voice, "my grandma",
"某歌星", "the president", "my own voice") with a private-use marker character in the cleaned
prompt text, then reads the words around each marker:

* ``clone``   — imitate / clone / "X's voice" / "sounds like X" / 模仿X的声音 / 用X的声线 …
* ``perform`` — the person made to say or sing something ("make Obama say…", "让周杰伦唱…")
* ``style``   — a musical or speaking style reference ("in the style of", "X风格")
* ``mention`` — any other mention (a video about X's concert)

Global context flags raise the severity: ``fraud`` (calls to relatives/banks/bosses asking for
money or codes), ``evasion`` (undetectable, bypass voice verification, strip the AI label),
``political`` statements, ``leaked`` / unreleased songs and ``endorsement`` (ads).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from screening import lexicon
from screening.normalization import normalize_char

__all__ = [
    "CONTEXTS",
    "TargetSpan",
    "contexts",
    "find_unnamed",
    "fold_variants",
    "has_voice_cue",
    "marker",
    "what_for",
]

#: Marker characters: target ``i`` is ``chr(MARK0 + i)`` in the marked text.
MARK0 = 0xE000

CONTEXTS = ("fraud", "evasion", "political", "leaked", "endorsement")


def marker(i: int) -> str:
    """The marker character of target ``i``."""
    return chr(MARK0 + i)


@dataclass(frozen=True, slots=True)
class TargetSpan:
    """A target found by a regex in the marked text (an unnamed person, a role, oneself)."""

    who: str  # private | role | self | unnamed_public | unnamed_vague | unnamed_nogo | unknown_source
    start: int
    end: int
    text: str
    posed: bool = False  # the phrase itself asks to imitate ("冒充孙子", "pretend to be …")


# --------------------------------------------------------------------------- cues
# Cheap pre-filter: does the prompt talk about voices/imitation at all? (gates deep matching)
_VOICE_CUE = lexicon.compiled("voice_cue")


# Same-length homophone spellings of the cue words used to dodge keyword filters ("膜仿").
_VARIANTS: dict[str, str] = {
    str(k): str(v) for k, v in (lexicon.load().get("variants") or {}).items()
}
_VARIANT_RE = re.compile("|".join(_VARIANTS))


def fold_variants(text: str) -> str:
    """Replace homophone spellings of Chinese cue words ("膜仿" → "模仿"); lengths are kept."""
    return _VARIANT_RE.sub(lambda m: _VARIANTS[m.group(0)], text)


def has_voice_cue(clean: str) -> bool:
    """True when the cleaned prompt contains any voice/imitation/speech cue word."""
    return _VOICE_CUE.search(clean) is not None or _VOICE_CUE_MULTI.search(clean) is not None


_VOICE_CUE_MULTI = lexicon.compiled("voice_cue_multi")


_NEG_EN = lexicon.compiled("neg_en")
_NEG_ZH = lexicon.compiled("neg_zh")
_BUT = lexicon.compiled("but")


_CLONE_LEFT_EN = lexicon.compiled("clone_left_en")
_CLONE_RIGHT_EN = lexicon.compiled("clone_right_en")
_PERFORM_RIGHT_EN = lexicon.compiled("perform_right_en")
_PERFORM_LEFT_EN = lexicon.compiled("perform_left_en")
_STYLE_LEFT_EN = lexicon.compiled("style_left_en")
_STYLE_RIGHT_EN = lexicon.compiled("style_right_en")

_CLONE_LEFT_ZH = lexicon.compiled("clone_left_zh")
_STRONG_LEFT_ZH = lexicon.compiled("strong_left_zh")
_CLONE_RIGHT_ZH = lexicon.compiled("clone_right_zh")
_PERFORM_RIGHT_ZH = lexicon.compiled("perform_right_zh")
_OTHER_READER = lexicon.compiled("other_reader")
_PERFORM_PAST_ZH = lexicon.compiled("perform_past_zh")
_PERFORM_LEFT_ZH = lexicon.compiled("perform_left_zh")
_GEN_LEFT_ZH = lexicon.compiled("gen_left_zh")
_VOICE_LATER_ZH = lexicon.compiled("voice_later_zh")
# "用我同事老王的声音": a short name between the relation and the voice
_NAMED_VOICE_ZH = lexicon.compiled("named_voice_zh")
_TONE_SPEAK_ZH = lexicon.compiled("tone_speak_zh")
_STYLE_RIGHT_ZH = lexicon.compiled("style_right_zh")
_STYLE_LEFT_ZH = lexicon.compiled("style_left_zh")

_PRONOUN_RIGHT = lexicon.compiled("pronoun_right")

_GLOBAL_CLONE = lexicon.compiled("global_clone")
_MENTION_CONTEXT = lexicon.compiled("mention_context")

# --------------------------------------------------------------------------- targets
_PRIVATE_EN = lexicon.compiled("private_en")
_PRIVATE_ZH = lexicon.compiled("private_zh")
_ROLE_EN = lexicon.compiled("role_en")
_FAMILY_POSE_ZH = lexicon.compiled("family_pose_zh")
_ROLE_VOICE_ZH = lexicon.compiled("role_voice_zh")
_ROLE_VOICE_EN = lexicon.compiled("role_voice_en")
_ROLE_ZH = lexicon.compiled("role_zh")
_SELF_EN = lexicon.compiled("self_en")
_SELF_ZH = lexicon.compiled("self_zh")
_UNNAMED_PUBLIC_EN = lexicon.compiled("unnamed_public_en")
_UNNAMED_PUBLIC_ZH = lexicon.compiled("unnamed_public_zh")
# A person identified by description instead of name: by role in a named organisation, by a
# work, title or catchphrase, or by a record ("the founder of Xiaomi", "《新闻联播》的那位男主播",
# "说“买它买它”的那个主播", "the two-time Olympic diving champion", "ドラえもんの声優"). Such a
# description points at one real person, so it is treated as a specific public figure.
_DESCRIBED_GATE = lexicon.compiled("described_gate")
_DESCRIBED_OFFICE = lexicon.compiled("described_office")
_DESCRIBED_EN = lexicon.compiled("described_en")
_DESCRIBED_ZH = lexicon.compiled("described_zh")
_DESCRIBED_MULTI = lexicon.compiled("described_multi")
_UNNAMED_NOGO_EN = lexicon.compiled("unnamed_nogo_en")
_UNNAMED_NOGO_ZH = lexicon.compiled("unnamed_nogo_zh")
_FICTION_LEFT = lexicon.compiled("fiction_left")
_UNKNOWN_SOURCE = lexicon.compiled("unknown_source")

_AWARENESS = lexicon.compiled("awareness")

_FRAUD_STRONG = lexicon.compiled("fraud_strong")
_FRAUD_CALL = lexicon.compiled("fraud_call")
_FRAUD_MONEY = lexicon.compiled("fraud_money")
_EVASION = lexicon.compiled("evasion")
_POLITICAL = lexicon.compiled("political")
_LEAKED = lexicon.compiled("leaked")
_ENDORSE = lexicon.compiled("endorse")


_POSE = lexicon.compiled("pose")


_FICTIONAL_PEOPLE = lexicon.compiled("fictional_people")


def is_fictional_or_awareness(clean: str) -> bool:
    """True when people in the prompt are fictional, or the prompt warns about scams."""
    return bool(
        _FICTIONAL_PEOPLE.search(clean)
        or _AWARENESS.search(clean)
        or _AWARENESS_MULTI.search(clean)
    )


_CALL_SOURCE = lexicon.compiled("call_source")


def is_call(clean: str) -> bool:
    """True when the prompt is about a phone call, voicemail or voice message.

    A recording named as the source of a voice ("clone his voice from this voicemail") is not
    a call being faked.
    """
    text = _CALL_SOURCE.sub(" ", clean)
    return _FRAUD_CALL.search(text) is not None or _FRAUD_CALL_MULTI.search(text) is not None


def contexts(clean: str) -> set[str]:
    """The context flags of a cleaned prompt (see :data:`CONTEXTS`)."""
    out: set[str] = set()
    aware = _AWARENESS.search(clean) is not None or _AWARENESS_MULTI.search(clean) is not None
    if not aware and (
        _FRAUD_STRONG.search(clean)
        or (_FRAUD_CALL.search(clean) and (_FRAUD_MONEY.search(clean) or _POSE.search(clean)))
    ):
        out.add("fraud")
    if _EVASION.search(clean):
        out.add("evasion")
    if _POLITICAL.search(clean):
        out.add("political")
    if _LEAKED.search(clean):
        out.add("leaked")
    if _ENDORSE.search(clean):
        out.add("endorsement")
    return out | multi_contexts(clean)


_SPECIFIC = lexicon.compiled("specific")
_SPECIFIC_AFTER = lexicon.compiled("specific_after")


# "我们公司的创始人", "our company's founder": a private person, not a described public figure
_OWN_LEFT = lexicon.compiled("own_left")

_OWN_IN = lexicon.compiled("own_in")
_QUOTED = re.compile(r"[“\"「‘『][^”\"」’』]*[”\"」’』]")

_SOURCE_LEFT = lexicon.compiled("source_left")


def find_unnamed(marked: str) -> list[TargetSpan]:
    """Targets without a registry name: private persons, roles, oneself, unnamed celebrities."""
    spans: list[TargetSpan] = []
    taken: list[tuple[int, int]] = []

    def add(who: str, m: re.Match[str], posed: bool = False, specific: bool = False) -> None:
        s, e = m.start(), m.end()
        if any(not (e <= a or s >= b) for a, b in taken):
            return
        if who in ("unnamed_public", "unnamed_nogo", "role") and _FICTION_LEFT.search(
            marked[max(0, s - 30) : s]
        ):
            return
        if who == "self" and _SOURCE_LEFT.search(marked[max(0, s - 16) : s]):
            return  # "replace my voice with …": the user's voice is the input, not the target
        taken.append((s, e))
        if (
            who == "unnamed_public"
            and not specific
            and not _SPECIFIC.search(m.group(0))
            and not _SPECIFIC_AFTER.match(marked[e : e + 40])
        ):
            who = "unnamed_vague"  # "a famous singer": maybe nobody in particular
        spans.append(TargetSpan(who, s, e, m.group(0), posed))

    for m in _FAMILY_POSE_ZH.finditer(marked):
        add("private", m, posed=True)
    for rx in (_ROLE_EN, _ROLE_ZH, _POSE_ROLE_MULTI):
        for m in rx.finditer(marked):
            add("role", m, posed=True)
    described = (
        (_DESCRIBED_OFFICE, _DESCRIBED_EN, _DESCRIBED_ZH, _DESCRIBED_MULTI)
        if _DESCRIBED_GATE.search(marked)
        else ()
    )
    for m in described[0].finditer(marked) if described else ():
        add("unnamed_public", m, specific=True)
    for rx in described[1:]:
        for m in rx.finditer(marked):
            own = _OWN_LEFT.search(marked[max(0, m.start() - 4) : m.start()])
            # "我" inside a quoted catchphrase ("那个“我命由我不由天”的…") is not "our …"
            if not own and not _OWN_IN.search(_QUOTED.sub("", m.group(0))):
                add("unnamed_public", m, specific=True)
    for who, rx in (
        ("unknown_source", _UNKNOWN_SOURCE),
        ("unnamed_nogo", _UNNAMED_NOGO_EN),
        ("unnamed_nogo", _UNNAMED_NOGO_ZH),
        ("unnamed_public", _UNNAMED_PUBLIC_EN),
        ("unnamed_public", _UNNAMED_PUBLIC_ZH),
        ("self", _SELF_EN),
        ("self", _SELF_ZH),
        ("private", _PRIVATE_EN),
        ("private", _PRIVATE_ZH),
        ("role", _ROLE_VOICE_ZH),
        ("role", _ROLE_VOICE_EN),
        ("private", _PRIVATE_MULTI),
    ):
        for m in rx.finditer(marked):
            add(who, m)
    spans.sort(key=lambda t: t.start)
    return spans


_QUESTION = lexicon.compiled("question")
_WORK_POINTER = lexicon.compiled("work_pointer")
_VOICE_SUBJECT_ZH = lexicon.compiled("voice_subject_zh")
_VOICE_SUBJECT_EN = lexicon.compiled("voice_subject_en")


_NEG_IDIOM = lexicon.compiled("neg_idiom")
_NEG_BREAK = lexicon.compiled("neg_break")
_NEG_RIGHT_MULTI = lexicon.compiled("neg_right_multi")


_TALK_READER = lexicon.compiled("talk_reader")
_TALK_FRAME = lexicon.compiled("talk_frame")
_TALK_USE_LEFT = lexicon.compiled("talk_use_left")


def talk_about(marked: str) -> bool:
    """True when the prompt talks about a voice and has a generic reader say it ("an explainer on
    why X sounds husky, read by a generic narrator", "给X的粉丝信……用普通女声朗读")."""
    return _TALK_READER.search(marked) is not None and _TALK_FRAME.search(marked) is not None


def _negated(left: str, right: str = "") -> bool:
    """True when a negation governs the voice request whose target follows ``left``.

    The negation must be the one of the request's own verb: idioms that negate another verb
    ("no need to be perfect", "不要太长") are cut first, and a fresh request after the negation
    ("… just make it sound like X") ends its scope. Korean and Japanese negate after the verb,
    read in ``right`` (the text after the target).
    """
    if right and _NEG_RIGHT_MULTI.match(right):
        return True
    left = _NEG_IDIOM.sub(" ", _QUESTION.sub("", left))
    m = _NEG_EN.search(left) or _NEG_ZH.search(left)
    if m is None:
        return False
    scope = left[m.start() :]
    return not (_BUT.search(scope) or _NEG_BREAK.search(scope))


_POSSESSIVE_WORK_EN = lexicon.compiled("possessive_work_en")
_WORK_BY_EN = lexicon.compiled("work_by_en")
_POSSESSIVE_WORK_ZH = lexicon.compiled("possessive_work_zh")


# "make Biden and Trump argue": read past the other names of a list
_PAREN = lexicon.compiled("paren")
_CHAIN_RIGHT = lexicon.compiled("chain_right")
_CHAIN_LEFT = lexicon.compiled("chain_left")
_NOT_VOICE_RIGHT = lexicon.compiled("not_voice_right")


# "the voice of my favourite singer X", "用我最喜欢的歌手X的声音": titles before the name
_APPOSITIVE_EN = lexicon.compiled("appositive_en")
_APPOSITIVE_ZH = lexicon.compiled("appositive_zh")
_TOPIC_LEFT = lexicon.compiled("topic_left")
_TOPIC_LEFT_ZH = lexicon.compiled("topic_left_zh")
_INFO_QUESTION = lexicon.compiled("info_question")
_REQUEST = lexicon.compiled("request")


def is_info_question(clean: str) -> bool:
    """True for a question asking for information ("why is X's voice so distinctive?")."""
    return (_INFO_QUESTION.search(clean) is not None or multi_info(clean)) and _REQUEST.search(
        clean
    ) is None


def what_for(
    marked: str,
    pos: int,
    who: str,
    *,
    global_clone: bool,
    mention_ctx: bool,
    leaked: bool = False,
    question: bool = False,
) -> str:
    """The intent bound to the target whose marker sits at ``marked[pos]``.

    Returns ``clone``, ``perform``, ``style``, ``mention`` or ``negated``.
    """
    left = _CHAIN_LEFT.sub("", marked[max(0, pos - 60) : pos])
    right = _PAREN.sub("", _CHAIN_RIGHT.sub("", marked[pos + 1 : pos + 60]))
    left = _APPOSITIVE_EN.sub("", left)
    left = _APPOSITIVE_ZH.sub("", left)
    left_s = left.rstrip()
    left_n = left_s + " " if left_s else ""
    right_s = right.lstrip()
    if _WORK_POINTER.match(right_s):
        # a title, then its performer: "《富士山下》嗰个歌手把声", "『半沢直樹』の主演俳優の声で"
        right_s = right = _WORK_POINTER.sub("", right_s, count=1)
    if who in ("public", "nogo", "private", "named_unknown"):
        right_s = strip_honorific(right_s)  # "周杰伦老师的声音", "米津玄師さんの声"
    if who in ("self", "role", "unknown_source"):
        # the span itself carries the intent ("clone my voice", "pretend to be a bank officer")
        return "negated" if _negated(left) else "clone"
    if _TOPIC_LEFT.search(left_n) or _TOPIC_LEFT_ZH.search(left_s):
        return "mention"
    if (
        talk_about(marked)
        and not _TALK_USE_LEFT.search(left_s)
        and not _NEG_RIGHT_MULTI.match(right_s)
    ):
        return "mention"  # "an explainer on why X's voice …, read by a generic narrator"
    if question and not (_CLONE_LEFT_EN.search(left_n) or _STRONG_LEFT_ZH.search(left_s)):
        return "mention"  # "why is X's voice so distinctive?" asks about the voice
    clone = bool(
        multi_clone(left_s, right_s)
        or _CLONE_LEFT_EN.search(left_n)
        or _STRONG_LEFT_ZH.search(left_s)
        or _CLONE_RIGHT_EN.match(right)
        or _CLONE_RIGHT_ZH.match(right_s)
        or (_CLONE_LEFT_ZH.search(left_s) and _CLONE_RIGHT_ZH.match(right_s))
        or _TONE_SPEAK_ZH.match(right_s)
        or (_GEN_LEFT_ZH.search(left_s) and _VOICE_LATER_ZH.match(right_s))
        or (
            who == "private"
            and _CLONE_LEFT_ZH.search(left_s) is not None
            and _NAMED_VOICE_ZH.match(right_s) is not None
        )
    )
    if clone and _NOT_VOICE_RIGHT.match(right_s):
        clone = False
    if (
        clone
        and (mention_ctx or "?" in marked)
        and (_VOICE_SUBJECT_ZH.match(right_s) or _VOICE_SUBJECT_EN.match(right))
        and not (
            _CLONE_LEFT_ZH.search(left_s)
            or _STRONG_LEFT_ZH.search(left_s)
            or _CLONE_LEFT_EN.search(left_n)
        )
    ):
        # "为什么周深的声音像天使？写篇乐评", "a blog post on why Adele's voice is so powerful":
        # the voice is what is talked about
        clone = False
    if clone:
        return "negated" if _negated(left, right_s) else "clone"
    style = bool(
        _STYLE_LEFT_EN.search(left_n)
        or _STYLE_RIGHT_EN.match(right)
        or _STYLE_RIGHT_ZH.match(right_s)
        or _STYLE_LEFT_ZH.search(left_s)
    )
    perform_left = bool(_PERFORM_LEFT_EN.search(left_n) or _PERFORM_LEFT_ZH.search(left_s))
    perform_right = bool(
        multi_perform(right_s)
        or _PERFORM_RIGHT_EN.match(right)
        or (
            _PERFORM_RIGHT_ZH.match(right_s)
            and (perform_left or not _PERFORM_PAST_ZH.match(right_s))
        )
    )
    if perform_right and _OTHER_READER.match(right):
        perform_right = False  # "a fan letter to X read in a calm host's voice": X is addressed
    if who == "private" and not perform_left:
        perform_right = False  # "my grandma telling stories" is not a request to make her speak
    if perform_right and (perform_left or not mention_ctx) and not style:
        return "negated" if _negated(left, right_s) else "perform"
    if style:
        return "negated" if _negated(left, right_s) else "style"
    if global_clone and not mention_ctx:
        return "clone"
    if (
        leaked
        and not mention_ctx
        and (
            _POSSESSIVE_WORK_EN.match(right)
            or _POSSESSIVE_WORK_ZH.match(right_s)
            or _WORK_BY_EN.search(left_n)
        )
    ):
        # "Drake's unreleased song", "周杰伦的最新单曲": a new work passed off as theirs
        return "negated" if _negated(left) else "perform"
    return "mention"


_PRONOUN_VOICE = lexicon.compiled("pronoun_voice")


def pronoun_clone(marked: str) -> bool:
    """True when a clone cue points at a pronoun ("…but someone who sounds exactly like her",
    "Beyoncé-level vocals, actually her voice")."""
    if _PRONOUN_VOICE.search(marked):
        return True
    for m in re.finditer(r"(?:him|her|them|他|她)\b", marked):
        left = marked[max(0, m.start() - 60) : m.start()].rstrip() + " "
        if _CLONE_LEFT_EN.search(left) or _STRONG_LEFT_ZH.search(left.rstrip()):
            return not _negated(left)
    return False


def global_clone_cue(clean: str) -> bool:
    """True when the prompt carries a strong cloning cue anywhere (deepfake, 克隆, voice model…)."""
    return _GLOBAL_CLONE.search(clean) is not None


def mention_context(clean: str) -> bool:
    """True when the prompt frames names as a topic (an article, a documentary, a playlist…)."""
    return _MENTION_CONTEXT.search(clean) is not None


# --------------------------------------------------------------------------- ja / ko / yue
# Cue words come from screening/data/lexicon.yaml; they are folded like the prompt text
# (simplified characters, lower case, Cantonese written forms) before they are compiled.
def _fold_word(word: str) -> str:
    return fold_variants("".join(normalize_char(c) for c in word.lower()))


def _alt(key: str, *, loose: bool = False) -> str:
    items = sorted({_fold_word(w) for w in lexicon.words(key)}, key=lambda w: (-len(w), w))
    parts = []
    for w in items:
        # a space may be left out: the cleaned text drops the spaces between hangul words
        # ("돈 보내" is read in "돈보내줘")
        rx = re.escape(w).replace(r"\ ", r"\s*")
        if loose:  # "target speaker =" also matches "target_speaker=" and "target speaker: "
            rx = (
                rx.replace(r"\s*", r"[\s_]*")
                .replace(":", r"[\"'”」』]?\s*[:：]\s*")
                .replace("=", r"\s*=\s*")
            )
        parts.append(rx)
    return "(?:" + "|".join(parts) + ")" if parts else "(?!)"


_HONORIFIC = _alt("honorific_after")
_HONORIFIC_RIGHT = re.compile(r"^(?:\s*" + _HONORIFIC + r"){1,2}")
# "米津玄師の声で", "아이유 목소리로", "IU 목소리를 복제해서": the voice word with a particle of use
_PARTICLE = r"(?:の|의|的)?"
# one voice word or several joined ("喋り方と声", "말투랑 목소리", "语气同声线"), after an
# optional modifier ("本物の声", "노래하는 목소리", "嗰种声线")
_VOICES = (
    r"(?:"
    + _alt("voice_modifier", loose=True)
    + r"\s*"
    + _PARTICLE
    + r"\s*)?"
    + _alt("voice_right", loose=True)
    + r"(?:\s*"
    + _alt("voice_conj")
    + r"?\s*"
    + _PARTICLE
    + r"\s*"
    + _alt("voice_right", loose=True)
    + r")*(?:\s*"
    + _alt("voice_suffix", loose=True)
    + r")?"
)
# "米津玄師の声で", "아이유 목소리로", "IU 목소리를 복제해서": the voice word with a particle of use
_CLONE_RIGHT_MULTI = re.compile(
    r"^\s*"
    + _PARTICLE
    + r"\s*"
    + _VOICES
    + r"\s*(?:自体|자체)?\s*(?:で|を[^、。,.!?！？]{0,8}?"
    + _alt("voice_use_ja")
    + r"|に\s*(?:似せ|寄せ|近づけ|そっくり)|そっくり|みたい|っぽ|로|으로|그대로|똑같이|비슷하게"
    + r"|(?:를|을)?[^.!?]{0,6}?"
    + _alt("voice_use_ko")
    + r"|(?:이?랑|과|와|하고)\s*똑같|처럼)"
    r"|^\s*(?:の|的)?(?:そっくり|みたい|っぽい|风)(?:な|の)?(?:声|歌声)"
    r"|^\s*(?:처럼|같이|랑\s*똑같이|와\s*똑같이|과\s*똑같이)\s*(?:말|노래|불러|읽|들리게|들리도록|들리는)"
)
# Cantonese "用佢把聲" / "好似X把聲咁": the voice word needs a cue on the left
_VOICE_RIGHT_YUE = lexicon.compiled("voice_right_yue")
_YUE_LEFT = lexicon.compiled("yue_left")
_VOICE_SAME_RIGHT = lexicon.compiled("voice_same_right")
_VOICE_DO_RIGHT_YUE = lexicon.compiled("voice_do_right_yue")
# "米津玄師が「…」と話す", "윤석열이 계엄을 선포하는 음성", "아이유가 '…'라고 말하는"
_PERFORM_RIGHT_MULTI = lexicon.compiled("perform_right_multi")
_ROLEPLAY_LEFT = re.compile(_alt("roleplay_left", loose=True) + r"\s*[\"'“「『]?\s*$")
_CONSENT_CLAIM = re.compile(_alt("consent_claim", loose=True))
_FRAUD_STRONG_MULTI = re.compile(_alt("fraud_strong"))
_FRAUD_CALL_MULTI = re.compile(_alt("fraud_call"))
_POSE_MULTI = re.compile(_alt("pose", loose=True))
_FRAUD_MONEY_MULTI = re.compile(_alt("fraud_money", loose=True))
_AWARENESS_MULTI = re.compile(_alt("awareness"))
_POSE_ROLE_MULTI = re.compile(
    _alt("pose_role")
    + r"[^,，。.!！?？、]{0,12}?"
    + _alt("pose", loose=True)
    + r"|(?:扮我|扮成|扮)(?:的)?(?:个)?[\u4e00-\u9fff]{0,4}?"
    + _alt("pose_role")
    + r"|(?:冒充|假冒|假扮|伪装成)[\u4e00-\u9fff]{1,6}?(?:客服|工作人员|职员|经理|警官|民警)"
    + r"|以[^，。,.]{1,10}?的名义"
)
# "市役所の職員として…ATM", "은행 직원이라고 하고 … 카드 번호": a role spoken as, with money asked
_POSE_AS_ROLE = re.compile(
    _alt("pose_role") + r"[^,，。.!！?？、]{0,12}?" + _alt("pose_as", loose=True)
)
# a bare relation with a descriptive word before it is a kind of voice, not a person: "따뜻한
# 할머니 목소리" (a warm grandma voice), "優しいおばあちゃんの声"; "돌아가신 할머니" (honorific
# 신: the late grandmother) still points at one person
_ADJECTIVE_END = (
    "".join(chr(0xAC00 + 28 * i + 4) for i in range(399) if chr(0xAC00 + 28 * i + 4) != "신")
    + "いな的嘅"
)
_PRIVATE_MULTI = re.compile(
    r"(?:我的?|我[个個]|私の|うちの|내|우리\s*)"
    + _alt("private_relations")
    + r"|(?<!["
    + _ADJECTIVE_END
    + r"])(?<!["
    + _ADJECTIVE_END
    + r"]\s)(?<![가-힣])"  # a bare relation starts a word: not "아버지" in "할아버지"
    + _alt("private_relations")
    + r"(?=\s*(?:の|의|的)?\s*(?:声|歌声|목소리|음성|把声|声线|声音))"
    # Japanese one-character kin words: "父の声をクローン" (not "神父の声", a priest's voice)
    + r"|(?<![\u4e00-\u9fff])(?:祖父|祖母|父|母|姉|兄|弟|妹|夫|妻|娘|孙)(?=の(?:声|歌声))"
)
_AI_LEFT = lexicon.compiled("ai_left")
_VERSION_RIGHT = lexicon.compiled("version_right")
_INFO_QUESTION_MULTI = lexicon.compiled("info_question_multi")
_MENTION_MULTI = lexicon.compiled("mention_multi")
_REVERSE_CUE = re.compile(_alt("reverse_cue"))


def strip_honorific(right: str) -> str:
    """Drop a title between a name and what follows ("老师的声音" → "的声音", "さんの声で" → "の声で")."""
    return _HONORIFIC_RIGHT.sub("", right, count=1)


def multi_clone(left: str, right: str) -> bool:
    """A voice request in Japanese, Korean or Cantonese, or a role-play / structured key."""
    r = strip_honorific(right)
    return bool(
        _CLONE_RIGHT_MULTI.match(r)
        or (_VOICE_RIGHT_YUE.match(r) and _YUE_LEFT.search(left.rstrip()))
        or _VOICE_SAME_RIGHT.match(r)
        or _VOICE_DO_RIGHT_YUE.match(r)
        or (_AI_LEFT.search(left) is not None and _VERSION_RIGHT.match(r) is not None)
        or _ROLEPLAY_LEFT.search(left)
    )


def multi_perform(right: str) -> bool:
    """The person made to say something, in Japanese or Korean."""
    return _PERFORM_RIGHT_MULTI.match(strip_honorific(right)) is not None


def multi_contexts(clean: str) -> set[str]:
    """Context flags from the Japanese, Korean and Cantonese cue lists (and consent claims)."""
    out: set[str] = set()
    if _CONSENT_CLAIM.search(clean):
        out.add("consent_claim")
    if _AWARENESS_MULTI.search(clean) or _AWARENESS.search(clean):
        return out
    posed = _POSE_MULTI.search(clean) is not None or _POSE_ROLE_MULTI.search(clean) is not None
    money = _FRAUD_MONEY_MULTI.search(clean) is not None
    if (
        _FRAUD_STRONG_MULTI.search(clean)
        or (posed and (money or _FRAUD_CALL_MULTI.search(clean)))
        or (money and _POSE_AS_ROLE.search(clean))
    ):
        out.add("fraud")
    return out


def multi_info(clean: str) -> bool:
    """A question or an explainer about a voice in Japanese, Korean or Cantonese."""
    return bool(_INFO_QUESTION_MULTI.search(clean) or _MENTION_MULTI.search(clean))


def reverse_cue(text: str) -> re.Match[str] | None:
    """Where the prompt asks for something to be read backwards, if it does."""
    return _REVERSE_CUE.search(_fold_word(text))
