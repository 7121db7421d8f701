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
_M = "[\ue000-\uf8ff]"

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
_VOICE_CUE = re.compile(
    r"voice|vocal|sound|sing|sang|song|imitat|mimic|impersonat|clon|deepfake|deep fake|fake|"
    r"pretend|pose|posing|say|said|speak|spoke|speech|read|narrat|announc|call|rap|accent|"
    r"timbre|cover|tone|style|endors|as if|like|ai |声|音|唱|模仿|仿|克隆|冒充|假|扮|说|讲|念|读|"
    r"宣布|口吻|语气|腔|嗓|翻|变|像|学|风格|代言|电话|录|让|叫|推荐|广告|带货|endors|recommend|"
    r"advert|commercial|promot|testimonial|declar|tell|ask|wish|greet|urg|apolog|conced|resign|"
    r"threat|prais|insult|confess|admit|confirm|deny|reveal|leak|perform|talk|introduc|welcom|"
    r"congrat|host|support|attack|argu|debat|chat|interview|clip|audio|recording|track|verse|"
    r"message|voicemail|robocall|播|祝|骂|喊|呼吁|承认|道歉|辞职|退选|语音"
)


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


_VOICE_CUE_MULTI = re.compile(r"목소리|음성|보이스|흉내|척|사칭|성대모사|そっくり|ボイス|まね|真似")


_NEG_EN = re.compile(
    r"\b(?:not|no|never|without|dont|doesnt|don't|doesn't|avoid|avoiding|instead of|rather than|"
    r"other than|unlike|isnt|isn't|mustnt|must not|should not|shouldnt|nothing like|"
    r"anything but|except)\b[^.;:!?,\n]{0,40}$"
)
_NEG_ZH = re.compile(
    r"(?:不要|不能|别|不是|不像|不用|无需|避免|禁止|切勿|不得|而不是|并非|非)[^。；;！!？?，,：:、\n]{0,12}$"
)
_BUT = re.compile(r"\b(?:but|however|yet)\b|但|可是|不过|而是")

_VOICE_NOUN_EN = (
    r"(?:voice|voices|vocals|vocal|timbre|singing voice|speaking voice|vocal style|"
    r"tone of voice|accent|voiceprint|voice model|vocal model|voice clone|voice skin|"
    r"speech pattern|cadence|delivery|intonation|drawl|laugh)"
)
_ADJ_EN = (
    r"(?:(?:own|real|actual|exact|signature|iconic|famous|distinctive|natural|recognizable|"
    r"unmistakable|ai|cloned|synthetic|deep|raspy|husky|soft|smooth|legendary|trademark|"
    r"original|authentic|unique|current|young|old|classic|raw|live|breathy|style|styled|"
    r"-style|type|like|esque)\s+)*"
)

