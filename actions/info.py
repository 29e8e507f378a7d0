"""Answers from the services database: subsidies, facilities, activities."""
from __future__ import annotations

from typing import Any

from actions import replies, runtime
from actions.base import Events, YinlingAction
from actions.context import Turn
from services.errors import UnknownResident
from zhtext.activities import parse_activity_topic
from zhtext.dates import parse_date, weekday_of
from zhtext.kinds import parse_facility_kind, parse_programme


class ActionSubsidyInfo(YinlingAction):
    def name(self) -> str:
        return "action_subsidy_info"

    def handle(self, turn: Turn) -> Events:
        services = runtime.services()
        programme = parse_programme(turn.text)
        try:
            items = services.eligibility(turn.sender, programme)
        except UnknownResident:
            programmes = services.programmes()
            chosen = [p for p in programmes if p.code == programme]
            turn.say(replies.programme_brief(chosen[0]) if chosen else replies.programme_list(programmes))
            return []
        turn.say(replies.subsidy_info(items, who=turn.addressee))
        return []


class ActionSubsidyStatus(YinlingAction):
    def name(self) -> str:
        return "action_subsidy_status"

    def handle(self, turn: Turn) -> Events:
        services = runtime.services()
        code = parse_programme(turn.text)
        applications = services.subsidy_status(turn.sender, code)
        if not applications and code:  # "俺那个高龄津贴咋还没发": that programme, and whether it applies
            item = next(iter(services.eligibility(turn.sender, code)), None)
            if item is not None:
                turn.say(replies.not_applied(item, who=turn.addressee))
                return []
        turn.say(replies.subsidy_status(applications, who=turn.addressee))
        return []


def named_facility(text: str) -> Any | None:
    """A facility the elder named by its village or community; fuzzy matching alone
    would turn "最近的驿站" into some other station, so the place name must be said."""
    if len(text) < 3:
        return None
    facility = runtime.services().find_facility(text)
    if facility and facility.village and facility.village in text:
        return facility
    return None


class ActionFindService(YinlingAction):
    def name(self) -> str:
        return "action_find_service"

    def handle(self, turn: Turn) -> Events:
        services = runtime.services()
        named = named_facility(turn.text)
        if named is not None:  # "赵王村驿站几点开门": that place, not the nearest
            turn.say(replies.facility_named(named))
            return []
        kind = parse_facility_kind(turn.text)
        try:
            hits = services.nearest_facilities(turn.sender, kind=kind, service=None, limit=1)
        except UnknownResident:
            turn.say("您在哪个村、哪个社区？我帮您找最近的。")
            return []
        if not hits:
            turn.say(replies.no_facility(kind))
            return []
        turn.say(replies.nearest(hits[0], who=turn.addressee))
        return []


class ActionActivities(YinlingAction):
    """Today's (or the named day's) activities nearby; or, when the elder names a course
    ("老年大学有没有书法课"), that course: its days, time and place, or that there is none."""

    def name(self) -> str:
        return "action_activities"

    def handle(self, turn: Turn) -> Events:
        today = runtime.today()
        topic = parse_activity_topic(turn.text)
        if topic is not None:
            place = named_facility(turn.text)
            try:
                everything = runtime.services().activities(
                    None if place else turn.sender, facility_id=place.id if place else None)
            except UnknownResident:
                turn.say("您在哪个村、哪个社区？我帮您查附近的课。")
                return []
            matching = [a for a in everything if any(w in a.title + a.description for w in topic.matches)]
            if matching:
                turn.say(replies.course(topic.name, matching))
            else:
                turn.say(replies.no_course(topic.name, everything))
            return []
        weekday = weekday_of(turn.text)
        if weekday is None:
            day = parse_date(turn.text, today) or today
            weekday = day.weekday()
        place = named_facility(turn.text)  # "康乐社区礼拜三有啥活动": that place, for anyone
        try:
            items = runtime.services().activities(
                None if place else turn.sender, weekday=weekday, facility_id=place.id if place else None)
        except UnknownResident:
            turn.say("您在哪个村、哪个社区？我帮您查附近的活动。")
            return []
        turn.say(replies.activities(items, weekday))
        return []
