"""What the assistant says: short, plain, concrete, two sentences at most.

Pure functions from service results to Mandarin text, so the wording is tested
without Rasa. Dates and numbers are said the way people say them
(明天，十一月二十四号，星期二；两份；八块五).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Sequence

from zhtext.dates import short_date, spoken_date
from zhtext.meals import MEAL_ZH
from zhtext.numbers import spoken_count, spoken_number
from zhtext.spoken import spoken_distance, spoken_money, spoken_phone_tail, spoken_time


@dataclass(frozen=True)
class Addressee:
    """How an answer names the elder: "您" to the elder themself; to a family member writing for
    them, the elder by kin and name at first mention ("您母亲王桂兰") and by name after ("王桂兰")."""

    full: str = "您"
    short: str = "您"


ELDER = Addressee()

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
WHAT_TO_CHANGE = "哪里不对？您直接说要改的，比如'改成后天'。"
WHAT_TO_CHANGE_MEAL = "您要改哪样？日子、哪一顿、几份，还是在哪儿吃，直接说就行，比如'改成晚饭'。"
WHAT_TO_CHANGE_VISIT = "您要改哪样？哪天来，还是换个服务，直接说就行，比如'改成后天'。"

CHITCHAT = (
    "听您说话我也高兴。天冷了多穿点，有事随时叫我。",
    "我是银龄小助手，一直在这儿陪着您。您要订饭、问补贴，都可以跟我说。",
    "您说得在理。身体要紧，按时吃饭。有事就喊我。",
)
MEAL_OR_NOT = "您是要订饭吗？要订饭，您说'订明天的饭'就行。"
INTRO = "我是银龄小助手，一直在这儿陪着您。您要订饭、问补贴，都可以跟我说。"
OUT_OF_SCOPE = "这个我帮不上忙。我能帮您订饭、问补贴、找驿站、叫人上门，还能帮您叫人。"



def pending_reminder(pending: dict[str, Any], today: date) -> str | None:
    """Said after a digression while a read-back still waits for the elder's yes."""
    kind = pending.get("kind")
    if kind == "meal":
        items = pending.get("items") or [pending]
        what = "、".join(f"{short_date(date.fromisoformat(i['date']), today)}的{MEAL_ZH[i['meal']]}" for i in items)
        return f"咱们接着说刚才那顿饭：{what}，{spoken_count(int(pending['portions']), '份')}，给您订上，对吗？"
    if kind == "visit":
        return "咱们接着说刚才的上门服务：给您约上，对吗？"
    if kind == "cancel":
        return "咱们接着说刚才要取消的那顿饭：给您取消，对吗？"
    return None


YES_NO_BUTTONS = [{"title": "对", "payload": "/affirm"}, {"title": "不对", "payload": "/deny"}]

MEAL_CLOCK = {"breakfast": "早上", "lunch": "中午", "dinner": "晚上"}
WEEKDAY_ZH = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期天"]
NO_RECENT_HELP = "您今天没有求助过。要叫人就说'帮我叫人'，我马上给您叫。"


def form_stopped(topic: str) -> str:
    """"算了" in the middle of a form or at its read-back."""
    return f"好，{topic}的事先不办了。还有别的事吗？"


def form_left(topic: str) -> str:
    """A goodbye in the middle of a form: nothing is booked, and the bot says so."""
    return f"好，{topic}的事先不办了。您慢走，有事随时叫我。"


def greeting(resident: Any | None) -> str:
    who = f"{resident.honorific}好！" if resident else "您好！"
    return who + "我是银龄小助手。您要订饭、问补贴，还是找人帮忙？"


def _dishes(option: Any, limit: int = 4) -> str:
    names = [d.name for d in option.dishes[:limit]]
    return "、".join(names)


def menu(options: Sequence[Any], day: date, today: date, who: Addressee = ELDER, offer: bool = True) -> str:
    """`offer`: end with "要给您订吗？" (not while a booking is already being asked for)."""
    if not options:
        return f"{spoken_date(day, today)}食堂没有安排饭。您要问别的日子吗？"
    when = spoken_date(day, today)
    if len(options) == 1:
        o = options[0]
        return f"{when}，{MEAL_ZH[o.meal]}有{_dishes(o)}。" + (f"要给{who.short}订吗？" if offer else "")
    parts = [f"{MEAL_ZH[o.meal]}有{_dishes(o, 3)}" for o in options]
    return f"{when}，{'；'.join(parts)}。"