_PERFORMER = (
    r"(?:the\s+|that\s+|this\s+)?(?:singer|artist|vocalist|rapper|band|guy|woman|man|girl|person|"
    r"one|performer|voice)\s+(?:who\s+(?:sang|sings|performed|did|made|recorded)|of|behind|from)"
    r"\s*['\"“‘]?\s*"
)
_CLONE_LEFT_EN = re.compile(
    r"(?:"
    r"(?:voice|vocals|timbre|imitat\w*|mimic\w*|clon\w*|sound\w* like|cop\w+|replicat\w*)\s+"
    r"(?:of\s+)?" + _PERFORMER + r"|"
    r"(?:voice|voices|vocals|vocal|timbre|tone|accent|singing|speaking voice|speech pattern|"
    r"cadence|delivery|intonation)\s+(?:of|from|like|similar to|matching)\s+(?:the\s+)?"
    r"|(?:sound|sounds|sounding|sounded)\s+(?:\S+\s+){0,2}?(?:like|as|similar to|identical to)\s+"
    r"(?:the\s+)?"
    r"|(?:imitat|mimic|impersonat|clon|replicat|emulat|copy|copies|copying|channel|deepfak|"
    r"spoof|recreat|resurrect|reproduc|simulat|fake|faking|parod|ape|aping|doing an impression)"
    r"\w*\s+(?:of\s+)?(?:the\s+)?(?:how\s+|the way\s+)?(?:(?:real|actual|famous)\s+)?"
    r"(?:voice\s+of\s+)?"
    r"|(?:as if|as though)\s+(?:it\s+(?:were|was|is)\s+)?"
    r"|(?:pretend(?:ing)? to be|pretends to be|pose as|poses as|posing as|disguised as|"
    r"masquerad\w+ as|pass(?:ing)? (?:it |yourself |myself )?off as|claim(?:ing)? to be|"
    r"voiced by|narrated by|sung by|read by|performed by|spoken by|rapped by|voice[- ]?over by|"
    r"voiced over by|narration by|vocals by|vocal by|"
    r"in the voice of|with the voice of|using the voice of|voice it as|voiced as|"
    r"sing as|speak as|talk as|rap as|narrate as|read it as|acting as|speaking as)\s+(?:the\s+)?"
    r"|\bai\s+"
    r"|\bswear (?:it is|it's|that's|this is)\s+"
    r"|\b(?:singer|voice|narrator|speaker|vocalist)\s+is\s+(?:unmistakably|clearly|obviously|"
    r"definitely|basically|literally)\s+"
    r"|\b(?:indistinguishable|undistinguishable|identical|no different|a perfect match)\s+"
    r"(?:from|to|with|for)\s+(?:the\s+)?"
    r"|\b(?:swap|replace|change|switch|convert)\w*\s+(?:the\s+|my\s+|his\s+|her\s+|this\s+)?"
    r"(?:vocals?|voice|singing|voiceover|voice-over|narration|dub|dubbing|[\ue000-\uf8ff])"
    r"[^.;!?]{0,40}?"
    r"\b(?:for|with|to|into|by)\s+(?:the\s+)?"
    r"|\b(?:you are now|you're now|youre now|now you are|you are|roleplay as|role-play as|"
    r"role play as|act as|acting as|play the role of|pretend you are|pretend you're|"
    r"pretend youre|become|transform into|speak as if you were)\s+(?:the\s+)?"
    r"|\b(?:preset|model|profile|skin|font|pack)\s*[:=]?\s*['\"“‘]?\s*"
    r"|\b(?:voice|vocals?|vocal timbre|timbre|target voice|voice model|voice preset|voice id|"
    r"singer|lead singer|vocalist|narrator|voice actor|voiced by|sung by|speaker|announcer|"
    r"reference voice|speaker voice|voice clone|voice name|speaker id|speaker name|voice_id|"
    r"speaker_id)[\"'*\]\s]{0,4}[:=][\"'*\[\s]{0,4}"
    r"|\b(?:fake|faked|ai|deepfake|deep fake|simulated|synthetic|made-up|generated|realistic|"
    r"fabricated|phony)\s+(?:\w+\s+){0,2}?(?:interview|conversation|chat|call|phone call|podcast|"
    r"duet|debate|speech|statement|message|voicemail|recording|audio|clip|announcement|"
    r"confession|song|track)\s+(?:with|from|of|by|featuring)\s+(?:the\s+)?"
    r"|(?:trained|fine-?tuned|built|modell?ed|based) on\s+(?:the\s+)?(?:voice\s+of\s+)?"
    r"|(?:model|tts|voice model|clone|voice font|voice bank)\s+(?:of|for|from)\s+"
    r"|(?:sing|sings|singing|rap|raps|rapping|talk|talks|talking|speak|speaks|speaking|"
    r"say it|read it|narrate it|narrate|do it|voice it|voice|perform it|croon|belt it out)\s+"
    r"(?:exactly\s+|just\s+|more\s+)?like\s+(?:the\s+)?"
    r"|\b(?:sing|sings|singing|sung|rap|raps|rapping|speak|speaks|speaking|talk|talks|talking|say|"
    r"says|read|reads|narrate|narrates|voice|voiced|perform|performs|croon)\b[^.;!?]{0,40}?"
    r"\b(?:just |exactly |more )?like\s+(?:the\s+)?"
    r"|(?:impression|impersonation|imitation|parody|voice impression|voice[- ]?over)\s+"
    r"(?:of|as)\s+(?:the\s+)?"
    r"|\b(?:voice message|voicemail|voice mail|voice note|message|call|phone call|audio|recording|"
    r"robocall)\s+from\s+(?:the\s+)?"
    r"|\b(?:call\w*|phone\w*|ring|text|voicemail|leave a voicemail|message|talk to|speak to)\b"
    r"[^.;!?]{0,50}\bas\s+"
    r"|\b(?:be|become|turn (?:me |my voice )?into|transform (?:me |my voice )?into|"
    r"change (?:my |the )?voice (?:to|into)|convert (?:my |the )?voice (?:to|into)|"
    r"swap (?:my |the )?voice (?:to|with|for)|voice changer (?:to|into|for))\s+(?:the\s+)?"
    r")$"
)
_CLONE_RIGHT_EN = re.compile(
    r"^\s*(?:would|might|could|will|'d)\s+sound\b|"
    r"^\s*'s\s+(?:[a-z-]+\s+){1,2}?(?:voice|vocals)\b|"
    r"^\s*'s\s*[\"“'‘][^\"”'’]{1,24}[\"”'’]\s*(?:voice|vocals)\b|"
    r"^\s*(?:'s\s+)?(?:\w+\s+){1,3}?(?:and|&|\+|plus|with)\s+(?:his|her|their|the)?\s*"
    r"(?:real\s+|actual\s+)?(?:voice|voices|vocals|timbre)\b|"
    r"^\s*,?\s*(?:in|with|using)\s+(?:her|his|their)\s+(?:own\s+|real\s+|actual\s+|"
    r"natural\s+|original\s+)*(?:voice|voices|vocals)\b|"
    r"^\s*(?:'s\s*|s'\s*)?(?:"
    + _ADJ_EN
    + _VOICE_NOUN_EN
    + r"|(?:ai\s+)?(?:cover|covers|voice clone|soundalike|sound-alike|deepfake|deep fake|"
    r"impression|impersonation|vocal clone|voice filter|rvc|so-vits|voice pack|voice changer)"
    r"|(?:-| )?(?:sounding|sound-alike|soundalike)"
    r"|ai\b(?!\s*(?:art|image|picture|painting|drawing|generated image))"
    r"|(?:digital twin|ai twin|avatar|hologram|voice double|body double)"
    r")\b"
)
_PERFORM_RIGHT_EN = re.compile(
    r"^\s*(?:(?:\d{1,2}|i{1,3}|iv|jr|sr)\.?\s+)?['\"”’]?\s*"
    r"(?:himself|herself|themselves|personally|actually|really|to|\s)*\s*"
    r"(?:saying|says|say|announcing|announces|announce|declaring|declares|declare|"
    r"admitting|admits|admit|confessing|confesses|confess|endorsing|endorses|endorse|"
    r"recommending|recommends|recommend|promoting|promotes|promote|singing|sings|sing|"
    r"rapping|raps|rap|reading|reads|read|narrating|narrates|narrate|telling|tells|tell|"
    r"asking|asks|ask|calling|calls|call|giving a speech|give a speech|delivering|delivers|"
    r"deliver|wishing|wishes|wish|greeting|greets|apologi[sz]\w*|conceding|concedes|concede|"
    r"resigning|resigns|resign|urging|urges|urge|threatening|threatens|threaten|praising|"
    r"praises|praise|insulting|insults|insult|yelling|yells|whispering|whispers|shouting|shouts|"
    r"voicing|voices|reads out|cursing|curses|swearing|confirming|confirms|confirm|denying|"
    r"denies|deny|revealing|reveals|reveal|leaking|leaks|covering|covers|cover|performing|"
    r"performs|perform|talking|talks|talk|speaking|speaks|speak|introducing|introduces|"
    r"introduce|welcoming|welcomes|welcome|congratulating|congratulates|congratulate|"
    r"hosting|hosts|host|telling|calling for|call for|supporting|supports|support|"
    r"attacking|attacks|attack|singing happy birthday|testimonial|endorsement|shout-?out|"
    r"argue|argues|arguing|debate|debates|debating|chat|chats|chatting|discussing|interview|"
    r"voice-?over|ad read|greeting|robocall|voicemail|voice message|verse|verses|ad-?libs?|hook|"
    r"feature|feat|scream|screams|screaming|cry|cries|crying|laugh|laughs|laughing|beg|begs|"
    r"begging|plead|pleads|pleading|chant|chants|chanting|moan|moans|sob|sobs|sobbing|rant|rants|"
    r"ranting|brag|brags|bragging|swear|swears|propose|proposes|proposing)\b"
)
_PERFORM_LEFT_EN = re.compile(
    r"\b(?:make|makes|making|made|have|has|having|let|lets|get|gets|getting|hear|generate|"
    r"create|produce|fake|record|need|want|clip of|audio of|recording of|voicemail from|"
    r"message from|call from|speech by|statement from|statement by|announcement from|"
    r"audio where|clip where|video of|track where|song where|in which)\s+(?:the\s+)?$"
)
_STYLE_LEFT_EN = re.compile(
    r"(?:in the style of|style of|styled after|inspired by|influenced by|reminiscent of|"
    r"a la|à la|in the vein of|vibes? of|genre of|like the music of|music like|songs like|"
    r"a song like|tribute to|homage to|in the spirit of|the way)\s+(?:the\s+)?(?:early\s+|late\s+)?$"
)
_STYLE_RIGHT_EN = re.compile(
    r"^\s*(?:would|might|could|usually|typically|often)\s+(?:write|make|produce|compose|"
    r"record|release|put out)\b|"
    r"^\s*(?:'s\s*)?(?:-?\s*style|-?\s*inspired|-?\s*esque|-?\s*ish\b|vibes?|aesthetic|"
    r"sound\b|type beat|songwriting|production style|melodic style|arrangement style|flow\b|"
    r"writing style|storytelling style|era\b|eras\b|production\b)"
)

