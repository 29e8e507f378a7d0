"""What the assistant says: short, plain, concrete, two sentences at most.

Pure functions from service results to Mandarin text, so the wording is tested
without Rasa. Dates and numbers are said the way people say them
(明天，十一月二十四号，星期二；两份；八块五).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Sequence

from zhtext.dates import spoken_date
from zhtext.meals import MEAL_ZH
from zhtext.numbers import spoken_count, spoken_number
from zhtext.spoken import spoken_distance, spoken_money, spoken_phone_tail, spoken_time

SERVICE_DOWN = "对不起，系统这会儿出了点毛病。我已经给您转人工，工作人员马上联系您。"
UNKNOWN_RESIDENT = "系统里没查到您的登记信息。我给您转人工，帮您登记一下。"
ACTION_FAILED = "对不起，这件事我没办成。我给您转人工，工作人员马上来帮您。"
HANDOFF = "好，我给您转人工。工作人员马上就来，您稍等，别挂。"
FALLBACK_FIRST = "我没太听明白。您是要订饭、问补贴，还是找人帮忙？"
FALLBACK_HANDOFF = "我还是没听明白，给您转人工。工作人员马上就来。"
NOTHING_PENDING = "好的。还有什么要办的？"
NOTHING_TO_REPEAT = "我刚才还没说话呢。您要订饭、问补贴，还是找人帮忙？"
STOPPED = "好，这事先不办了。还有别的事吗？"
CORRECTION_UNCLEAR = "好，这单先不订。您再说一遍要订哪天、哪顿、几份。"

YES_NO_BUTTONS = [{"title": "对", "payload": "/affirm"}, {"title": "不对", "payload": "/deny"}]

MEAL_CLOCK = {"breakfast": "早上", "lunch": "中午", "dinner": "晚上"}
WEEKDAY_ZH = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期天"]
INTENT_ZH = {
    "book_meal": "订饭", "cancel_meal": "取消订饭", "ask_menu": "问菜单", "ask_subsidy": "问补贴",
    "ask_subsidy_status": "查补贴发放", "request_help": "求助", "call_family": "找家人",
    "find_service": "找服务站", "ask_activity": "问活动", "request_home_visit": "要上门服务",
    "handoff_human": "找人工", "report_health": "报健康数据", "nlu_fallback": "说的话没听懂",
}
REASON_ZH = {
    "asked_for_human": "老人要求转人工", "two_fallbacks": "连续两次没听懂",
    "service_down": "系统故障", "action_failed": "办理出错", "unknown_resident": "查不到登记信息",
    "rasa_down": "对话服务故障", "help_request": "紧急求助",
}


def greeting(resident: Any | None) -> str:
    who = f"{resident.honorific}好！" if resident else "您好！"
    return who + "我是银龄小助手。您要订饭、问补贴，还是找人帮忙？"


def _dishes(option: Any, limit: int = 4) -> str:
    names = [d.name for d in option.dishes[:limit]]
    return "、".join(names)


def menu(options: Sequence[Any], day: date, today: date) -> str:
    if not options:
        return f"{spoken_date(day, today)}食堂没有安排饭。您要问别的日子吗？"
    when = spoken_date(day, today)
    if len(options) == 1:
        o = options[0]
        return f"{when}{MEAL_ZH[o.meal]}有{_dishes(o)}。要给您订吗？"
    parts = [f"{MEAL_ZH[o.meal]}有{_dishes(o, 3)}" for o in options]
    return f"{when}，{'；'.join(parts)}。"


def meal_readback(quote: Any, today: date) -> str:
    place = "送到家" if quote.mode == "delivery" else f"在{quote.canteen_name}吃"
    return (
        f"给您订{spoken_date(quote.date, today)}的{MEAL_ZH[quote.meal]}，{spoken_count(quote.portions, '份')}，"
        f"{place}，一共{spoken_money(quote.total_cents)}。对吗？"
    )


def meal_booked(order: Any, today: date) -> str:
    clock = spoken_time(order.serve_from) if order.serve_from else MEAL_CLOCK[order.meal]
    if order.mode == "delivery":
        return f"订好了。{spoken_date(order.date, today)}{clock}给您送到家。"
    return f"订好了。{spoken_date(order.date, today)}{clock}开饭，您到{order.canteen_name}吃。"


def meal_full(day: date, meal: str, remaining: int, today: date) -> str:
    if remaining > 0:
        left = spoken_count(remaining, "份")
        return f"{spoken_date(day, today)}的{MEAL_ZH[meal]}只剩{left}了。您少订几份，或者换一顿？"
    return f"{spoken_date(day, today)}的{MEAL_ZH[meal]}已经订满了。您换一顿或者换一天吧？"


def duplicate_order(existing: Any, today: date) -> str:
    return (
        f"您已经订了{spoken_date(existing.date, today)}的{MEAL_ZH[existing.meal]}，"
        f"{spoken_count(existing.portions, '份')}，不用再订了。要改的话先跟我说取消。"
    )


def no_meal_service(day: date, meal: str, today: date) -> str:
    return f"{spoken_date(day, today)}食堂不供应{MEAL_ZH[meal]}。您换一顿吧？"


def invalid_meal_request(today: date) -> str:
    return "这个日子订不了。能订今天到两个礼拜以内的饭，一次最多五份。"


def order_label(order: Any, today: date) -> str:
    return f"{spoken_date(order.date, today)}的{MEAL_ZH[order.meal]}{spoken_count(order.portions, '份')}"


def cancel_readback(order: Any, today: date) -> str:
    return f"要取消{order_label(order, today)}，对吗？"


def cancel_choose(orders: Sequence[Any], today: date) -> str:
    labels = "、".join(order_label(o, today) for o in orders[:4])
    return f"您订了{labels}。要取消哪一顿？"


def cancelled(order: Any, today: date) -> str:
    return f"取消好了，{order_label(order, today)}不给您做了。"


def no_orders() -> str:
    return "您现在没有订饭，不用取消。"


def no_matching_order(today: date) -> str:
    return "没找到您说的那顿饭。您是哪天、哪顿订的？"


def too_late_to_cancel() -> str:
    return "这顿饭已经过了时间，取消不了了。有问题我给您转人工。"


def subsidy_info(items: Sequence[Any]) -> str:
    """items: EligibilityView for the resident (or programme list for unknown callers)."""
    yes = [i for i in items if i.eligible]
    if not yes:
        names = "、".join(i.programme.name for i in items[:3])
        return f"按您现在的情况，{names}暂时够不上。想细问的话，我给您转人工。"
    parts = []
    for i in yes[:2]:
        if i.amount_cents_per_month:
            parts.append(f"{i.programme.name}，每月{spoken_money(i.amount_cents_per_month)}")
        else:
            parts.append(i.programme.name)
    return f"您能享受{'；'.join(parts)}。要查发没发，您就问'我的补贴发了没'。"


def programme_list(programmes: Sequence[Any]) -> str:
    names = "、".join(p.name for p in programmes[:4])
    return f"咱这儿有{names}。八十岁以上的老人都有高龄津贴。"


def subsidy_status(applications: Sequence[Any]) -> str:
    if not applications:
        return "您还没有申请过补贴。要申请的话，我给您转人工帮您办。"
    a = applications[0]
    name = a.programme.name
    status_zh = {"submitted": "已经交上去了", "reviewing": "正在审核", "rejected": "没有批下来"}
    if a.status != "approved":
        return f"您的{name}{status_zh.get(a.status, '正在办理')}。有结果了会通知您。"
    paid = [p for p in a.payments if p.status == "paid"]
    pending = [p for p in a.payments if p.status != "paid"]
    text = f"您的{name}已经批了。"
    if paid:
        last = paid[-1]
        text += f"{_month(last.month)}的{spoken_money(last.amount_cents)}已经发了"
        text += f"，{_month(pending[0].month)}的还在办。" if pending else "。"
    elif pending:
        text += f"{_month(pending[0].month)}的还在办。"
    return text


def _month(month: str) -> str:
    _, m = month.split("-")
    return f"{spoken_number(int(m))}月"


KIND_ZH = {
    "station": "养老驿站", "community_centre": "养老服务中心", "day_care": "日间照料中心",
    "happiness_yard": "幸福小院", "canteen": "食堂", "health_station": "卫生室",
}


def nearest(hit: Any) -> str:
    f = hit.facility
    hours = opening_hours(f.hours)
    return f"离您最近的是{f.name}，大概{spoken_distance(hit.distance_m)}。{hours}"


def opening_hours(hours: str | None) -> str:
    if not hours or "-" not in hours:
        return ""
    start, end = hours.split("-", 1)
    return f"{spoken_time(start)}到{spoken_time(end)}开门。"


def facility_named(f: Any) -> str:
    return f"{f.name}在{f.address}。{opening_hours(f.hours)}"


def no_facility(kind: str | None) -> str:
    return f"您附近没找到{KIND_ZH.get(kind or '', '这样的地方')}。我给您转人工问问？"


def activities(items: Sequence[Any], weekday: int | None) -> str:
    if not items:
        return "这几天附近没有安排活动。"
    day = WEEKDAY_ZH[weekday] if weekday is not None else ""
    parts = [f"{a.facility_name}{spoken_time(a.start)}有{a.title}" for a in items[:2]]
    return f"{day}{'；'.join(parts)}。"


def help_raised(view: Any) -> str:
    if view.notified:
        who = "、".join(view.notified[:2])
        return f"别着急，我已经叫人了，也通知了{who}。您别动，别挂，工作人员马上联系您。"
    return "别着急，我已经叫人了。您别动，别挂，工作人员马上联系您。"


def family_call(call: Any) -> str:
    f = call.family
    return f"好，我这就让人给您{f.relation}{f.name}打电话，{spoken_phone_tail(f.phone_masked)}。"


def no_family(relation: str | None) -> str:
    if relation:
        return f"系统里没有您{relation}的电话。我给您转人工帮您联系。"
    return "系统里没有您家人的电话。我给您转人工帮您联系。"


def visit_readback(service_name: str, day: date | None, today: date) -> str:
    when = spoken_date(day, today) if day else "最近"
    return f"给您约{when}上门{service_name}，对吗？"


def visit_booked(ticket: Any, today: date) -> str:
    when = spoken_date(ticket.preferred_date, today) if ticket.preferred_date else "这两天"
    return f"约好了，{when}有人上门{ticket.service_name}，来之前会先给您打电话。"


MEASURE_ZH = {"bp": "血压", "glucose": "血糖", "heart_rate": "心跳", "temperature": "体温", "spo2": "血氧"}


def health_recorded(result: Any) -> str:
    name = MEASURE_ZH.get(result.measure, "数据")
    if result.in_range:
        return f"记下了，您的{name}在正常范围里。按时吃药，注意休息。"
    level = "偏高" if result.high else "偏低"
    told = "，我已经告诉您家人和工作人员" if result.alerted else ""
    return f"记下了，您的{name}{level}{told}。您先坐下歇歇，不舒服马上跟我说。"


def health_unclear() -> str:
    return "我没听清数。您再说一遍，比如'血压一百四十到九十'。"


def handoff_summary(resident: Any | None, sender: str, reason: str, transcript: Sequence[dict]) -> str:
    """One line for the operator: who, why, what they wanted, last words."""
    who = f"{resident.name}（{resident.id}）" if resident else f"未登记来电（{sender}）"
    wants = [INTENT_ZH[line["intent"]] for line in transcript if line.get("intent") in INTENT_ZH]
    last_words = next((line["text"] for line in reversed(transcript) if line["role"] == "elder"), "")
    parts = [who, REASON_ZH.get(reason, reason)]
    if wants:
        parts.append("想" + "、".join(dict.fromkeys(wants)))
    if last_words:
        parts.append(f"最后说：「{last_words[:40]}」")
    return "；".join(parts)
