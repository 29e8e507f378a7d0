"""Complaints an elder tells about their body: 膝盖疼得走不动道, 这几天老咳嗽, 吃了降压药以后就恶心.

A complaint is not a reading (血压一百四十五到九十, see zhtext.health) and not an emergency
(胸口疼, 喘不上气, 摔倒了起不来, see zhtext.emergency, which the gateway runs first): it is the
everyday "not well" that a doctor or a daughter should hear about when it lasts, comes back or
follows a new medicine. This module only says *what* was said; whom to tell is services' rule.

Precision matters more here than in the emergency detector: a false complaint makes the bot
answer "记下了，您腿疼" to "疼我的孙子" or "不想吃饺子了，想吃面". So single characters (疼, 肿,
咳, 痒) only count with a body part or a clear verb form, and a complaint that is negated
("不咳嗽了", "头不疼了", "没有恶心") or said to be over ("咳嗽好多了") is no complaint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._numerals import DIGITS, find_numbers
from .normalize import clean

__all__ = ["Complaint", "parse_complaint", "parse_complaints", "SYMPTOM_KINDS", "SYMPTOM_ZH", "BODY_PARTS"]

SYMPTOM_KINDS = (
    "sleep", "swelling", "nausea", "appetite", "pain", "cough", "dizziness", "constipation", "diarrhea",
    "fatigue", "palpitation", "breathless", "fever", "itch", "urination", "memory", "numbness", "mobility",
    "stomach", "vision", "unwell",
)
# How the bot and the desk name each kind ("您这几天腿肿", "【健康关注】…：咳嗽").
SYMPTOM_ZH = {
    "sleep": "睡不好", "swelling": "肿", "nausea": "恶心", "appetite": "不想吃饭", "pain": "疼",
    "cough": "咳嗽", "dizziness": "头晕", "constipation": "大便不通", "diarrhea": "拉肚子", "fatigue": "没劲",
    "palpitation": "心慌", "breathless": "气短", "fever": "发烧", "itch": "身上痒", "urination": "小便不顺",
    "memory": "老忘事", "numbness": "发麻", "mobility": "走路费劲", "stomach": "胃不舒服", "vision": "眼睛看不清",
    "unwell": "身上不舒服",
}


@dataclass(frozen=True)
class Complaint:
    kind: str  # one of SYMPTOM_KINDS
    words: str  # the words in the cleaned text that matched ("膝盖疼", "睡不着觉")
    body_part: str | None = None  # canonical, one of BODY_PARTS: 膝盖, 腰, 腿 …
    days: int | None = None  # how long it has gone on, in days: 三天了 → 3, 一个礼拜 → 7; None: not said
    after_medicine: bool = False  # began or got worse after taking a medicine (吃了降压药以后就恶心)
    worse: bool = False  # 越来越…, 更厉害了, 加重了
    limits_walking: bool = False  # 疼得走不动道, 走路都费劲
    # Someone else's complaint told by the elder ("我老伴一直咳嗽" → 老伴); None: the speaker's own.
    about: str | None = None


# Canonical body part → the ways people name it (Jin and northern words included: 波棱盖 = knee).
_BODY_WORDS: dict[str, tuple[str, ...]] = {
    "头": ("头", "脑袋", "脑壳", "脑瓜", "脑瓜子", "头顶", "后脑勺", "脑门", "太阳穴", "偏头"),
    "膝盖": ("膝盖", "膝盖骨", "波棱盖", "波棱盖儿", "磕膝盖", "膝关节", "腿盖"),
    "腰": ("腰", "后腰", "腰椎", "腰眼", "腰杆"),
    "腿": ("腿", "大腿", "小腿", "腿肚子", "两条腿", "腿脚", "两腿", "双腿"),
    "脚": ("脚", "脚后跟", "脚脖子", "脚踝", "脚面", "脚底板", "脚底", "脚趾头", "两只脚", "双脚"),
    "胳膊": ("胳膊", "胳臂", "手臂", "胳膊肘"),
    "肩膀": ("肩膀", "肩", "膀子", "肩周"),
    "脖子": ("脖子", "颈椎", "脖颈", "脖梗子"),
    "背": ("后背", "背", "脊梁", "脊梁骨"),
    "肚子": ("肚子", "小肚子", "肚脐", "肚"),
    "胃": ("胃", "心口窝下"),
    "牙": ("牙", "牙齿", "槽牙", "大牙", "牙床"),
    "嗓子": ("嗓子", "喉咙", "嗓子眼", "喉咙眼"),
    "手": ("手", "手腕", "手腕子", "手指头", "指头", "手指"),
    "关节": ("关节", "骨节", "骨头节"),
    "眼睛": ("眼睛", "眼", "眼珠子"),
    "耳朵": ("耳朵",),
    "屁股": ("屁股", "尾巴骨", "胯骨", "胯"),
    "浑身": ("浑身", "全身", "身上", "一身", "骨头", "身子"),
}
BODY_PARTS = tuple(_BODY_WORDS)
_BODY = {w: part for part, words in _BODY_WORDS.items() for w in words}
_BODY_ALT = "|".join(sorted(map(re.escape, _BODY), key=len, reverse=True))
# Words that may sit between a body part and what it does: 腿也有点肿, 膝盖这儿老是疼.
_BETWEEN = r"(?:子|上|里|这儿|这里|那儿|这块儿?|也|都|还|又|老是|总是|老|总|一直|有点儿?|有些|可|特别|好|挺|真|就|直|成天|天天|一阵一阵地?|一阵阵|时不时|经常|常常|爱|开始)*"

# kind → phrase regexes (matched in order; the earliest hit in the text wins, the longest at a place).
# Written as regexes rather than word lists where the words alone would be ambiguous.
_RULES: tuple[tuple[str, str], ...] = (
    ("sleep", r"(?:整夜|整宿|一黑夜|黑夜|夜里|晚上|半夜|一晚上|夜夜)?(?:睡不着觉?|睡不好觉?|睡不踏实|睡不安稳|睡不实|睡不稳|"
              r"合不上眼|闭不上眼|失眠|醒好几回|醒好几次|老醒|总醒|睡一会儿就醒|醒了就睡不着|睡觉不好|睡眠不好)"),
    ("swelling", rf"(?:{_BODY_ALT}){_BETWEEN}(?:肿了?|浮肿|发肿|肿起来|肿得)|浮肿|水肿|肿得(?:厉害|老高|发亮)"),
    ("nausea", r"恶心|犯恶心|想吐|要吐|反胃|干呕|呕吐|吐了(?!血)|直吐|老吐|光想吐"),
    ("appetite", r"(?:啥|甚|什么|甚也)(?:也|都)不想吃|一点也不想吃|一点都不想吃|不想吃(?:饭|东西|喝)|吃不下(?:饭|东西)?|"
                 r"吃不进去|没(?:有)?胃口|胃口不好|胃口差|吃饭不香|吃啥也不香|吃甚也不香|吃东西不香|不知道饿|不饿|"
                 r"(?:(?<=^)|(?<=[，。！？也都老总就]))不想吃了?(?=$|[，。！？])"),
    # Before pain, so that 胃酸 / 肚子胀 (same place, same length) read as the stomach, not a pain.
    ("stomach", r"胃不舒服|胃里难受|胃酸|烧心|反酸|泛酸|肚子胀|胀肚|胀气|打嗝|消化不好|不消化"),
    ("pain", rf"(?:{_BODY_ALT}){_BETWEEN}(?:疼|痛|酸疼|酸痛|发酸|酸|胀疼|胀痛|发胀|抽筋|抽着疼)|"
             rf"(?:{_BODY_ALT})(?:一动|一抬|抬起来|抬|一碰|一走|一弯|弯腰|一蹲|蹲下|一按|一使劲|使劲)(?:就|也)?(?:疼|痛)|"
             r"(?:(?<=^)|(?<=[，。！？我俺]))(?:疼|痛)得(?:厉害|受不了|睡不着|要命|不行|直哼哼)|腰腿疼|关节炎犯了|风湿犯了"),
    # 咳 alone is also a sigh ("咳，别提了"): only 咳嗽, or 咳 with a "keeps on" word.
    ("cough", r"(?:老是?|总是?|一直|直|天天|成天)?咳嗽(?:个不停)?|(?:老是?|总是?|一直|直)咳|干咳|咳痰|咳个不停|咳得|"
              r"有痰|痰多|吐痰|嗓子(?:发)?痒"),
    ("dizziness", r"头(?:有点儿?|有些|老是?|总是?|一直|直|发|就)?(?:晕|昏)|头发晕|头发昏|晕乎乎|晕晕乎乎|晕得慌|发晕|头重脚轻|天旋地转|头迷糊|迷迷糊糊|头懵|脑袋晕|脑袋昏"),
    ("constipation", r"便秘|解不下来|拉不出来|大便干|大便不通|大便费劲|解大手费劲|(?:(?<=天)|(?<=礼拜)|(?<=星期)|(?<=周)|(?<=天了)|(?<=天都)|(?<=天也)|(?<=礼拜了)|(?<=礼拜都))"
                     r"没(?:有)?(?:大便|解大手|拉屎|解手|解过大手|拉过)|解不下大手"),
    ("diarrhea", r"拉肚子|拉稀|腹泻|跑肚|闹肚子"),
    ("fatigue", r"(?:浑身|身上|全身|身子|腿上?|胳膊|手上?|我|俺|老是|总是|老|总|一点)(?:都|也|就|有点儿?|有些)?没(?:有)?(?:劲儿?|力气|精神)|"
                r"一点(?:力气|劲儿?)(?:也|都)没|浑身乏|身上乏|乏得很|乏得慌|乏得不行|没力气|没精神|提不起精神|浑身发软|身上发软|浑身酸软|累得慌|懒得动弹|不得劲"),
    ("palpitation", r"心慌|心发慌|心里发慌|心跳得(?:快|厉害|慌)|心跳快|心突突|心里突突|心里扑通|心悸|心里乱跳|心跳不匀"),
    ("breathless", r"气短|气不够用|气喘|(?:有点儿?|有些|老是?|总是?|爱|容易|就|直|一动就|走两步就|爬楼就|上楼就)喘|喘得慌|喘气费劲|喘不匀"),
    ("fever", r"发烧|发热|低烧|高烧|烧得(?:慌|难受|厉害|迷糊)|有点烧(?!心)|身上(?:发)?烫|浑身(?:发)?烫|发冷|打冷战|打摆子"),
    ("itch", rf"(?:{_BODY_ALT}){_BETWEEN}(?:发?痒|刺痒|痒痒|痒得)|瘙痒|起疹子|出疹子|长疹子|起红疙瘩|起疙瘩|长疙瘩|起包|湿疹|荨麻疹|起风疙瘩"),
    ("urination", r"尿频|尿急|尿不出来|尿不净|尿不尽|老起夜|总起夜|起夜|夜尿多|(?:撒尿|尿尿|小便)(?:疼|痛|费劲|不通|不利索)|"
                  r"小便不通|憋不住尿|尿裤子|漏尿|老想尿|总想尿|尿里有血"),
    ("memory", r"老忘事|总忘事|爱忘事|忘事|记性不好|记性差|记性不行|记不住事|记不住东西|忘性大|丢三落四|转身就忘|"
               r"脑子不好使|脑子不中用|脑子糊涂|老糊涂了|记不得事"),
    ("numbness", rf"(?:{_BODY_ALT}){_BETWEEN}(?:发麻|麻了|麻木|麻酥酥|麻)"),
    ("mobility", r"腿脚不利索|腿脚不灵便|走不动(?:道|路)?了?|走不了(?:道|路)|走路(?:都)?(?:费劲|困难|不稳|打晃)|迈不开腿|腿发软|腿打软|"
                 r"上不了楼|下不了楼|蹲不下|挪不动"),
    ("vision", r"眼睛(?:看不清|模糊|发花|花了)|眼花|看东西模糊|看不清(?:东西|字)"),
    ("unwell", r"(?:身上|浑身|身子|身体|哪儿都|到处)(?:都|有点儿?|有些)?(?:不舒服|难受|不好)|"
               r"(?:(?<=^)|(?<=[，。！？我俺]))(?:有点儿?|有些|老|总|老是|总是|觉着|觉得|就是)?(?:不舒服|难受|不好受)"),
)
_COMPILED = tuple((kind, re.compile(pattern)) for kind, pattern in _RULES)

# The complaint is denied right before it: 不咳嗽, 没恶心, 没有头疼, 也不怎么疼.
_NEG_BEFORE = re.compile(r"(?:不|没|没有|没得|并不|不太|不怎么|不咋|不大|别|不会|不用|不再|不是)$")
# …or said to be over right after it: 咳嗽好多了, 头疼已经好了, 恶心没了.
_RESOLVED_AFTER = re.compile(r"^(?:的毛病)?(?:已经|都|也|现在|这会儿)?(?:好了|好多了|好些了|好点了|轻多了|轻了|轻些了|没了|没事了|过去了|不要紧了)")
# "头疼的事" / "让人头疼" are about trouble, not heads; "疼我的孙子" has no body part at all.
_FIGURATIVE = re.compile(r"(?:让人|叫人|真叫人|真让人|可)?头疼(?:的事|的问题|死了这事)|(?:让|叫)(?:人|我)头疼|心疼|肉疼|眼红|眼馋|嘴馋")
# Not complaints about oneself now: "不舒服的话去哪看病", "怕睡不着" (asks / worries) still count;
# but "心里难受" / "心里不舒服" are feelings (zhtext.feelings), not symptoms.
_FEELING = re.compile(r"心里(?:头)?(?:难受|不舒服|不好受|憋屈|不得劲|不痛快|堵得慌|空落落)|(?:难受|不舒服)(?:的是|死了他)|说不出的难受")

_WORSE = re.compile(
    r"越来越|愈来愈|越发|更(?:加)?(?:厉害|重|疼|难受|严重|多|频|晕|肿|睡不着|吃不下)|加重|重了|厉害了|严重了|"
    r"比(?:以前|原来|先前|昨天|前两天|前几天|上回|上次|过去|往常)(?:还|更)?(?:厉害|重|严重|多|疼|难受)"
)
# Began or got worse after a medicine: 吃了降压药以后就恶心 / 一吃药就反胃 / 换了新药就头晕 / 降压药吃了以后.
_AFTER_MED = re.compile(
    r"(?<![没忘])(?:吃|喝|换|用|打|输|上|服)(?:了|上|完|过|着)?[^，。！？没忘不]{0,6}?(?:药|针|液|药片|药水)"
    r"(?:片|水|丸)?(?:了)?(?:以后|之后|后|就|完|一会儿|没多久|那天|起)(?!就?(?:好|管用|不疼|没事|轻|见好))|"
    r"一(?:吃|喝|打|用)(?:上)?(?:这个|那个|新)?(?:药|针)|药(?:吃|喝|用)(?:了|完|上)(?:以后|之后|后|就)|自从吃(?:了|上)?[^，。！？]{0,6}药"
)
_WALK_LIMIT = re.compile(
    r"走不动|走不了(?:路|道)?|走不成|走不得|下不了地|下不了炕|下不了床|下不了楼|上不了楼|迈不开腿|挪不动|"
    r"走路(?:都)?(?:费劲|困难|疼|打晃|不稳)|走不远|蹲不下|出不了门"
)

# Durations. Word forms first; numbers are read by _numerals (三天 / 3天 / 十来天 / 两三天).
_DURATION_WORDS: tuple[tuple[str, int], ...] = (
    ("好几个月", 60), ("好几个礼拜", 14), ("好几个星期", 14), ("好几天", 3), ("这几天", 3), ("这两天", 2),
    ("这些天", 3), ("好些天", 5), ("好多天", 5), ("这么多天", 5), ("几天", 3), ("个把月", 30),
    ("个把礼拜", 7), ("个把星期", 7), ("半个月", 15), ("大半个月", 20), ("半个多月", 15), ("半年", 180), ("大半年", 200),
    ("前天", 2), ("大前天", 3), ("昨天", 1), ("昨儿个", 1), ("昨儿", 1), ("夜来", 1), ("今天", 0), ("今儿个", 0),
    ("今早", 0), ("一宿", 1), ("一整天", 1),
)
_DURATION_WORD_RE = re.compile("|".join(re.escape(w) for w, _ in sorted(_DURATION_WORDS, key=lambda x: -len(x[0]))))
_DURATION_WORD = dict(_DURATION_WORDS)
_DURATION_UNIT = re.compile(r"(?:多|来|几)?(个多|个)?(天|日|礼拜|星期|周|月|年)")
_UNIT_DAYS = {"天": 1, "日": 1, "礼拜": 7, "星期": 7, "周": 7, "月": 30, "年": 365}
# "一天三次" / "一天拉三回" are frequencies, "第三天" an ordinal, "三天后" the future.
_FREQUENCY_AFTER = re.compile(r"^[^，。！？]{0,2}?[一二两三四五六七八九十\d]+(?:次|回|趟|遍)")


def _body_of(words: str) -> str | None:
    for m in re.finditer(_BODY_ALT, words):
        return _BODY[m.group()]
    return None


def _duration_days(t: str) -> int | None:
    """The longest stretch named in the text, in days (None when no duration was said).

    With several, the longest wins: "这两天更厉害了，都一个礼拜了" → 7.
    """
    found: list[int] = []
    for m in _DURATION_WORD_RE.finditer(t):
        word = m.group()
        # 昨天/今天 only say when it began when something like 开始/起/就 follows or 从 leads;
        # "昨天吃了饺子" names no duration. The 几天-words always do.
        if word in ("前天", "大前天", "昨天", "昨儿个", "昨儿", "夜来", "今天", "今儿个", "今早"):
            before, after = t[max(0, m.start() - 1):m.start()], t[m.end():m.end() + 4]
            if not (before == "从" or re.match(r"^(?:晚上|夜里|早上|黑夜)?(?:开始|起|就|以来)", after)):
                continue
        found.append(_DURATION_WORD[word])
    for span in find_numbers(t):
        if span.start > 0 and t[span.start - 1] in "第每":
            continue
        m = _DURATION_UNIT.match(t, span.end)
        if not m:
            continue
        unit = m.group(2)
        if unit == "月" and not m.group(1):
            continue  # "三月" is March; "三个月" is three months
        rest = t[m.end():]
        if rest.startswith(("后", "以后", "之后", "以内")) or _FREQUENCY_AFTER.match(rest):
            continue
        # "两三天" / "三四天" scan as one digit string: the smaller, first number is what is sure.
        value = DIGITS.get(t[span.start], 0) if span.kind == "digits" else span.value
        if value <= 0 or value > 100:
            continue
        found.append(int(value * _UNIT_DAYS[unit]))
    return max(found) if found else None


# Who the clause is about: the nearest person named before the complaint. "我老伴腿疼" → 老伴;
# "儿子说我老咳嗽" → the speaker (我 is nearer).
_OTHER = re.compile(r"老伴儿?|老头子?|老婆子|老汉|儿子|闺女|女儿|儿媳妇?|孙子|孙女|外孙女?|女婿|他|她|人家|邻居")
_SELF = re.compile(r"我|俺|自己|咱")
_OTHER_CANON = {"老伴儿": "老伴", "老头": "老伴", "老头子": "老伴", "老婆子": "老伴", "老汉": "老伴", "闺女": "女儿",
                "儿媳": "儿媳", "儿媳妇": "儿媳", "外孙": "孙子", "外孙女": "孙女", "她": "他", "人家": "他"}


def _about(t: str, start: int) -> str | None:
    lo = max(t.rfind(p, 0, start) for p in "，。！？；") + 1
    prefix = t[lo:start]
    other = [(m.end(), m.group()) for m in _OTHER.finditer(prefix)]
    mine = [m.end() for m in _SELF.finditer(prefix)]
    if not other or (mine and max(mine) > other[-1][0]):
        return None
    word = other[-1][1]
    return _OTHER_CANON.get(word, word)


def _hits(t: str) -> list[tuple[int, int, str]]:
    blocked = [(m.start(), m.end()) for m in _FIGURATIVE.finditer(t)]
    blocked += [(m.start(), m.end()) for m in _FEELING.finditer(t)]
    hits = []
    for kind, pattern in _COMPILED:
        for m in pattern.finditer(t):
            s, e = m.start(), m.end()
            if any(a <= s < b or a < e <= b for a, b in blocked):
                continue
            before = t[max(0, s - 3):s]
            if _NEG_BEFORE.search(before) and not before.endswith("是不是"):
                continue
            if _RESOLVED_AFTER.match(t[e:]):
                continue
            hits.append((s, e, kind))
    # Earliest first, longest at the same place; a shorter hit inside a longer one is the same words
    # (腿疼得走不动道: pain beats the 走不动 inside it; 身上痒 beats 身上…不舒服 only where they overlap).
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    kept: list[tuple[int, int, str]] = []
    for h in hits:
        if any(k[0] <= h[0] < k[1] for k in kept):
            continue
        kept.append(h)
    return kept


def parse_complaints(text: str | None) -> list[Complaint]:
    """Every complaint in the utterance, in the order said, one per kind ("头晕，还恶心" → two).

    Duration, "after medicine" and "worse" are read from the whole utterance (elders put them
    anywhere: "好几天了，两条腿都肿了"); "limits walking" only from the complaint's own clause.
    """
    t = clean(text)
    if not t:
        return []
    hits = _hits(t)
    if not hits:
        return []
    days = _duration_days(t)
    after_medicine = bool(_AFTER_MED.search(t))
    worse = bool(_WORSE.search(t))
    out: list[Complaint] = []
    kinds = {h[2] for h in hits}
    for start, end, kind in hits:
        if any(c.kind == kind for c in out):
            continue
        if kind == "unwell" and len(kinds) > 1:
            continue  # "身上不舒服，老咳嗽": the specific complaint says it
        if kind == "mobility" and "pain" in kinds:
            continue  # 膝盖疼得走不动道 is a pain that limits walking
        words = t[start:end]
        body = _body_of(words) if kind in ("pain", "swelling", "itch", "numbness", "fatigue") else None
        # "腿疼，走不了路" says it in the next clause: the whole utterance counts.
        limits = kind == "mobility" or (kind in ("pain", "swelling", "numbness", "fatigue")
                                        and bool(_WALK_LIMIT.search(t)))
        out.append(Complaint(kind, words, body, days, after_medicine, worse, limits, _about(t, start)))
    return out


def parse_complaint(text: str | None) -> Complaint | None:
    """The first complaint in the utterance, or None.

    >>> parse_complaint("两条腿肿了好几天了")
    Complaint(kind='swelling', words='两条腿肿了', body_part='腿', days=3, after_medicine=False, worse=False, limits_walking=False)
    """
    got = parse_complaints(text)
    return got[0] if got else None