_CLONE_LEFT_ZH = re.compile(
    r"(?:模仿|模拟|仿照|仿造|仿制|仿|克隆|复刻|复制|冒充|假冒|假扮|扮演|扮成|装成|伪装成|假装是|"
    r"假装成|变声成|变声为|变成|换成|还原|拟真|学|照着|AI|ai|深度伪造|伪造|像|以|用|使用|借用|"
    r"采用|类似|接近|参照|合成|生成|冒名)(?:一下|出|成|一段|一个)?$"
)
_STRONG_LEFT_ZH = re.compile(
    r"(?:扮演|你现在是|你就是|化身为|化身成|变身为|变身成|切换成|切换为|变得像)$|"
    r"(?:声音|歌声|嗓音|配音|人声|声线|音色|原声|我|[\ue000-\uf8ff])[^，。,.]{0,6}"
    r"(?:换成|改成|变成|替换成|替换为)$|"
    r"(?:声音|音色|音色选择|嗓音|声线|配音|发音人|声音模型|目标声音|参考声音|演唱者|演唱|主唱|歌手|旁白|"
    r"朗读者|播音员|配音演员)[\"'*\s]{0,3}[:=][\"'*\s]{0,3}$|"
    r"(?:声音|嗓音|声线|音色|唱腔|听起来)(?:要|得|必须|需要|听起来|就|完全|特别|很)?(?:像|和|跟|与|同|如)$|"
    r"(?:模仿|模拟|仿照|仿造|仿制|仿|克隆|复刻|冒充|假冒|假扮|扮成|装成|伪装成|假装是|假装成|变声成|"
    r"变声为|深度伪造|冒名)(?:一下|出|成|一段|一个)?$"
)
_CLONE_RIGHT_ZH = re.compile(
    r"^[\"”’」』]?(?:AI|ai)(?!绘|画|图|写|生成的图)|"
    r"^[\"“”’」』]?(?:复活|重生|起死回生|再现|重现)|"
    r"^[\"”’」』]?(?:的)?(?:AI|ai)?(?:分身|数字人|虚拟人|数字分身|复刻版|克隆版)|"
    r"^[》\"”’」』]?(?:的)?(?:那个|那位)?(?:歌手|原唱|演唱者|人|导演|演员|主演|男主|女主|主持人|作者)?"
    r"(?:本人|本尊|自己)?(?:的)?(?:真实|原本|标志性|独特|招牌|原汁原味|那种|那样|一样|一模一样)?"
    r"(?:的)?(?:声音|嗓音|声线|音色|唱腔|腔调|嗓子|原声|声纹|口音|说话方式|唱法|声库|音源|"
    r"语音|配音|声|AI声音|ai声音|AI翻唱|ai翻唱|AI版|ai版|AI语音|ai语音|声音模型|语音包|"
    r"那样唱|一样唱|那样说|一样说|似的唱|的感觉唱)"
)
_PERFORM_RIGHT_ZH = re.compile(
    r"^(?:亲自|亲口|本人|出面|站台|来|去|在电话里|在视频里|用.{0,4}声音|"
    r"用(?:中文|英文|英语|粤语|普通话|日语|韩语|四川话|东北话|方言|上海话|台语|闽南语|法语|俄语))*"
    r"(?:(?:给|对|跟|为|向|帮)[^，。,.!?！？]{0,6}?)?"
    r"(?:再|也|亲自|亲口|来|好好)?"
    r"(?:说|说出|说道|讲|讲话|宣布|声明|表示|承认|道歉|呼吁|号召|宣称|宣战|辞职|退选|致辞|发言|"
    r"演讲|朗读|念|读|唱|演唱|献唱|代言|推荐|带货|祝福|祝|问候|打电话|喊|骂|爆料|透露|录|"
    r"翻唱|主持|播报|讲述|介绍|推销|支持|反对|号召|发表|求|借|要|打招呼|打个招呼|问好|拜年|喊话|致意|说话)"
    r"(?!会|片|团|者|家|法|台|厅|歌星|功|词|本|段)"
)
_OTHER_READER = re.compile(
    r"^\s*(?:read|narrated|sung|voiced|performed|recited|spoken)\s+(?:aloud\s+|out\s+)?"
    r"(?:in|by|with)\s+(?:a|an|my|our|two|the user's|generic)\b"
)
_PERFORM_PAST_ZH = re.compile(
    r"^(?:唱的|演唱的|唱过|说的|说过|讲过|讲的|翻唱的|代言的|主持的|播报的)"
)
_PERFORM_LEFT_ZH = re.compile(
    r"(?:让|叫|请|由|听|合成|生成|制作|伪造|做一段|来一段|模拟|一段|一条|假装|冒充|以为是)$"
)
_GEN_LEFT_ZH = re.compile(
    r"(?:合成|生成|制作|做|来|模拟|伪造|录|提取|分离出|抠出)(?:一段|一个|一条|个)?$"
)
_VOICE_LATER_ZH = re.compile(r"^[^，。,.!?！？]{1,8}?的(?:声音|嗓音|语音|原声|录音|人声)")
# "用我同事老王的声音": a short name between the relation and the voice
_NAMED_VOICE_ZH = re.compile(r"^[\u4e00-\u9fff]{1,3}的(?:声音|嗓音|声线|音色|语音|原声)")
_TONE_SPEAK_ZH = re.compile(
    r"^(?:的)?(?:口吻|语气|腔调)(?:和声音)?(?:来|去|给我)?(?:唱|说|读|念|讲|录|配音|打电话|发语音)"
)
_STYLE_RIGHT_ZH = re.compile(
    r"^(?:的)?(?:风格|曲风|唱歌风格|音乐风格|编曲|感觉|味道|路线|式|风|口吻|语气|文风)"
)
_STYLE_LEFT_ZH = re.compile(r"(?:风格类似|类似|参考|致敬|借鉴|受|仿照.{0,2}风格)$")

_PRONOUN_RIGHT = re.compile(r"^\s*(?:him|her|them|he|she|they)\b|^(?:他|她)")

_GLOBAL_CLONE = re.compile(
    r"deepfake|deep fake|voice clon|clone (?:the |his |her |their |a )?(?:\w+\s+)?voice|"
    r"voice cloning|cloned voice|impersonat|soundalike|sound-alike|voice swap|voice model|"
    r"rvc model|so-vits|voice conversion|ai cover|fake (?:call|voicemail|audio|recording|message)|"
    r"克隆|深度伪造|深伪|换声|声音模型|语音包|AI翻唱|ai翻唱|仿声|声音复刻|复刻.{0,4}声音|冒充|"
    r"假冒|伪造.{0,6}(?:录音|语音|声音|电话)|模仿.{0,12}(?:声音|嗓音|声线|音色)|"
    r"\b(?:their|his|her|the) (?:real|actual|own|authentic|original) voices?\b|\breal voices\b|"
    r"本人(?:的)?(?:声音|原声)|真实(?:的)?(?:声音|嗓音)"
)
_MENTION_CONTEXT = re.compile(
    r"\b(?:article|essay|blog|biography|documentary|history|review|analysis|report|news|"
    r"quiz|trivia|poster|fan art|summary|lyrics of|playlist|timeline|discussion|tribute video|"
    r"reaction|concert footage|photo|picture|wallpaper|lookalike costume|fan edit|"
    r"recap|commentary on|podcast about|interview about|discuss\w*|podcast episode)\b|关于|介绍|"
    r"评论|乐评|影评|点评|解读|赏析|讲述.{0,6}故事|报道|分析|"
    r"纪录片|传记|生平|歌单|歌词|海报|盘点|科普|新闻|资讯|演唱会现场|回顾|写一篇|文章|总结|摘要|文字稿|"
    r"文稿|要点|笔记|字幕|翻译|\btranscript\w*|\bsummar\w+|\bsubtitles?\b|\bcaptions?\b|\btranslat\w+"
)

