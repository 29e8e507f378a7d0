"""Keep bookings that are not meals out of the meal form.

Elders ask the assistant to book all sorts of things: "帮我订张去太原的火车票", "订个机票",
"帮我订个酒店", "订个车", "帮我挂个号". DIET has learnt that 订 means `book_meal`, and
`book_meal` starts the meal form, which would then ask an elder who wanted a train ticket
which meal they would like. This component runs after the FallbackClassifier and before
`EmergencyIntentOverride`: when the intent is `book_meal` (or the FallbackClassifier's
`nlu_fallback` over a `book_meal` guess) and the words book something that is not a meal
while naming no meal, the intent becomes `out_of_scope` and the parse result says why.

Both sides are matched on the characters and on the pinyin, so the usual recogniser
slips (火扯票, 鸡票, 酒店 as 九店…) are caught too; the pinyin keys are tone-exact where a
toneless one would hit ordinary words (九点 jiu3 dian3 is not 酒店 jiu3 dian4).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.overrides import IntentOverride, force_intent

MEAL_INTENT = "book_meal"
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"

# Things people book that our canteens do not sell: tickets, travel, rooms, cars, a doctor's slot.
NON_MEAL_WORDS = re.compile(
    r"票|火车|高铁|动车|飞机|航班|卧铺|硬座|酒店|宾馆|旅馆|旅店|招待所|民宿|客房|房间|"
    r"出租车|网约车|滴滴|专车|包车|大巴|打车|挂号|专家号|旅游团|旅行团|"
    r"(?:订|定|约|叫|包|租|预订|预约)(?:个|一?辆|一?台)?车|"
    r"挂(?:个|一个|上|一下)?[^，。？！了]{0,6}号|"  # 挂个号, 挂个明天的号 (not "挂了…")
    r"[一两二三四五六七八九十几俩仨]张"  # tickets come by the 张; meals by the 份
)
# The same on the pinyin: toneless for words no ordinary phrase shares, tone-exact otherwise.
NON_MEAL_BARE = re.compile(
    r"\b(?:piao|huo che|gao tie|dong che|fei ji|wo pu|ying zuo|bin guan|lv guan|lv dian|zhao dai suo|"
    r"min su|chu zu che|wang yue che|bao che|da che|gua hao|lv you tuan|lv xing tuan|gua ge hao|"
    r"(?:ding|yue|jiao|zu)(?: ge| liang| yi liang)? che)\b"
)
# 酒店 jiu3 dian4 (九点 is jiu3 dian3), 房间, 客房, 滴滴 di1 di1 (弟弟 is di4 di)
NON_MEAL_TONED = re.compile(r"\b(?:jiu3 dian4|fang2 jian1|ke4 fang2|di1 di1)\b")

# Anything that names food or a meal: then it is a meal booking, whatever else it says.
MEAL_WORDS = re.compile(
    r"饭|餐|菜|粥|面条|饺子|包子|馒头|早点|伙食|吃|份|顿|早饭|午饭|晚饭|晌午饭|黑夜饭"
)
# 饭 fan4 (范犯泛), 餐 can1 (参), 菜 cai4: how a recogniser writes them.
MEAL_TONED = re.compile(r"\b(?:fan4|can1|cai4)\b")

_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _pinyin():
    from pypinyin import Style, lazy_pinyin

    def convert(text: str, style: Style) -> str:
        return " ".join(lazy_pinyin(text, style=style, errors=lambda chars: list(chars)))

    return lambda text: (convert(text, Style.NORMAL), convert(text, Style.TONE3))


def non_meal_booking(text: Optional[Text]) -> Optional[Text]:
    """The words that make this a booking of something other than a meal, or None.

    None when the text names a meal or food at all: "订个车送饭" stays a meal booking."""
    t = _SPACE.sub("", text or "")
    if not t or MEAL_WORDS.search(t):
        return None
    bare, toned = _pinyin()(t)
    if MEAL_TONED.search(toned):
        return None
    found = NON_MEAL_WORDS.search(t) or NON_MEAL_BARE.search(bare) or NON_MEAL_TONED.search(toned)
    return found.group(0) if found else None


def _guessed_meal(message: Message) -> bool:
    intent = (message.get(INTENT) or {}).get("name")
    if intent == MEAL_INTENT:
        return True
    if intent != FALLBACK_INTENT:
        return False
    ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != FALLBACK_INTENT]
    return bool(ranking) and ranking[0].get("name") == MEAL_INTENT


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class DomainGuard(IntentOverride):
    """`book_meal` for a ticket, a room or a car becomes `out_of_scope`."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not _guessed_meal(message):
                continue
            words = non_meal_booking(message.get(TEXT))
            if words is None:
                continue
            original = message.get(INTENT) or {}
            confidence = max(float(original.get("confidence") or 0.0), 0.9)
            force_intent(message, OUT_OF_SCOPE, confidence, drop=(FALLBACK_INTENT,))
            message.set(
                "domain_guard",
                {"words": words, "classifier_intent": original.get("name")},
                add_to_output=True,
            )
        return messages
