"""Rule-based emergency detector that runs beside the intent classifier.

A missed call for help can cost a life, so this favours recall: any phrase
below counts unless it is plainly negated right before it ("没摔倒",
"点不着火", "不是救命的事"). Near misses and hypotheticals ("差点摔倒",
"万一摔倒了咋办") still match, with ``hedged=True`` so the bot can confirm
while the help request is already on record.

"救助政策是啥" is *not* a match: 救助 (assistance) is a subsidy topic and
shares no phrase with 救命. "摔跤比赛" *is* a match (摔跤 = "had a fall");
a false alarm there is cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

from .normalize import clean

__all__ = ["EmergencyMatch", "detect_emergency", "is_despair", "EMERGENCY_PHRASES", "EMERGENCY_KINDS", "KIND_ZH",
           "DESPAIR_PHRASES"]


@dataclass(frozen=True)
class EmergencyMatch:
    kind: str  # one of EMERGENCY_KINDS
    phrase: str  # the words in the cleaned text that triggered it
    # True for near misses, hypotheticals and weaker symptoms: still treat as
    # a help request, but confirm with the elder before dispatching anyone.
    hedged: bool = False


EMERGENCY_KINDS = ("call_for_help", "fall", "breathing", "chest_pain", "stroke", "fainting", "bleeding", "fire_gas", "lost")
KIND_ZH = {
    "call_for_help": "呼救", "fall": "摔倒", "breathing": "呼吸困难", "chest_pain": "胸痛", "stroke": "疑似中风",
    "fainting": "晕倒", "bleeding": "出血", "fire_gas": "火情或燃气", "lost": "走失",
}

# Natural phrasings, usable as NLU training seeds for request_help.
EMERGENCY_PHRASES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "call_for_help": ("救命", "快来人", "来人啊", "救救我", "帮帮我快", "快帮帮我", "快来帮帮我", "出事了", "不行了",
                      "快叫救护车", "叫救护车", "打120", "叫120", "快打120", "动不了了", "被车撞了", "吃错药了"),
    "fall": ("摔倒", "摔倒了", "摔了", "摔了一跤", "摔着了", "摔伤了", "跌倒", "跌了一跤", "绊倒", "起不来",
             "爬不起来", "栽倒", "栽了一跤", "从床上掉下来", "骨折了"),
    "breathing": ("喘不上气", "喘不过气", "上不来气", "憋得慌", "透不过气", "呼吸困难", "出不来气", "气上不来"),
    "chest_pain": ("胸口疼", "胸口痛", "心口疼", "心口痛", "胸口闷", "胸闷得厉害", "心脏疼", "心脏痛", "心绞痛",
                   "心口窝疼", "心脏病犯了", "心梗"),
    "stroke": ("嘴歪", "口眼歪斜", "半边身子动不了", "说话不利索", "说不出话", "手脚发麻动不了", "手脚不听使唤",
               "中风", "脑梗", "脑出血", "脑溢血"),
    "fainting": ("晕倒", "晕倒了", "昏倒", "晕过去了", "昏过去了", "头晕得站不住", "眼前发黑", "眼前一黑",
                 "昏迷", "叫不醒", "不省人事"),
    "bleeding": ("流血不止", "出了好多血", "流了好多血", "血止不住", "止不住血", "大出血", "吐血", "流血了"),
    "fire_gas": ("着火", "着火了", "失火", "起火了", "冒烟了", "煤气味", "燃气泄漏", "煤气泄漏", "煤气漏了",
                 "天然气漏了", "煤烟中毒", "煤气中毒", "中煤毒", "打119"),
    "lost": ("迷路了", "找不到家", "找不着家", "走丢了", "不知道这是哪", "回不了家", "认不得路"),
})

# Recogniser slips and extra surface forms: detected, but not training seeds.
_VARIANTS: Mapping[str, tuple[str, ...]] = {
    "call_for_help": ("就命", "旧命", "救救俺", "救救", "快来人啊", "来人呐", "来人呀", "快救救", "快来帮我",
                      "谁来帮帮我", "救护车", "没气了", "幺二零", "撞车了", "烫伤了"),
    "fall": ("摔到", "摔到了", "摔着", "摔跤", "跌倒了", "跌到", "跌了", "跌着了", "绊倒了", "绊到", "栽倒了", "栽到",
             "起不来了", "爬不起来了", "站不起来", "掉下来了", "骨折"),
    "breathing": ("没呼吸了", "喘不上来", "喘不过来", "喘不动", "憋死了", "憋得难受", "透不上气", "气短得厉害"),
    "chest_pain": ("胸口通", "心口通", "胸疼", "胸痛", "胸闷", "心口憋", "心脏不舒服", "心肌梗", "心脏病发作"),
    "stroke": ("嘴巴歪", "嘴斜", "半身不遂", "半边动不了", "说话说不清", "舌头发硬", "手脚不好使"),
    "fainting": ("晕到", "昏到", "晕过去", "昏过去", "没反应了", "没有反应了", "叫不应", "人事不省", "晕得站不住", "头晕站不住"),
    "bleeding": ("一直流血", "好多血", "满脸是血", "流血", "出血了"),
    "fire_gas": ("火着大了", "烧起来了", "煤气漏", "燃气漏", "一氧化碳", "煤烟熏", "煤气熏", "有煤气", "打幺幺九"),
    "lost": ("迷路", "迷了路", "找不到回家的路", "不认得路", "不知道在哪", "不知道这是哪儿", "走迷了"),
}
# Acute phrases found missing while building the everyday-complaint parser (zhtext.symptoms):
# a seizure, choking, poisoning, a face drooping, and words of not wanting to live. Detected,
# not training seeds. The last are hedged (_WEAK): the request is on record and a person calls,
# but the bot asks rather than sending anyone.
# The request_help examples in nlu_data/ that the detector missed were the check: each phrase below
# is one of them or its plain variant, and none fires on another intent's examples.
_ACUTE_ADDED: Mapping[str, tuple[str, ...]] = {
    "call_for_help": ("抽搐", "抽风", "抽过去了", "口吐白沫", "喝农药", "喝了农药", "喝了敌敌畏", "吃了老鼠药",
                      "吃了耗子药", "药吃多了", "吃多了药", "不想活了", "活不下去了", "活着没意思", "活着还有啥意思",
                      "活够了", "死了算了", "救我", "紧急情况", "紧急求助", "求救", "呼救", "急救", "SOS", "sos",
                      "快叫人", "快叫医生", "叫大夫来", "叫医生来", "快找医生", "快找人来", "出大事了", "来个人啊",
                      "怕是不行了", "烫着了", "烫得厉害", "疼得打滚", "疼得满地打滚", "疼死了", "低血糖了",
                      "烧得迷迷糊糊", "冒冷汗", "冷汗直冒", "直冒冷汗", "出了一身冷汗", "动弹不得", "有贼", "进贼了",
                      "进小偷了", "有坏人", "进我家了", "被困", "出不去了", "出不来了", "快点来人", "紧急"),
    "breathing": ("噎住了", "噎着了", "被噎住", "卡住嗓子了", "喘不上来气", "哮喘犯了", "喘气困难", "喘气都疼",
                  "一口气上不来"),
    "chest_pain": ("胸口像压了块石头", "心口绞着疼", "胸口绞着疼", "心脏难受得不行", "心脏难受得厉害"),
    "stroke": ("脸歪了", "半边脸麻", "半边脸动不了", "一边脸歪", "半个身子没知觉", "麻得没感觉", "麻得没知觉"),
    "fall": ("摔断了", "摔坏了", "摔下来了", "滑了一跤", "滑倒了", "磕着头", "磕破了头", "后脑勺磕着了", "倒在地上",
             "在地上躺了"),
    "fainting": ("站都站不住", "站不住了", "站不住", "叫都不答应", "怎么叫都不答应", "叫不答应"),
    "bleeding": ("血流不止", "血流个不停", "流了一地血", "血流了一地", "拉了一裤子黑的", "拉黑便", "便血", "拉血"),
    "fire_gas": ("煤烟味", "着起来了"),
    "lost": ("回不去家", "不知道我在哪"),
}
# Words of not wanting to live: a help request (a person calls), answered with warmth rather than "别动，别挂".
DESPAIR_PHRASES = ("不想活了", "活不下去了", "活着没意思", "活着还有啥意思", "活够了", "死了算了")
_WEAK = {"手脚发麻", "憋得慌", "起不来", "胸闷", "流血",  # common complaints: match, hedged
         *DESPAIR_PHRASES,
         "疼死了", "冒冷汗", "站不住了", "站不住", "出不来了", "烫着了", "紧急"}
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # 不行了 only about a person ("我不行了", "老伴快不行了") or said on its own.
    (re.compile(r"(?:(?<=^)|(?<=[，。！？我俺快要人他她伴头子婆爷奶妈爹爸]))不行了"), "call_for_help"),
    (re.compile(r"(?:打|叫|拨)个?(?:120|一二零|一百二|110|幺幺零|一一零)"), "call_for_help"),
    (re.compile(r"(?:打|叫|拨)个?(?:119|一一九)"), "fire_gas"),
    (re.compile(r"晕得.{0,3}(?:站不住|站不稳|起不来|不行|厉害)"), "fainting"),
    (re.compile(r"半(?:边|个)?身子?.{0,2}(?:动不了|没劲|不听使唤|没知觉|没感觉|麻了|不能动)"), "stroke"),
    (re.compile(r"(?:胸口|心口|心脏|心口窝)子?(?:疼|痛|闷)得?(?:厉害|受不了|不行)"), "chest_pain"),
    (re.compile(r"手脚发麻"), "stroke"),
    # "快叫车送医院", "赶紧送我去医院": asking to be taken to hospital now
    (re.compile(r"(?:快|赶紧|赶快|马上|立刻|叫车)[^，。！？]{0,4}(?:送|去|上|拉)[^，。！？]{0,2}医院"), "call_for_help"),
    (re.compile(r"(?<![这那它])动不了了"), "call_for_help"),
    # palpitations that will not settle ("心慌得厉害") are the heart's emergency; a plain "有点心慌"
    # is an everyday complaint (zhtext.symptoms)
    (re.compile(r"(?:心慌|心跳|心悸|心里扑通)得?(?:厉害|好快|特别快|太快|受不了|不行|要跳出来|停不下来|喘不上气)"),
     "chest_pain"),
    (re.compile(r"(?:胸口|心口)[^，。！？]{0,3}(?:疼|痛)得(?:厉害|受不了|不行)"), "chest_pain"),
    # sudden loss of sight, speech or walking is a stroke sign (FAST) until a doctor says otherwise
    (re.compile(r"突然(?:间)?.{0,3}(?:看不见|看不清|说不出话|说不了话|走不了路|站不稳|一边没劲|半边没劲|不听使唤)"), "stroke"),
    (re.compile(r"(?:腿|腰|胳膊|身子|脚)[^，。！？]{0,2}动不了"), "call_for_help"),
    (re.compile(r"摔得[^，。！？]{0,4}(?:抬不起来|动不了|起不来|站不起来|不能动)"), "fall"),
    (re.compile(r"倒在(?:了)?(?:地上|厨房|厕所|屋里|院里|门口|炕下|床下)"), "fall"),
    (re.compile(r"(?:困在|锁在|卡在|关在)[^，。！？]{0,6}(?:出不去|出不来)|(?:我|俺)出不去(?!门)"), "call_for_help"),
    (re.compile(r"(?:疼|痛)得不行了"), "call_for_help"),
    (re.compile(r"(?:^|[，。！？])(?:来人)?帮帮我(?:吧|啊|呀)?(?=$|[，。！？])"), "call_for_help"),
    # a heart attack as elders describe it: a weight on the chest, a grip on the heart, pain front and back
    (re.compile(r"(?:胸口|心口|胸)[^，。！？]{0,4}(?:石头压着|压着(?:块)?石头|被攥住|攥着疼|揪着疼)"), "chest_pain"),
    (re.compile(r"前胸(?:和|连着|跟)?后背[^，。！？]{0,4}疼"), "chest_pain"),
    (re.compile(r"心脏[^，。！？]{0,6}(?:疼起来了|疼得厉害)"), "chest_pain"),
    # blood brought up, belly pain past bearing, vomiting that will not stop
    (re.compile(r"(?:咳|吐|呕)(?:出|了)?(?:血|一口血)"), "bleeding"),
    (re.compile(r"(?:肚子|胃)[^，。！？]{0,3}绞着疼"), "call_for_help"),
    (re.compile(r"(?:一直|老是|不停地?)吐[^，。！？]{0,3}止不住|吐得止不住|吐个不停"), "call_for_help"),
)
# Tone-exact pinyin of the words that matter most: catches homophone slips
# (就命, 旧命…) without the toneless false hits ("就明天" = jiu4 ming2).
_PINYIN_KEYS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("jiu4", "ming4"), "call_for_help", "救命"),
    (("jiu4", "jiu4", "wo3"), "call_for_help", "救救我"),
    (("kuai4", "lai2", "ren2"), "call_for_help", "快来人"),
    (("shuai1", "dao3"), "fall", "摔倒"),
    (("die1", "dao3"), "fall", "跌倒"),
    (("yun1", "dao3"), "fainting", "晕倒"),
    (("hun1", "dao3"), "fainting", "昏倒"),
    (("zhao2", "huo3"), "fire_gas", "着火"),
    (("shi1", "huo3"), "fire_gas", "失火"),
    (("zhong4", "feng1"), "stroke", "中风"),
    (("xin1", "jiao3", "tong4"), "chest_pain", "心绞痛"),
    (("xiong1", "kou3", "teng2"), "chest_pain", "胸口疼"),
    (("xin1", "kou3", "teng2"), "chest_pain", "心口疼"),
    (("chuan3", "bu4", "shang4", "qi4"), "breathing", "喘不上气"),
    (("mei2", "qi4", "wei4"), "fire_gas", "煤气味"),
)

# Longer phrases are distinctive enough to match without tones, which also
# catches near-sound slips a recogniser makes (不省仁事, 起不赖了).
_TONELESS_KEYS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("bu", "xing", "ren", "shi"), "fainting", "不省人事"),
    (("bu", "sheng", "ren", "shi"), "fainting", "不省人事"),  # 省 read as sheng beside a slip
    (("qi", "bu", "lai", "le"), "fall", "起不来了"),
    (("pa", "bu", "qi", "lai"), "fall", "爬不起来"),
    (("chuan", "bu", "guo", "qi"), "breathing", "喘不过气"),
    (("shang", "bu", "lai", "qi"), "breathing", "上不来气"),
    (("tou", "bu", "guo", "qi"), "breathing", "透不过气"),
    (("kuai", "jiao", "jiu", "hu", "che"), "call_for_help", "快叫救护车"),
)

# Seeds that need context are left to _PATTERNS ("这个不行了" is no emergency).
_PATTERN_ONLY = {"不行了", "动不了了"}
_LOOKUP: dict[str, str] = {}
for _kind, _phrases in list(EMERGENCY_PHRASES.items()) + list(_VARIANTS.items()) + list(_ACUTE_ADDED.items()):
    for _p in _phrases:
        if _p not in _PATTERN_ONLY:
            _LOOKUP.setdefault(_p, _kind)
_LITERAL = re.compile("|".join(re.escape(p) for p in sorted(_LOOKUP, key=len, reverse=True)))

_NEGATOR = re.compile(r"(?:没有|没得|没|并没|不是|别|未|不)(?:有|被|怎么|太)?$")
_HEDGE = re.compile(r"(?:差点|差一点|险些|要是|如果|万一|假如|假设|怕|担心|害怕|防止|预防|以防|会不会|容易)")
# "救命恩人", "救命稻草", "救命钱" talk about rescue; they are not calls for it; nor is "紧急联系人".
# "空中风筝" only looks like 中风.
_NOT_A_CALL = re.compile(r"紧急联系|救命(?:恩人|稻草|钱)|找不[到着]家(?:政|具|电|属|人|里的)|[空当其集途]中风")


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str


@lru_cache(maxsize=1)
def _pinyin():
    # pypinyin costs ~200 ms to import; load it on the first detection (or
    # via zhtext.warm_up()).
    from pypinyin import Style, lazy_pinyin

    return lambda s: lazy_pinyin(s, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda x: list(x))


def _pinyin_hits(t: str) -> list[_Hit]:
    syl = _pinyin()(t)
    if len(syl) != len(t):
        return []  # alignment lost (should not happen with per-char errors); skip safely
    bare = [x.rstrip("012345") for x in syl]
    hits = []
    for keys, syllables in ((_PINYIN_KEYS, syl), (_TONELESS_KEYS, bare)):
        for key, kind, _ in keys:
            n = len(key)
            for i in range(len(syllables) - n + 1):
                if tuple(syllables[i:i + n]) == key:
                    hits.append(_Hit(i, i + n, kind))
    return hits


def _negated(t: str, h: _Hit) -> bool:
    before = t[max(0, h.start - 4):h.start]
    if not _NEGATOR.search(before):
        return False
    if h.kind == "call_for_help":
        # "不是救命的事" is negated; "不是…救命啊" (no punctuation from Vosk) is not.
        return t.startswith(("的", "之"), h.end)
    return True


def _hedged(t: str, h: _Hit) -> bool:
    if t[h.start:h.end] in _WEAK:
        return True
    # Only within the same clause: "差点摔倒，现在胸口疼" — the chest pain is real.
    before = re.split(r"[，。！？；]", t[max(0, h.start - 8):h.start])[-1]
    return bool(_HEDGE.search(before))


def detect_emergency(text: str | None) -> EmergencyMatch | None:
    """The emergency the utterance reports, or None.

    With several, a specific kind (fall, chest_pain…) beats a bare call for
    help, then the earliest wins: "救命啊我摔倒了" → fall.
    """
    t = clean(text)
    if not t:
        return None
    blocked = [(m.start(), m.end()) for m in _NOT_A_CALL.finditer(t)]
    hits = [_Hit(m.start(), m.end(), _LOOKUP[m.group()]) for m in _LITERAL.finditer(t)]
    for pattern, kind in _PATTERNS:
        hits += [_Hit(m.start(), m.end(), kind) for m in pattern.finditer(t)]
    hits += _pinyin_hits(t)
    live = [
        h for h in hits
        if not any(a <= h.start < b for a, b in blocked) and not _negated(t, h)
    ]
    if not live:
        return None
    live.sort(key=lambda h: (h.kind == "call_for_help", h.start, -(h.end - h.start)))
    best = live[0]
    hedged = _hedged(t, best)
    # A clear, unhedged hit elsewhere outweighs a hedged best one.
    if hedged:
        for h in live[1:]:
            if not _hedged(t, h):
                best, hedged = h, False
                break
    return EmergencyMatch(best.kind, t[best.start:best.end], hedged)


def is_despair(match: EmergencyMatch | None) -> bool:
    """The match is words of not wanting to live ("活着没意思"), not a body in danger."""
    return match is not None and match.phrase in DESPAIR_PHRASES