# --------------------------------------------------------------------------- targets
_REL_EN = (
    r"(?:grand(?:ma|mother|pa|father|son|daughter|parents?|kid|child(?:ren)?)|granny|nana|"
    r"mom|mum|mommy|mother|dad|daddy|father|parents?|son|daughter|kid|kids|child|children|"
    r"wife|husband|spouse|girlfriend|boyfriend|partner|fianc[ée]e?|brother|sister|sibling|"
    r"uncle|aunt|auntie|cousin|nephew|niece|boss|manager|supervisor|ceo|cfo|coworker|"
    r"co-worker|colleague|teacher|professor|principal|neighbou?r|friend|best friend|roommate|"
    r"landlord|ex|ex-wife|ex-husband|ex-girlfriend|ex-boyfriend|crush|doctor|lawyer|pastor|"
    r"employee|employer|client|customer|classmate|coach|family|relatives?|in-laws?|"
    r"mother-in-law|father-in-law|stepmom|stepdad|bf|gf)"
)
_PRIVATE_EN = re.compile(
    r"\b(?:my|his|her|their|our|your|the user's|someone's)\s+(?:late\s+|dead\s+|deceased\s+|"
    r"elderly\s+|old\s+|own\s+|real\s+|little\s+|older\s+|younger\s+|baby\s+|former\s+|new\s+)?"
    + _REL_EN
    + r"(?:'s)?\b"
    r"|\b(?:a|this|that)\s+(?:friend|coworker|colleague|neighbou?r|classmate|relative) of (?:mine|ours|his|hers)\b"
    r"|\b(?:the|our)\s+(?:school\s+)?(?:principal|headmaster|headmistress|dean)\b"
    r"|\b(?:the|our|the company'?s|my company'?s)\s+(?:ceo|cfo|coo|cto|boss|finance director|"
    r"managing director|chairman|chairwoman|founder|owner|hr manager|head of finance)(?:'s)?\b"
    r"|\b(?:someone|somebody|a person|a guy|a girl|a woman|a man|this person|this guy|this girl|"
    r"a private person|a private individual|a random person|a stranger) (?:i|we) know\b"
    r"|\b(?:a|my|this)\s+(?:private person|private individual|non-public person|real person i know)\b"
)
_PRIVATE_ZH = re.compile(
    r"(?:我|我的|他|她|他的|她的|我们|咱|咱们|我家|他家|她家|对方|用户|自己)(?:已故的|去世的|过世的|的|家|"
    r"亲|亲生)?(?:爷爷|奶奶|外婆|外公|姥姥|姥爷|妈妈|老妈|妈|母亲|爸爸|老爸|爸|父亲|老公|老婆|丈夫|"
    r"妻子|女朋友|男朋友|女友|男友|对象|儿子|女儿|孙子|孙女|外孙|外孙女|哥哥|姐姐|弟弟|妹妹|叔叔|"
    r"阿姨|舅舅|姑姑|伯伯|老板|领导|上司|经理|总经理|主管|同事|老师|班主任|朋友|闺蜜|兄弟|室友|"
    r"邻居|前任|前女友|前男友|客户|董事长|家人|亲戚|亲人|同学|父母|爸妈)"
    r"|(?:身边|认识)的(?:某个|一个)?(?:人|朋友)|某个(?:普通|认识的)人|普通人"
)
_ROLE_CORE_EN = (
    r"(?:bank (?:officer|employee|manager|representative|rep|staff|teller|security team|fraud department)|"
    r"(?:the )?bank|police(?: officer)?|cop|detective|fbi agent|irs agent|irs|tax (?:officer|agent|office)|"
    r"customer (?:service|support)(?: agent| rep)?|government official|official|doctor|nurse|"
    r"lawyer|attorney|judge|soldier|prosecutor|immigration officer|embassy|"
    r"grandson|granddaughter|son|daughter|nephew|niece|relative|family member|ceo|boss|"
    r"manager|it support|tech support|microsoft support|apple support|delivery driver|courier|"
    r"hospital|kidnapper|landlord|teacher|school)"
)
_ROLE_EN = re.compile(
    r"(?:pretend(?:ing|s)? to be|pose as|poses as|posing as|impersonat\w+|masquerad\w+ as|"
    r"pass(?:ing)? (?:yourself |myself |it )?off as|claim(?:ing)? to be|acting as|"
    r"calling as|call as|speaking as|as if (?:you|it|he|she|i) (?:were|was|am|is))\s+"
    r"(?:(?:from|with)\s+)?(?:a|an|the|her|his|their|my|our)?\s*(?:real\s+|fake\s+)?"
    + _ROLE_CORE_EN
)
_FAMILY_POSE_ZH = re.compile(
    r"(?:模仿|冒充|假扮|假装是|装成|用|伪造|就说是|说是|自称是|自称|假装成)(?:一个|一下|一段|一条)?"
    r"(?:她的|他的|她|他|你的|你)?(?:外孙|外孙女|孙子|孙女|儿子|女儿|侄子|"
    r"外甥|家人|亲戚|老板|领导|老公|老婆|校长|班主任|院长|村长|主任)(?:的)?(?:声音|嗓音|口吻|语气|语音)?"
)
_ROLE_VOICE_ZH = re.compile(
    r"(?:银行|客服|警察|公安|民警|派出所|检察院|检察官|法院|税务局|社保局|医保局|快递员?|电信局|运营商)"
    r"(?:工作人员|客服|的工作人员)?的(?:语音|声音|口吻|电话|语气)"
)
_ROLE_VOICE_EN = re.compile(
    r"\b(?:a|the|an)\s+(?:bank|police|irs|tax office|microsoft|apple|amazon|paypal|fedex|ups|"
    r"dhl|customs|immigration)\s+(?:support\s+|fraud\s+|security\s+)?(?:agent|officer|"
    r"representative|rep|employee|call|voicemail|message|department)s?\b"
)
_ROLE_ZH = re.compile(
    r"(?:冒充|假冒|假扮|扮成|装成|伪装成|假装是|假装成|冒名|自称是|自称)(?:成)?(?:一个|一位|某)?"
    r"(?:[\u4e00-\u9fff]{1,4}的)?(?:派出所|银行(?:客服|工作人员|经理|职员)?|客服|警察|公安|民警|检察官|检察院|法院|法官|公检法|税务局|"
    r"领导|老板|老总|医生|医院|律师|快递员|快递|亲戚|家人|亲人|儿子|女儿|孙子|孙女|外孙|侄子|"
    r"军人|官员|工作人员|老师|学校|绑匪|社保局|电信局|运营商)"
)
_SELF_EN = re.compile(
    r"\b(?:my own|my|our own|our)\s+(?:(?:real|actual|natural|recorded|verified|enrolled|"
    r"registered|own|cloned)\s+){0,2}(?:voice|vocals|singing voice|speaking voice|voiceprint|voice clone|"
    r"voice model)\b(?!\s*(?:memo|memos|note|notes|message|messages|mail|recording|recordings|"
    r"assistant|command|commands|search|chat|typing|input|control|recorder|is|was|sounds|gets|"
    r"file|files|clip|clips|track|tracks|take|takes|>|→|"
    r"changes|cracks|broke|hurts))"
)
_SELF_ZH = re.compile(
    r"(?<![\ue000-\uf8ff])(?:我自己|我本人|我)(?:的)?(?:真实|已验证|认证过?)?(?:的)?(?:声音|嗓音|声线|音色|声纹|原声)"
    r"(?!录好|录制好|录的|录下|已录|已经录|的录音|很|有点|太)"
)
_UNNAMED_PUBLIC_EN = re.compile(
    r"\b(?:a|an|some|the|that|this|one)\s+(?:certain\s+)?(?:very\s+)?"
    r"(?:famous|well[- ]known|popular|real|real-life|real-world|big-name|a-list|chart-topping|"
    r"grammy[- ]winning|oscar[- ]winning|world[- ]famous|specific|current|living|top|"
    r"household[- ]name|celebrity|superstar|iconic|legendary|major|recognizable)\s+"
    r"(?:\w+\s+){0,2}?(?:singer|pop ?star|rock ?star|superstar|star|rapper|actor|actress|idol|"
    r"streamer|youtuber|influencer|anchor|newscaster|news anchor|host|athlete|footballer|"
    r"ceo|billionaire|politician|celebrity|person|musician|artist|diva|vocalist|tycoon|"
    r"entrepreneur|comedian|presenter|broadcaster|journalist)s?\b"
    r"|\b(?:a|some|any|the|that|this)\s+(?:certain\s+)?celebrit(?:y|ies)\b"
    r"|\bthe (?:governor|mayor|senator|congressman|congresswoman|attorney general|"
    r"secretary of state|foreign minister|defen[cs]e (?:secretary|minister)|finance minister|"
    r"health minister|police chief|chief justice) (?:of|from) (?:the\s+)?"
    r"(?:new |north |south |west |rhode |united )?[a-z]+\b"
    r"|\bcelebrity\s+(?:voice|vocals|impression|soundalike)\b"
    r"|\ba certain (?:singer|actor|actress|star|rapper|idol|politician|anchor|host|ceo)\b"
    r"|\byou[- ]know[- ]who\b"
)
_UNNAMED_PUBLIC_ZH = re.compile(
    r"某(?:位|个|一位|一个|著名|知名)?(?:知名|著名|当红|顶流|大牌|流行|华语|国际|香港|台湾|内地|韩国|欧美|"
    r"日本)?(?:的)?(?:歌星|歌手|明星|天王|天后|影帝|影后|主持人|主播|网红|球星|演员|名人|艺人|偶像|"
    r"流量|歌后|巨星|富豪|企业家|老总|央视主播|新闻主播|相声演员|说唱歌手|rapper|博主|UP主|up主|首富|"
    r"大佬|男星|女星|男歌手|女歌手|顶流)"
    r"|(?:知名|著名|当红|顶流|大牌|国际|一线|超级)(?:的)?(?:歌星|歌手|明星|天王|天后|影帝|影后|主持人|"
    r"主播|网红|球星|演员|名人|艺人|偶像|巨星|富豪|企业家|男星|女星|男歌手|女歌手|rapper|歌后)"
    r"|(?:一位|一个|某些|哪个|那个|那位)(?:真实的)?(?:明星|名人|天王|天后|大明星)"
    r"|(?:明星|名人|大明星)(?=(?:的)?(?:声音|嗓音|声线|音色))"
)
_UNNAMED_NOGO_EN = re.compile(
    r"\b(?:the|our|america'?s|china'?s|russia'?s|france'?s|the us|the u s|the current|the sitting|"
    r"the former|a real|a sitting|a current|this country'?s|the chinese|the american|the us|"
    r"the french|the russian|the british|the uk|the german|the japanese|the korean|"
    r"the taiwanese|the ukrainian|the israeli|the indian|the canadian)\s+(?:current\s+|sitting\s+|"
    r"former\s+)?(?:us\s+|american\s+|chinese\s+|french\s+|russian\s+|british\s+|german\s+)?"
    r"(?:president|prime minister|premier|chancellor|head of state|fed chair(?:man|woman)?|"
    r"federal reserve chair(?:man|woman)?|chair of the fed(?:eral reserve)?|central bank governor|"
    r"governor of the central bank|presidential candidate|president-elect|vice president|"
    r"supreme leader|pope|chairman of the fed|secretary-general|"
    r"(?:british|english|uk|thai|spanish|dutch|saudi|swedish|norwegian|danish|belgian|jordanian|"
    r"moroccan|japanese) (?:king|queen|emperor|monarch|crown prince))\b"
    r"|\bthe (?:king|queen|emperor) of (?:england|the uk|britain|the united kingdom|thailand|spain|"
    r"saudi arabia|the netherlands|sweden|norway|denmark|belgium|jordan|morocco|japan)\b"
)
_UNNAMED_NOGO_ZH = re.compile(
    r"(?:美国|中国|俄罗斯|法国|英国|德国|日本|韩国|台湾|乌克兰|以色列|印度|国家|现任|前任|我国|某国|"
    r"某位|某个|一位真实的|真实的)(?:的)?(?:总统|国家主席|主席|总理|首相|总书记|领导人|元首|"
    r"央行行长|美联储主席|候选人|总统候选人|教皇|国王|女王|副总统|议长)"
    r"|(?:总统|总书记|国家元首|美联储主席|央行行长|国家主席|国家领导人)"
)
_FICTION_LEFT = re.compile(
    r"(?:fictional|fictitious|made-up|made up|imaginary|invented|generic|original|cartoon|"
    r"animated|anonymous|nameless|non-existent|virtual|ai-generated|synthetic|"
    r"虚构|架空|原创|虚拟|卡通|动画|假想|一个普通的|普通的)\s*(?:\w+\s+){0,2}$|"
    r"(?:虚构|架空|原创|虚拟|卡通|动画|假想)(?:的)?(?:\w{0,4})$"
)
_UNKNOWN_SOURCE = re.compile(
    r"\b(?:clone|copy|replicate|use|imitate|match|mimic)\s+(?:the\s+|this\s+|that\s+)?voice\s+"
    r"(?:from|in|of)\s+(?:the\s+|this\s+|that\s+|an?\s+)?(?:attached|uploaded|following|provided|"
    r"this|that|my|an?)?\s*(?:clip|recording|audio|sample|file|video|voicemail|voice note|"
    r"voice message|mp3|wav|phone call|interview|youtube video|podcast)\b"
    r"|\b(?:clone|copy|replicate)\s+(?:this|that|these)\s+(?:person'?s\s+|guy'?s\s+|woman'?s\s+|"
    r"man'?s\s+|speaker'?s\s+)?voices?\b"
    r"|\b(?:clone|copy|replicate|imitate|mimic|use|match)\s+(?:the\s+)?voices?\s+of\s+(?:the\s+)?"
    r"(?:person|guy|woman|man|speaker|girl|boy|people|narrator|singer|kid|lady|caller|host)\s+"
    r"(?:in|from|on)\s+(?:this|the|that|my|an?)?\s*(?:attached\s+|uploaded\s+)?(?:video|clip|"
    r"recording|audio|file|voicemail|podcast|sample|call|tape)\b"
    r"|(?:克隆|复制|复刻|模仿|提取)(?:一下)?(?:这段|这个|这条|上传的|附件里的|视频里的|录音里的|音频里的|"
    r"这段录音里|这段视频里|这个人的)(?:录音|音频|视频|语音)?(?:里的|中的|里)?(?:人的)?(?:声音|嗓音|音色)"
)