def meal_readback(quote: Any, today: date, who: Addressee = ELDER) -> str:
    place = "送到家" if quote.mode == "delivery" else f"在{quote.canteen_name}吃"
    return (
        f"给{who.full}订{spoken_date(quote.date, today)}的{MEAL_ZH[quote.meal]}，{spoken_count(quote.portions, '份')}，"
        f"{place}，一共{spoken_money(quote.total_cents)}。对吗？"
    )


def _days(days: Sequence[date], today: date) -> str:
    return "和".join(dict.fromkeys(short_date(d, today) for d in days))


def meal_readback_many(quotes: Sequence[Any], today: date, who: Addressee = ELDER) -> str:
    """One read-back for several meals said in one breath; one yes books them all."""
    first = quotes[0]
    place = "送到家" if first.mode == "delivery" else f"在{first.canteen_name}吃"
    meals = list(dict.fromkeys(q.meal for q in quotes))
    if len(meals) == 1:
        what = f"{_days([q.date for q in quotes], today)}的{MEAL_ZH[meals[0]]}"
    else:
        what = "、".join(f"{short_date(q.date, today)}的{MEAL_ZH[q.meal]}" for q in quotes)
    total = sum(q.total_cents for q in quotes)
    return (f"给{who.full}订{what}，每顿{spoken_count(first.portions, '份')}，{place}，"
            f"一共{spoken_money(total)}。对吗？")


def already_booked_note(orders: Sequence[Any], today: date, who: Addressee = ELDER) -> str:
    return "、".join(f"{short_date(o.date, today)}的{MEAL_ZH[o.meal]}" for o in orders) + f"{who.short}已经订了。"


def meals_booked(orders: Sequence[Any], today: date, who: Addressee = ELDER) -> str:
    if len(orders) == 1:
        return meal_booked(orders[0], today, who)
    first = orders[0]
    what = "、".join(f"{short_date(o.date, today)}的{MEAL_ZH[o.meal]}" for o in orders)
    if first.mode == "delivery":
        return f"订好了，{what}，到时候给{who.short}送到家。"
    return f"订好了，{what}，{who.short}到{first.canteen_name}吃。"


def meal_booked(order: Any, today: date, who: Addressee = ELDER) -> str:
    clock = spoken_time(order.serve_from) if order.serve_from else MEAL_CLOCK[order.meal]
    if order.mode == "delivery":
        return f"订好了。{spoken_date(order.date, today)}{clock}给{who.short}送到家。"
    return f"订好了。{spoken_date(order.date, today)}{clock}开饭，{who.short}到{order.canteen_name}吃。"


def meal_full(day: date, meal: str, remaining: int, today: date) -> str:
    if remaining > 0:
        left = spoken_count(remaining, "份")
        return f"{spoken_date(day, today)}的{MEAL_ZH[meal]}只剩{left}了。您少订几份，或者换一顿？"
    return f"{spoken_date(day, today)}的{MEAL_ZH[meal]}已经订满了。您换一顿或者换一天吧？"


