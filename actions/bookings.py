""""我都订了啥", "师傅哪天来", "我叫的人来了没有": the elder's own bookings, from the database."""
from __future__ import annotations

import re
from datetime import timedelta

from actions import replies, runtime
from actions.base import Events, YinlingAction, hand_off
from actions.context import Turn
from services.clock import as_utc, utcnow

VISIT_WORDS = re.compile(r"师傅|上门|来人|理发|助浴|洗澡|保洁|打扫|维修|修|陪诊|送药|哪天来|啥时候来|几时来|什么时候来")
HELP_WORDS = re.compile(r"求助|叫的人|喊的人|有人管|有人来|救|报警|来了没|有人接")
MEAL_WORDS = re.compile(r"饭|餐|订了|吃")
RECENT_HELP = timedelta(hours=24)  # "did anyone take my call" means today's, not last month's


class ActionMyBookings(YinlingAction):
    def name(self) -> str:
        return "action_my_bookings"

    def handle(self, turn: Turn) -> Events:
        text = turn.text
        if HELP_WORDS.search(text):
            return self._help(turn)
        if VISIT_WORDS.search(text) and not MEAL_WORDS.search(text.replace("来了", "")):
            return self._visits(turn)
        return self._meals(turn)

    def _meals(self, turn: Turn) -> Events:
        today = runtime.today()
        services = runtime.services()
        orders = [o for o in services.upcoming_orders(turn.sender, today=today) if o.status == "booked"]
        tickets = services.open_tickets(turn.sender)
        turn.say(replies.my_meals(orders, tickets, today, who=turn.addressee))
        return []

    def _visits(self, turn: Turn) -> Events:
        turn.say(replies.my_visits(runtime.services().open_tickets(turn.sender), runtime.today(), who=turn.addressee))
        return []

    def _help(self, turn: Turn) -> Events:
        since = utcnow() - RECENT_HELP
        recent = [h for h in runtime.services().recent_help(turn.sender, limit=5) if as_utc(h.created_at) >= since]
        if not recent:
            turn.say(replies.NO_RECENT_HELP)
            return []
        latest = recent[0]
        turn.say(replies.my_help(latest))
        if latest.status == "open":  # nobody has taken it yet: a person, now
            return hand_off(turn, "help_unacknowledged")
        return []