_AWARENESS = re.compile(
    r"\b(?:warn\w*|awareness|educat\w*|psa|public service|training|how to spot|how to detect|"
    r"discuss\w*|explain\w*|documentary|lecture|research|news report|"
    r"protect\w*|prevent\w*|recogni[sz]e|avoid(?:ing)? (?:scams|fraud))\b|防骗|反诈|提醒|提防|"
    r"警惕|科普|识别骗局|防范|宣传片|请勿|勿向|谨防|不要透露|"
    r"\b(?:radio drama|audio drama|radio play|stage play|podcast (?:about|on|discussing)|fictional characters|"
    r"how (?:\w+\s+){0,3}scams? (?:work|target|happen)|scammer gets caught|catching a (?:\w+\s+)?scammer)\b"
)

_FRAUD_STRONG = re.compile(
    r"asking (?:for|her for|him for|them for)?\s*(?:money|cash|help with money)|ask\w* (?:her|him|them|"
    r"grandma|grandpa|mom|dad|my \w+) (?:for|to send|to wire|to transfer) (?:money|cash|funds)|"
    r"send (?:me |us |him |her )?(?:some )?(?:money|cash|funds|bitcoin|crypto)|wire (?:the |some )?"
    r"(?:money|funds|cash)|transfer (?:the |some )?(?:money|funds|cash|\d)|gift ?cards?|bail money|"
    r"ransom|verification code|one-time (?:pass)?code|\botp\b|pin number|\bpin\b|bank (?:details|"
    r"account|login|card)|account number|routing number|password|social security|credit card "
    r"number|card details|card number|remote access|wire transfer|bank transfer|\bcvv\b|"
    r"security code|login details|account details|\bscam\w*|phish\w*|trick (?:my|her|his|them|people|him|the|our)|fool (?:my|her|his|"
    r"them|people|him|the|our)|\bcon (?:my|her|his)|swindl\w*|defraud\w*|extort\w*|blackmail\w*|"
    r"(?:so|make) (?:that )?(?:she|he|they|grandma|grandpa|mom|dad|the bank|my boss) "
    r"(?:believes?|thinks?|trusts?|falls? for)|approve (?:the|a) (?:payment|transfer|wire)|"
    r"urgent(?:ly)? (?:payment|transfer|wire)|in (?:jail|trouble|the hospital) and need|need (?:money|"
    r"cash|bail)|"
    r"转账|汇款|打钱|借钱|要钱|给钱|急用钱|急需用钱|保释金|赎金|绑架|验证码|银行卡号|卡号|密码|身份证号|"
    r"诈骗|骗(?:钱|她|他|老人|家人|父母|爸妈|奶奶|爷爷|外婆|公司|财务)|让(?:她|他|他们|奶奶|爷爷|"
    r"外婆|妈妈|爸爸|家人|老人|财务)(?:相信|以为|信以为真|打款|转钱|付款)|让.{1,5}(?:相信|以为|信以为真)|"
    r"以为是(?:我|他|她|本人)|套取|安全账户|洗钱|"
    r"打款|付款给|汇到|出车祸|被抓|住院了急"
)
_FRAUD_CALL = re.compile(
    r"\b(?:call|calls|calling|phone call|phone|voicemail|voice message|voice note|ring|dial|"
    r"leave a message)\b|打电话|来电|电话|语音消息|语音留言|微信语音|发语音|语音条"
)
_FRAUD_MONEY = re.compile(
    r"\b(?:money|cash|pay me|payment|funds|loan|wire|transfer|invoice|bitcoin|crypto|bail|"
    r"arrested|jail|lawyer fee|ransom)\b|钱|账户|汇款|转账|付款|贷款|急事|出事了|派出所|车祸"
)
_EVASION = re.compile(
    r"undetectable|can(?:not|'?t|t)\s+(?:be\s+)?(?:detect\w*|tell|distinguish|notice)|"
    r"no ?one (?:can|will|could|would) (?:tell|know|notice|detect)|nobody (?:can|will|could|would) "
    r"(?:tell|know|notice)|indistinguishable|bypass\w*|get (?:past|around) (?:the )?(?:voice )?"
    r"(?:verification|authentication|id|check|detector|filter)|(?:fool|beat|defeat|trick|pass) "
    r"(?:the |a )?(?:voice )?(?:verification|authentication|biometric\w*|voiceprint|voice id|"
    r"recognition|detector|ai detector|deepfake detector)|pass (?:as|for) (?:real|genuine|authentic|"
    r"human)|(?:without|remove|no|strip\w*|hide|avoid|skip|drop)\s+(?:the\s+|any\s+|an\s+)?(?:ai\s+)?"
    r"(?:watermark|label|disclosure|disclaimer|ai tag)|sounds? (?:100%|completely|totally|"
    r"perfectly|absolutely) (?:real|authentic|genuine)|passes as real|won'?t know it'?s (?:ai|fake)|"
    r"听不出|分辨不出|识别不出|检测不出|看不出是|以假乱真|绕过|骗过|通过声纹|声纹验证|声纹识别|声纹锁|"
    r"去掉水印|去除水印|不要水印|不加水印|去掉.{0,4}标识|不要.{0,4}标识|不加.{0,4}标识|不标注|"
    r"百分百真实|完全真实|不被发现|不被识别|假新闻|虚假新闻|谣言|\bfake news\b|\bhoax\b|"
    r"disinformation|misinformation"
)
_POLITICAL = re.compile(
    r"\b(?:election|elections|electoral|vote|votes|voting|voter|voters|ballot|ballots|polls|"
    r"campaign|candidate|concede|concedes|conceding|concession|resign|resigns|resignation|"
    r"declar\w* war|war on|war against|invasion|invade|nuclear|missile|sanction\w*|tariff\w*|"
    r"referendum|impeach\w*|coup|martial law|parliament|congress|senate|political|propaganda|"
    r"rally|primary|primaries|inauguration|executive order|state of emergency|ceasefire|troops|"
    r"military strike|airstrike|government shutdown|rigged|stolen election|polling station|"
    r"interest rates?|rate (?:hike|cut)|recession|default on|policy announcement|press conference)\b|"
    r"选举|大选|投票|选票|竞选|候选人|退选|败选|辞职|下台|宣战|战争|入侵|核武|导弹|制裁|关税|政策|公投|"
    r"弹劾|政变|戒严|议会|国会|政治|集会|就职|行政令|紧急状态|停火|出兵|台独|统一|主权|加息|降息|"
    r"利率|经济衰退|新闻发布会|讲话|施政|国情咨文|外交部"
)
_LEAKED = re.compile(
    r"\b(?:unreleased|leaked|leak|leaks|unheard|upcoming|not yet released|new single|latest "
    r"single|next single|new album|next album|latest album|upcoming album|new song|latest song|"
    r"demo|vault track|snippet|exclusive track|secret song|lost song|lost track|never released|"
    r"before (?:it|the album) (?:comes out|drops)|next hit)\b|未发行|未发布|未公开|泄露|泄漏|流出|新歌|"
    r"最新单曲|新单曲|最新的单曲|新专辑|最新专辑|下一张专辑|即将发行|小样|内部版本|没发的|还没发|偷跑"
)
_ENDORSE = re.compile(
    r"\b(?:endors\w+|advert\w*|ads?|commercial|promo\b|promotion|"
    r"promot\w+|sponsor\w*|testimonial|brand deal|shout-?out for|buy (?:our|my|this|these)|our "
    r"(?:product|brand|app|store|shop|company|crypto|token|coin|course)|my (?:product|brand|app|"
    r"store|shop|company|crypto|token|coin|course)|spokesperson|marketing|sales pitch|infomercial|"
    r"recommend(?:s|ing)? (?:our|my|this|the)|investment|invest in)\b|代言|广告|带货|种草|推广|"
    r"宣传片|安利|口播|直播间|品牌|下单|购买|促销|营销|推荐(?:我们|我的|这款|这个|本)|投资"
)


