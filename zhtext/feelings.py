"""Loneliness an elder voices: 家里就我一个人，闷得慌 / 孩子们都不来看我 / 想找个人说说话 / 陪我聊会儿吧.

12349 desks make proactive care calls to elders living alone because loneliness is a care signal:
it is said in passing, to a speaker in an empty room, and it deserves a warm answer and a person
who hears of it, not an alarm. This module only finds the words; what to offer and whom to tell
is services' and the actions' business.

Anything the emergency detector takes ("一个人在家摔倒了", "不想活了") is not loneliness here: it
belongs on the help path, and a warm "去驿站下下棋吧" would be the wrong answer to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .kinds import parse_relation
from .normalize import clean

__all__ = ["LonelinessCue", "detect_loneliness", "LONELINESS_KINDS"]

LONELINESS_KINDS = ("alone", "family_away", "wants_company")


@dataclass(frozen=True)
class LonelinessCue:
    kind: str  # one of LONELINESS_KINDS
    words: str  # the words in the cleaned text that matched
    # The family member named ("儿子都不来看我" → 儿子, canonical as zhtext.kinds.parse_relation);
    # None when nobody in particular was named ("孩子们").
    relation: str | None = None


_KIDS = r"(?:孩子们?|儿女们?|子女们?|小的们|娃们?|儿子|闺女|女儿|姑娘|孙子|孙女|外孙女?|家里人|亲戚|儿孙们?)"
_BETWEEN = r"(?:们)?(?:都|也|老|总|老是|总是|从来|好久|好长时间|一年|半年|几个月|一年到头|成年|常年|平时|现在|一直|根本|早就|又|可)*"
_RULES: tuple[tuple[str, str], ...] = (
    # 就我一个人 / 家里就剩我自己 — but "就我一个人吃，订一份" is a meal order for one.
    # "就我一个" alone is also the answer to "订几份"; with 人 / 自己, or after 剩, it is being alone.
    ("alone", r"(?:就|只有)(?:我|俺)(?:一个人|自己|一人)(?![吃的去订用来要])|"
              r"(?:只剩|就剩|剩)(?:下)?(?:我|俺)(?:一个人|一个|自己|一人)(?![人吃的去订用来要])|"
              r"(?:我|俺)?一个人(?:在家|过日子|过|待着|待在家|守着|住|孤零零)|孤单|孤零零|孤孤单单|孤独|寂寞|冷清|冷冷清清|"
              r"没(?:有)?人(?:(?:跟|和|陪|同)(?:我|俺))?(?:说话|说说话|拉话|聊天|唠嗑|搭理(?:我|俺)?|理(?:我|俺)|管(?:我|俺)|陪(?:我|俺)?)|"
              r"没个说话的人?|心里憋屈|憋屈得(?:很|慌|难受)|"
              r"连个说话的人都没有|闷得(?:慌|很|难受|要命|发慌)|闷死了|闷得不行|心里空落落|空落落的|空荡荡的|"
              r"日子(?:难熬|不好熬|没意思|过得没意思)|一天到晚没人|整天没人|怪无聊|好无聊|太无聊了|无聊得很|无聊死了|"
              r"老伴(?:走了|没了|不在了|去世)(?:以后|之后|后|这几年)?|想(?:我)?老伴"),
    ("family_away", rf"{_KIDS}{_BETWEEN}(?:不来看我|不来看看我|没来看我|没来|没回来|没回家|不在身边|不在跟前|不常来|很少来|不怎么来|不来|不回来(?!吃)|不回家|很少回来|不常回来|难得回来|"
                    r"顾不上我|不管我|不理我|不打电话|不给我打电话|不来电话|没空来|忙得顾不上)|"
                    r"没(?:有)?人(?:来)?看(?:看)?我|好久没人来|想(?:我)?(?:孩子们?|儿子|闺女|女儿|孙子|孙女|外孙)|"
                    r"见不着(?:孩子|儿子|闺女|孙子|孙女)"),
    # 找个人说说话 / 陪我聊会儿 / 跟我唠唠 — "陪聊" is the home service (a visit request) and stays out.
    ("wants_company", r"(?:找|想找|有)个?人(?:说说话|说会儿话|说话|聊聊天?|聊会儿天?|拉拉话|拉话|唠唠嗑?|唠嗑|陪陪我|"
                      r"陪我(?![去上到看]))|"
                      r"陪(?:我|俺)(?:聊|说|唠|拉|坐|待|说说话|一会儿|会儿)|陪陪(?:我|俺)|"
                      r"(?:跟|和|同)(?:我|俺)(?:聊聊|聊会儿|说说话|说会儿话|唠唠|拉拉话|拉拉家常|说说)|"
                      r"(?:咱们?|咱俩|咱两个)(?:聊聊|聊会儿|说说话|拉拉家常|唠唠)|"
                      r"(?:想|要)(?:跟人|和人|找人)?(?:说说话|说会儿话|聊聊天|聊会儿天|拉拉家常|唠唠嗑)(?!的活动|活动)"),
)
_COMPILED = tuple((kind, re.compile(p)) for kind, p in _RULES)
# 不孤单, 一点也不寂寞, 没觉得闷, 不想找人说话.
_NEG_BEFORE = re.compile(r"(?:不|没|没有|别|不会|不用|不算|并不|从不|一点也不|一点都不|没觉得|不觉得|谁说)$")
# "孩子们都不来看我" is missing them; "孩子们都常来看我" is not. "闷热" is the weather.
# "谢谢你陪我说话" thanks for company had; "找个客服跟我说说" wants a person at the desk (handoff);
# "看病没人陪" wants an escort (陪诊, a home-visit request).
_NOT_LONELY = re.compile(r"闷热|胸口闷|胸闷|谢谢(?:你|您)?陪|陪我说了|(?:客服|工作人员|人工|真人|接线员)[^，。！？]{0,3}(?:跟|和)我说|"
                         r"(?:看病|医院|住院|拿药)[^，。！？]{0,4}没人陪|(?:上门|来家|到家)[^，。！？]{0,3}陪|(?<![不没])(?:常|经常|天天|老|总)来看我|(?<![不没])来看我了|(?<![不没])(?:要|说|明天|后天|过两天)来看我")


def detect_loneliness(text: str | None) -> LonelinessCue | None:
    """The loneliness the utterance voices, or None.

    With several cues, a named absent family member wins (it shapes the offer: a call to that
    son), then the earliest: "就我一个人，儿子也不来看我" → family_away, 儿子.
    """
    t = clean(text)
    if not t:
        return None
    from .emergency import detect_emergency  # pypinyin loads on first use, not at import

    if detect_emergency(t) is not None:
        return None
    blocked = [(m.start(), m.end()) for m in _NOT_LONELY.finditer(t)]
    hits = []
    for kind, pattern in _COMPILED:
        for m in pattern.finditer(t):
            if any(a <= m.start() < b or a < m.end() <= b for a, b in blocked):
                continue
            before = t[max(0, m.start() - 4):m.start()]
            if _NEG_BEFORE.search(before):
                continue
            hits.append((m.start(), m.end(), kind))
    if not hits:
        return None
    hits.sort(key=lambda h: (h[2] != "family_away", h[0], -(h[1] - h[0])))
    start, end, kind = hits[0]
    words = t[start:end]
    relation = parse_relation(words) if kind == "family_away" else None
    return LonelinessCue(kind, words, relation)
