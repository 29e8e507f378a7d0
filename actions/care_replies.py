"""What the assistant says to a complaint or to loneliness: warm, two short sentences, one real next step.

Pure functions from the parse (zhtext.symptoms / zhtext.feelings) and the services' answer to spoken
Mandarin, kept apart from actions/replies.py so the wording is tested on its own. Times are said as words
(下午两点半); nothing promises what did not happen: "我已经告诉您女儿了" only when she was told, a visit
only when its ticket exists. A visit not yet arranged is a question; the ticket is filed on the elder's yes.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from actions.replies import ELDER, Addressee
from zhtext.spoken import spoken_time
from zhtext.symptoms import SYMPTOM_ZH, Complaint

CLINIC = "卫生室"
# To words of not wanting to live (zhtext.emergency.is_despair), after the help request is stored: warmth and a
# person, not "您别动，别挂".
DESPAIR = "您别这么想，有我陪着您呢。我已经请工作人员马上给您打电话，跟您说说话。"
# Kinds said with the body part in front: 腿肿, 膝盖疼, 手发麻, 胳膊痒, 腿没劲.
_WITH_BODY = {"pain": "疼", "swelling": "肿", "numbness": "发麻", "itch": "痒", "fatigue": "没劲"}


def _when(days: int | None) -> str:
    """How long, as a carer would say it back: 好几天 and 三天 both become 这几天 (we heard a number, not
    which words; "这几天" is true of both)."""
    if days is None:
        return ""
    if days == 0:
        return "今天"
    if days == 1:
        return "从昨天起"
    if days < 7:
        return "这几天"
    if days < 14:
        return "这一个礼拜"
    if days < 30:
        return "这半个来月"
    return "这些日子"


def complaint_phrase(c: Complaint) -> str:
    """"腿肿" / "膝盖疼得走路费劲" / "吃了药以后恶心" / "睡不好": the complaint in a few spoken words."""
    if c.kind in _WITH_BODY and c.body_part:
        what = c.body_part + _WITH_BODY[c.kind]
        if c.kind == "pain" and c.limits_walking:
            what += "得走路费劲"
    elif c.kind == "pain":
        what = c.words  # 疼得厉害, 腰腿疼: no one body part to name
    else:
        what = SYMPTOM_ZH[c.kind]
    if c.after_medicine:
        what = "吃了药以后" + what
    return what


def _told(family_told: tuple[str, ...]) -> str:
    relations = list(dict.fromkeys(family_told))[:2]
    return "和".join(relations)


def symptom_recorded(c: Complaint, obs: Any, who: Addressee = ELDER) -> str:
    """After services.observations.record_symptom: what was heard, then who was told or where to go.
    `who`: to a family member writing for the elder, the elder by name (and the family is not "您女儿")."""
    heard = f"记下了，{who.full}{_when(c.days)}{complaint_phrase(c)}。"
    clinic = short_place(getattr(obs, "clinic_name", None) or CLINIC)
    if obs.alerted:
        told = _told(tuple(obs.family_told)) if who == ELDER else ""
        said = f"我已经告诉您{told}了" if told else "我已经告诉工作人员了"
        if c.after_medicine:
            return heard + said + f"，会请医生给{who.short}打电话，问问药的事。"
        return heard + said + f"，会请{clinic}的医生给{who.short}打电话。"
    if who != ELDER:
        return heard + f"要是过两天还这样，带{who.short}去{clinic}让医生看看。"
    if c.kind == "memory":
        return heard + f"下回去{clinic}，让医生给您查查。"
    return heard + f"要是过两天还这样，就去{clinic}让医生看看。"


def someone_elses_symptom(c: Complaint) -> str:
    """"我老伴一直咳嗽": not the resident's own, so nothing is recorded; the advice is for the one who is ill."""
    who = c.about or "他"
    subject = "他" if who == "他" else f"您{who}"
    return f"{subject}{complaint_phrase(c)}，要是过两天还不见好，带{who}去{CLINIC}看看。"


# 社区 / 小区 / 园区 are places in a name, not a district ("康乐社区养老服务中心" keeps its 社区).
_COUNTY = re.compile(r"^.{1,4}?(?:县|(?<![社小园])区|市)")
_TOWN = re.compile(r"^.{1,4}?(?:乡|镇|街道)")
_PLACE_SHORT = (("居家养老服务驿站", "驿站"), ("社区养老服务中心", "社区养老中心"), ("老年日间照料中心", "日间照料中心"))


def short_place(name: str) -> str:
    """"榆社县北寨乡赵王村居家养老服务驿站" → "赵王村驿站": the name as neighbours say it."""
    for prefix in (_COUNTY, _COUNTY, _TOWN):  # 长治市 潞州区 太东街道 …
        shorter = prefix.sub("", name, count=1)
        if len(shorter) >= 3:
            name = shorter
    for long, short in _PLACE_SHORT:
        name = name.replace(long, short)
    return name


def _opening(cue: Any) -> str:
    if cue.kind == "family_away":
        return f"想您{cue.relation}了吧。" if cue.relation else "想孩子们了吧。"
    if cue.kind == "wants_company":
        return "好呀，我陪您说说话。"
    if "老伴" in cue.words:
        return "您是想老伴了。"
    return "一个人在家，是挺闷的。"


def _day_word(day: date | None, today: date) -> str:
    if day is None or day == today:
        return "今天"
    return "明天" if (day - today).days == 1 else "过两天"


# The 探访关爱 visit offered, asked as a question: "对" files it (actions.visits.book_visit), "不用了" drops it.
VISIT_QUESTION = "要不要我请探访关爱的人这两天上门陪您聊聊？"
# The same offer while another read-back still waits for its yes (that one is not replaced): how to ask for it.
# The words to say are a request_home_visit (上门陪 is a visit, not loneliness; 说说话 is the 陪聊 service).
VISIT_HOW_TO_ASK = "想有人上门陪您说说话，您就说'请人上门陪我说说话'。"


def loneliness_answer(cue: Any, view: Any, today: date, *, can_ask: bool = True) -> str:
    """After services.care_signals.record_loneliness: a warm word, then the one offer it chose. A visit not yet
    arranged is asked (VISIT_QUESTION), or, when `can_ask` is false (another read-back waits), how to ask for it."""
    offer = view.offer
    if offer.kind == "activity" and offer.activity is not None:
        a = offer.activity
        return (_opening(cue) + f"{_day_word(offer.activity_day, today)}{spoken_time(a.start)}，"
                f"{short_place(a.facility_name)}有{a.title.replace('·', '的')}，去坐坐吧？")
    if offer.kind == "family" and offer.family is not None:
        rel = offer.family.relation
        return _opening(cue) + f"想跟{rel}说说话，您就说'给我{rel}打电话'。"
    if offer.already_arranged:
        return _opening(cue) + "探访关爱的人这两天就上门看您，来之前先给您打电话。"
    if offer.ticket is not None:  # filed under the signal's own key (older signals)
        return _opening(cue) + "我请探访关爱的人这两天上门陪您聊聊，来之前先给您打电话。"
    return _opening(cue) + (VISIT_QUESTION if can_ask else VISIT_HOW_TO_ASK)