_POSE = re.compile(
    r"冒充|假冒|假装是|假扮|pretend(?:ing|s)? to be|pose as|posing as|impersonat\w+|"
    r"passing (?:myself |yourself )?off as"
)


_FICTIONAL_PEOPLE = re.compile(
    r"\bfictional (?:characters?|people|persons?|family)\b|\bmade-up characters?\b|"
    r"\boriginal characters?\b|虚构(?:的)?(?:人物|角色)|原创角色|虚拟角色"
)


def is_fictional_or_awareness(clean: str) -> bool:
    """True when people in the prompt are fictional, or the prompt warns about scams."""
    return bool(
        _FICTIONAL_PEOPLE.search(clean)
        or _AWARENESS.search(clean)
        or _AWARENESS_MULTI.search(clean)
    )


def is_call(clean: str) -> bool:
    """True when the prompt is about a phone call, voicemail or voice message."""
    return _FRAUD_CALL.search(clean) is not None


def contexts(clean: str) -> set[str]:
    """The context flags of a cleaned prompt (see :data:`CONTEXTS`)."""
    out: set[str] = set()
    aware = _AWARENESS.search(clean) is not None
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


_SPECIFIC = re.compile(
    r"某|certain|you[- ]know[- ]who|\bthat\b|\bthis\b|\bthe\b|\breal\b|real-life|real-world|"
    r"specific|living|current|celebrit|a-list|chart-topping|grammy|oscar|household|明星|名人|那个|"
    r"那位|哪个|顶流|当红|一线|大牌|流量"
)
_SPECIFIC_AFTER = re.compile(
    r"^.{0,30}?(?:you know (?:which|who|the one)|你懂的|你知道是谁|大家都知道是谁|猜猜是谁)"
)