def duplicate_order(existing: Any, today: date, who: Addressee = ELDER) -> str:
    return (
        f"{who.full}已经订了{spoken_date(existing.date, today)}的{MEAL_ZH[existing.meal]}，"
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


def cancel_choose(orders: Sequence[Any], today: date, who: Addressee = ELDER) -> str:
    labels = "、".join(order_label(o, today) for o in orders[:4])
    return f"{who.full}订了{labels}。要取消哪一顿？"


def cancelled(order: Any, today: date, who: Addressee = ELDER) -> str:
    return f"取消好了，{order_label(order, today)}不给{who.short}做了。"


def no_orders(who: Addressee = ELDER) -> str:
    return f"{who.full}现在没有订饭，不用取消。"


def no_matching_order(today: date) -> str:
    return "没找到您说的那顿饭。您是哪天、哪顿订的？"


def too_late_to_cancel() -> str:
    return "这顿饭已经过了时间，取消不了了。有问题我给您转人工。"


def subsidy_info(items: Sequence[Any], who: Addressee = ELDER) -> str:
    """items: EligibilityView for the resident (or programme list for unknown callers)."""
    yes = [i for i in items if i.eligible]
    if not yes:
        names = "、".join(i.programme.name for i in items[:3])
        return f"按{who.full}现在的情况，{names}暂时够不上。想细问的话，我给您转人工。"
    parts = []
    for i in yes[:2]:
        if i.amount_cents_per_month:
            parts.append(f"{i.programme.name}，每月{spoken_money(i.amount_cents_per_month)}")
        else:
            parts.append(i.programme.name)
    if who != ELDER:
        return f"{who.full}能享受{'；'.join(parts)}。要查发没发，您就问'补贴发了没'。"
    return f"您能享受{'；'.join(parts)}。要查发没发，您就问'我的补贴发了没'。"


def not_applied(item: Any, who: Addressee = ELDER) -> str:
    """Asked about one programme never applied for: say so, and whether it applies at all."""
    name = item.programme.name
    if item.eligible:
        return f"{who.full}还没有申请{name}，按情况是能领的。要申请的话，我给您转人工帮着办。"
    if item.programme.code == "gaoling":
        return f"{name}是八十岁以上的老人才有，{who.full}还没到岁数。想细问的话，我给您转人工。"
    return f"按{who.full}现在的情况，{name}暂时够不上。想细问的话，我给您转人工。"


# The programmes said briefly, as to someone who called in (their summaries are written for reading).
PROGRAMME_BRIEF = {
    "gaoling": "八十岁以上的老人都有高龄津贴，按月发。要申请，我给您转人工。",
    "shineng": "经济困难、又失能的老人，每月有失能老年人补贴。要申请，我给您转人工。",
    "shilaohua": "特殊困难的老人家里，可以免费做适老化改造，先要上门看看。要申请，我给您转人工。",
    "tanfang": "独居、特困和高龄的老人有探访关爱，定期有人上门或者打电话问候。",
}


def programme_brief(programme: Any) -> str:
    return PROGRAMME_BRIEF.get(programme.code) or f"咱这儿有{programme.name}。想细问的话，我给您转人工。"


def programme_list(programmes: Sequence[Any]) -> str:
    names = "、".join(p.name for p in programmes[:4])
    return f"咱这儿有{names}。八十岁以上的老人都有高龄津贴。"


def subsidy_status(applications: Sequence[Any], who: Addressee = ELDER) -> str:
    if not applications:
        return f"{who.full}还没有申请过补贴。要申请的话，我给您转人工帮着办。"
    a = applications[0]
    name = a.programme.name
    status_zh = {"submitted": "已经交上去了", "reviewing": "正在审核", "rejected": "没有批下来"}
    if a.status != "approved":
        return f"{who.full}的{name}{status_zh.get(a.status, '正在办理')}。有结果了会通知您。"
    paid = [p for p in a.payments if p.status == "paid"]
    pending = [p for p in a.payments if p.status != "paid"]
    text = f"{who.full}的{name}已经批了。"
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


def nearest(hit: Any, who: Addressee = ELDER) -> str:
    f = hit.facility
    hours = opening_hours(f.hours)
    return f"离{who.short}最近的是{f.name}，大概{spoken_distance(hit.distance_m)}。{hours}"


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
    day = WEEKDAY_ZH[weekday] + "，" if weekday is not None else ""
    first = items[0].facility_name
    # the place said once when both are there; "老年大学·书法班" read as 老年大学的书法班
    parts = [("" if i and a.facility_name == first else a.facility_name)
             + f"{spoken_time(a.start)}有{a.title.replace('·', '的')}" for i, a in enumerate(items[:2])]
    return f"{day}{'，'.join(parts)}。"


def time_span(start: str, end: str) -> str:
    """"上午九点到十点半": the part of the day is said once when both ends share it."""
    first, last = spoken_time(start), spoken_time(end)
    for part in ("早上", "上午", "中午", "下午", "晚上"):
        if first.startswith(part) and last.startswith(part):
            last = last[len(part):]
            break
    return f"{first}到{last}"


def _weekdays(days: Sequence[int]) -> str:
    days = sorted(set(days))
    if days == list(range(7)):
        return "天天"
    if days == list(range(5)):
        return "星期一到星期五"
    return "、".join(WEEKDAY_ZH[d] for d in days)


def course(topic: str, items: Sequence[Any]) -> str:
    """"老年大学有没有书法课": that course, its days, time and place (the first two places)."""
    groups: dict[tuple[str, str, str, str], list[int]] = {}
    for a in items:
        groups.setdefault((a.facility_name, a.title, a.start, a.end), []).append(a.weekday)
    parts = []
    for (place, title, start, end), days in list(groups.items())[:2]:
        title = title.split("·")[-1]
        parts.append(f"{place}有{title}，每{_weekdays(days)}{time_span(start, end)}")
    return "有。" + "；".join(parts) + "。"


def no_course(topic: str, nearby: Sequence[Any]) -> str:
    """No such course: say so, and name what there is nearby."""
    titles = list(dict.fromkeys(a.title.split("·")[-1] for a in nearby))[:3]
    if not titles:
        return f"附近没有{topic}的课，也没有别的活动安排。"
    return f"附近没有{topic}的课。有{'、'.join(titles)}，您想听听哪个？"


def my_meals(orders: Sequence[Any], tickets: Sequence[Any], today: date, who: Addressee = ELDER) -> str:
    """"我都订了啥": the booked meals (the first four), then any home visit coming."""
    if orders:
        labels = "、".join(order_label(o, today) for o in orders[:4])
        more = f"，一共{spoken_count(len(orders), '顿')}" if len(orders) > 4 else ""
        text = f"{who.full}订了{labels}{more}。"
    else:
        text = f"{who.full}现在没有订饭。"
    if tickets:
        text += _visit_line(tickets[0], today, who)
    elif not orders:
        text += "要订的话，直接跟我说。"
    return text


def _visit_line(ticket: Any, today: date, who: Addressee = ELDER) -> str:
    if ticket.preferred_date:
        return f"{ticket.service_name}的师傅{short_date(ticket.preferred_date, today)}上门，来之前先给{who.short}打电话。"
    return f"{who.short}约的{ticket.service_name}还在安排，定了日子先给{who.short}打电话。"


def my_visits(tickets: Sequence[Any], today: date, who: Addressee = ELDER) -> str:
    """"师傅哪天来": the open home-visit requests (the first two)."""
    if not tickets:
        return f"{who.full}现在没有约上门服务。要约的话，跟我说要理发、洗澡还是打扫。"
    return "".join(_visit_line(t, today, who) for t in tickets[:2])


def my_help(request: Any) -> str:
    """"我叫的人来了没有": where the latest help request stands."""
    if request.status == "open":
        return "您的求助已经发出去了，还没有工作人员接。我马上给您转人工。"
    if request.status == "resolved":
        return "您今天的求助工作人员已经处理完了。还有事就跟我说。"
    return "您的求助工作人员已经接了，正在处理，马上联系您。您别着急。"


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


def visit_readback(service_name: str, day: date | None, today: date, who: Addressee = ELDER) -> str:
    when = spoken_date(day, today) if day else "最近"
    return f"给{who.full}约{when}上门{service_name}，对吗？"


def visit_booked(ticket: Any, today: date, who: Addressee = ELDER) -> str:
    when = spoken_date(ticket.preferred_date, today) if ticket.preferred_date else "这两天"
    return f"约好了，{when}有人上门{ticket.service_name}，来之前会先给{who.short}打电话。"


MEASURE_ZH = {"bp": "血压", "glucose": "血糖", "heart_rate": "心跳", "temperature": "体温", "spo2": "血氧"}


def health_recorded(result: Any, who: Addressee = ELDER) -> str:
    name = MEASURE_ZH.get(result.measure, "数据")
    if result.in_range:
        return f"记下了，{who.full}的{name}在正常范围里。按时吃药，注意休息。"
    level = "偏高" if result.high else "偏低"
    told = "，我已经告诉您家人和工作人员" if result.alerted else ""
    return f"记下了，{who.full}的{name}{level}{told}。您先坐下歇歇，不舒服马上跟我说。"


def health_unclear() -> str:
    return "我没听清数。您再说一遍，比如'血压一百四十到九十'。"