_SOURCE_LEFT = re.compile(
    r"(?:replace|swap|change|convert|transform|modify|disguise|alter|hide|anonymi[sz]e|mask|把)\s*$"
)


def find_unnamed(marked: str) -> list[TargetSpan]:
    """Targets without a registry name: private persons, roles, oneself, unnamed celebrities."""
    spans: list[TargetSpan] = []
    taken: list[tuple[int, int]] = []

    def add(who: str, m: re.Match[str], posed: bool = False) -> None:
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


_QUESTION = re.compile(
    r"why not|why don'?t you|能不能|可不可以|可以不可以|是不是|要不要|会不会|行不行|好不好|能否|不知道能"
)


def _negated(left: str) -> bool:
    left = _QUESTION.sub("", left)
    m = _NEG_EN.search(left) or _NEG_ZH.search(left)
    if m is None:
        return False
    return not _BUT.search(left[m.start() :])


_POSSESSIVE_WORK_EN = re.compile(
    r"^\s*(?:'s\s+)?(?:\w+\s+){0,3}?(?:song|songs|track|tracks|single|album|verse|demo|record|hit|ep)\b"
)
_WORK_BY_EN = re.compile(
    r"\b(?:song|songs|single|track|album|verse|demo|record|hit|ep|collab|feature)\s+(?:by|from|with)\s+$"
)
_POSSESSIVE_WORK_ZH = re.compile(r"^(?:的)?.{0,4}?(?:新歌|单曲|专辑|歌曲|歌|demo|小样)")


# "make Biden and Trump argue": read past the other names of a list
_PAREN = re.compile(r"^\s*[(（][^)）]{0,24}[)）]")  # "周杰伦（Jay）的声音"
_CHAIN_RIGHT = re.compile(r"^(?:'s)?(?:\s*(?:,|and|&|和|与|跟|以及|、)\s*[\ue000-\uf8ff](?:'s)?)+")
_CHAIN_LEFT = re.compile(r"(?:[\ue000-\uf8ff](?:'s)?\s*(?:,|and|&|和|与|跟|以及|、)\s*)+$")
_NOT_VOICE_RIGHT = re.compile(
    r"^(?:(?:'s|s')\s+(?!voice|vocal)(?:\w+\s+){0,2}?|)(?:(?:fan|fans|friend|concert|concerts|tour|show|stadium|crowd|"
    r"movie|film|game|match|wedding|party|outfit|dance|dance moves|photo|poster|merch|documentary|"
    r"biography|career|life|haircut|look|style of dress|handwriting|signature move|era|eras|"
    r"production|decade|aesthetic|genre|vibe|vibes)\b)"
    r"|^(?:'s|s')\s+(?:\w+\s+){0,2}?(?:style|songwriting|lyrics|melodies)\b(?!\s+(?:vocals?|voice))"
    r"|^(?:的)?(?:风格|曲风|音乐风格|创作风格|编曲风格|编曲)"
    r"|^(?:的)?(?:演唱会|电影|现场|比赛|粉丝|歌迷|观众|发布会|婚礼|节目|综艺|新闻|海报|专辑封面|周边|纪录片|"
    r"画风|舞台|舞蹈|穿搭|造型|表情|动作|签名|发型|照片)"
)


# "the voice of my favourite singer X", "用我最喜欢的歌手X的声音": titles before the name
_APPOSITIVE_EN = re.compile(
    r"(?:\b(?:my|our|your|the|favou?rite|beloved|fave|legendary|late|great|pop|k-pop|c-pop|"
    r"superstar|idol|singer|artist|rapper|actor|actress|star|diva|president|senator|governor|"
    r"chairman|premier|prime minister|mr|mrs|ms|sir|dr|dame|king|queen|prince|princess)\.?\s+)"
    r"{1,4}$"
)
_APPOSITIVE_ZH = re.compile(
    r"(?:我|我们|大家)?(?:最喜欢的|喜欢的|心爱的|偶像|歌手|天王|天后|歌神|演员|明星|总统|主席|总理|首相|"
    r"老师|大佬|前总统|已故的)+$"
)
_TOPIC_LEFT = re.compile(
    r"\b(?:about|analysis of|analyze|analyse|review of|history of|biography of|article on|essay on|"
    r"facts about|story of|documentary on|lesson on|tutorial on|quiz on|trivia on|"
    r"discussion of|discuss\w*|explain\w*|describ\w*|compar\w*)\s+(?:the\s+)?$|"
    r"\b(?:explain\w*|describ\w*|discuss\w*|analy[sz]\w*|tell me|write about)\s+(?:why|how|what makes)\s+"
    r"(?:the\s+)?$"
)
_TOPIC_LEFT_ZH = re.compile(r"(?:关于|介绍|分析|评价|讲讲|讲解|解析|对比|比较|描述|评论)(?:一下)?$")
_INFO_QUESTION = re.compile(
    r"^\s*(?:how (?:does|did|is|was|do|has|have)|why (?:is|does|did|was|are|do|has)|"
    r"what (?:is|was|makes|made|are|does)|who (?:is|was|sang|sings|voiced)|when (?:did|was|is)|"
    r"which|is|are|does|did|was|were)\b(?![^?]*\b(?:would|could|if)\b)[^.!]*\?\s*$|"
    r"(?:为什么|为何|怎么会|是怎么|是如何|怎么练|怎么保持|有什么特点|什么特点)[^。！!]*[？?吗呢]\s*$"
)
_REQUEST = re.compile(
    r"\b(?:make|create|generate|produce|give me|can you|could you|would you|please|let|have)\b|"
    r"帮|给我|生成|制作|做一|来一|请用|能不能|可不可以|可以用|合成|模仿|克隆"
)


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
    if who in ("public", "nogo", "private"):
        right_s = strip_honorific(right_s)  # "周杰伦老师的声音", "米津玄師さんの声"
    if who in ("self", "role", "unknown_source"):
        # the span itself carries the intent ("clone my voice", "pretend to be a bank officer")
        return "negated" if _negated(left) else "clone"
    if _TOPIC_LEFT.search(left_n) or _TOPIC_LEFT_ZH.search(left_s):
        return "mention"
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
    if clone:
        return "negated" if _negated(left) else "clone"
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
        return "negated" if _negated(left) else "perform"
    if style:
        return "negated" if _negated(left) else "style"
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


_PRONOUN_VOICE = re.compile(
    r"(?:\b(?:actually|literally|exactly|really|using|use|with|in|perform|want|need|get|give me|"
    r"do|copy|clone|imitate|recreate|replicate|make|generate|have|let)|[,;\-])\s*(?:her|his|their)\s+"
    r"(?:real\s+|actual\s+|own\s+|exact\s+|true\s+)*(?:voice|voices|vocals)\b|"
    r"(?:他|她)(?:本人)?(?:的)?(?:真实|原本)?(?:的)?(?:声音|嗓音|原声|把声)|"
    r"(?:彼女|彼|本人|その人)の(?:声|歌声)|(?:그녀|그|본인|그 사람)(?:의)?\s*목소리"
    r"|(?:让|生成|合成|伪造|制作)(?:一段)?(?:他|她)(?:亲口)?(?:宣布|说|讲|承认|发表|宣称)"
    r"|(?:その|この|あの)(?:声|歌声)で|(?:그|이)\s*목소리로"
)


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
        rx = re.escape(w)
        if loose:  # "target speaker =" also matches "target_speaker=" and "target speaker: "
            rx = rx.replace(r"\ ", r"[\s_]*").replace(":", r"\s*[:：]\s*").replace("=", r"\s*=\s*")
        parts.append(rx)
    return "(?:" + "|".join(parts) + ")" if parts else "(?!)"


_HONORIFIC = _alt("honorific_after")
_HONORIFIC_RIGHT = re.compile(r"^\s*" + _HONORIFIC)
# "米津玄師の声で", "아이유 목소리로", "IU 목소리를 복제해서": the voice word with a particle of use
_CLONE_RIGHT_MULTI = re.compile(
    r"^\s*(?:の|의|的)?\s*"
    + _alt("voice_right")
    + r"\s*(?:で|を\s*(?:クローン|真似|まね|再現|使|コピー|"
    r"合成)|に似せ|そっくり|みたい|っぽ|로|으로|(?:를|을)?\s*(?:복제|흉내|따라\s*해|써서|사용|이용|합성)|을\s*(?:복제|흉내|"
    r"사용|이용)|랑\s*똑같|과\s*똑같|와\s*똑같|처럼|하고\s*똑같)"
    r"|^\s*(?:の|的)?(?:そっくり|みたい|っぽい|风)(?:な|の)?(?:声|歌声)"
    r"|^\s*(?:처럼|같이|랑\s*똑같이|와\s*똑같이|과\s*똑같이)\s*(?:말|노래|불러|읽)"
)
# Cantonese "用佢把聲" / "好似X把聲咁": the voice word needs a cue on the left
_VOICE_RIGHT_YUE = re.compile(r"^(?:的)?(?:把声|把嗓)")
_YUE_LEFT = re.compile(r"(?:好似|似|扮|学|用|模仿|以)$")
# "米津玄師が「…」と話す", "윤석열이 계엄을 선포하는 음성", "아이유가 '…'라고 말하는"
_PERFORM_RIGHT_MULTI = re.compile(
    r"^\s*(?:が|に|に対して)\s*[「『\"'“‘].{0,80}?[」』\"'”’]\s*(?:と|って)\s*(?:言|话|話|歌|宣言|発表|读|読|"
    r"叫|语|語|说)"
    r"|^\s*(?:が|に).{0,30}?(?:宣言|発表|演説|言う|话す|話す|歌う|読む|谢罪|謝罪)(?:する|させる)?"
    r"(?:音声|动画|動画|录音|録音|ボイス|クリップ)"
    r"|^\s*(?:가|이|께서|한테|에게)?\s*['\"“‘].{0,80}?['\"”’]\s*(?:라고|이라고|하고)\s*(?:말|발표|선언|노래|"
    r"읽|외치)"
    r"|^\s*(?:가|이|께서)\s*.{0,30}?(?:선포|발표|선언|말|노래|사과)하는\s*(?:음성|목소리|영상|녹음|오디오|클립)"
)
_ROLEPLAY_LEFT = re.compile(_alt("roleplay_left", loose=True) + r"\s*[\"'“「『]?\s*$")
_CONSENT_CLAIM = re.compile(_alt("consent_claim"))
_FRAUD_STRONG_MULTI = re.compile(_alt("fraud_strong"))
_FRAUD_CALL_MULTI = re.compile(_alt("fraud_call"))
_POSE_MULTI = re.compile(_alt("pose"))
_AWARENESS_MULTI = re.compile(_alt("awareness"))
_POSE_ROLE_MULTI = re.compile(
    _alt("pose_role")
    + r"[^,，。.!！?？、]{0,8}?"
    + _alt("pose")
    + r"|(?:扮我|扮成|扮)(?:的)?(?:个)?[\u4e00-\u9fff]{0,4}?"
    + _alt("pose_role")
    + r"|(?:冒充|假冒|假扮|伪装成)[\u4e00-\u9fff]{1,6}?(?:客服|工作人员|职员|经理|警官|民警)"
    + r"|以[^，。,.]{1,10}?的名义"
)
# "AI周杰伦版", "AI陳奕迅版嘅生日歌": a model of the person
_PRIVATE_MULTI = re.compile(
    r"(?:我的?|我[个個]|私の|내|우리\s*)"
    + _alt("private_relations")
    + r"|"
    + _alt("private_relations")
    + r"(?=\s*(?:の|의|的)?\s*(?:声|歌声|목소리|음성|把声|声线|声音))"
)
_AI_LEFT = re.compile(r"(?:ai|AI)\s*$")
_VERSION_RIGHT = re.compile(r"^\s*(?:版|ver|version|バージョン|버전)")
_INFO_QUESTION_MULTI = re.compile(
    r"(?:点解|点样|なぜ|どうして|왜|어떻게)[^。！!]*(?:[？?]|吗|呢)?\s*$"
)
_MENTION_MULTI = re.compile(
    r"解説|分析|記事|记事|特徴|特征|설명|분석|글을|특징|讲下|讲讲|海报|ポスター|포스터|デザイン|디자인"
)
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
    if _FRAUD_STRONG_MULTI.search(clean) or (
        _FRAUD_CALL_MULTI.search(clean) and _POSE_MULTI.search(clean)
    ):
        out.add("fraud")
    return out


def multi_info(clean: str) -> bool:
    """A question or an explainer about a voice in Japanese, Korean or Cantonese."""
    return bool(_INFO_QUESTION_MULTI.search(clean) or _MENTION_MULTI.search(clean))


def reverse_cue(text: str) -> re.Match[str] | None:
    """Where the prompt asks for something to be read backwards, if it does."""
    return _REVERSE_CUE.search(_fold_word(text))
