"""Live alerts for the pages: help requests and their status, out-of-range health readings, and
conversation turns, pushed as server-sent events.

Help requests are raised by the action server and the voice and phone lines, in other processes,
so the database is the one place that sees them all. One poller per gateway reads what is new
(a few indexed queries every `poll_s`, however many pages are open) and fans it out to the
subscribers allowed to see it: staff see everything, a family member only their consenting
residents.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from services.facade import Services
from services.types import HelpDeskView, NotificationView, TurnView

logger = logging.getLogger(__name__)

# A page this far behind has gone away: it is dropped and reconnects. Well above what one poll can
# bring (500 turns, 500 notifications), so a burst after a database pause drops nobody who reads.
QUEUE_LIMIT = 2000


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def help_event(view: HelpDeskView, staff: bool) -> dict[str, Any]:
    data = {"id": view.id, "resident_id": view.resident_id, "resident_name": view.resident_name,
            "status": view.status, "text": view.text, "channel": view.channel,
            "created_at": _iso(view.created_at), "acknowledged_at": _iso(view.acknowledged_at),
            "resolved_at": _iso(view.resolved_at), "escalation_level": view.escalation_level}
    if staff:  # the unmasked number and the place are for the desk only
        data.update(phone=view.phone, location=view.location, overdue=view.overdue)
    return data


@dataclass(frozen=True)
class Alert:
    kind: str  # help / health / turn
    resident_id: Optional[str]
    staff_data: dict[str, Any]
    family_data: dict[str, Any]


@dataclass(eq=False)
class Subscriber:
    residents: Optional[frozenset[str]]  # None: staff, everything
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    dropped: bool = False

    def wants(self, alert: Alert) -> bool:
        return self.residents is None or (alert.resident_id is not None and alert.resident_id in self.residents)


class AlertHub:
    def __init__(self, services: Services, poll_s: float = 0.25) -> None:
        self._services = services
        self._poll_s = poll_s
        self._subscribers: set[Subscriber] = set()
        self._notification_mark = 0
        self._turn_mark = 0
        self._help_mark = datetime.now(timezone.utc)
        self.ready = asyncio.Event()

    # --- subscribers ----------------------------------------------------------------------------
    def subscribe(self, residents: Optional[frozenset[str]]) -> Subscriber:
        subscriber = Subscriber(residents)
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, alert: Alert) -> None:
        for subscriber in list(self._subscribers):
            if not subscriber.wants(alert):
                continue
            data = alert.staff_data if subscriber.residents is None else alert.family_data
            try:
                subscriber.queue.put_nowait((alert.kind, data))
            except asyncio.QueueFull:
                subscriber.dropped = True
                self._subscribers.discard(subscriber)

    # --- the poller -----------------------------------------------------------------------------
    async def run(self) -> None:
        await self._start_marks()
        self.ready.set()
        while True:
            try:
                await self.poll_once()
            except Exception:  # the database may be away for a moment: keep polling
                logger.exception("alert poll failed")
            await asyncio.sleep(self._poll_s)

    async def _start_marks(self) -> None:
        """Start from now: pages load what already happened through the REST API."""
        while True:
            try:
                self._notification_mark, self._turn_mark = await asyncio.to_thread(self._services.feed_marks)
                self._help_mark = await asyncio.to_thread(self._services.now)
                return
            except Exception:
                logger.exception("alert hub could not read its starting point; retrying")
                await asyncio.sleep(1.0)

    async def poll_once(self) -> None:
        services = self._services
        if not self._subscribers:  # nobody listens: only move the marks along
            await self._skip()
            return
        notifications: list[NotificationView] = await asyncio.to_thread(
            services.notifications_after, self._notification_mark)
        changes: list[HelpDeskView] = await asyncio.to_thread(services.help_changes_after, self._help_mark)
        turns: list[TurnView] = await asyncio.to_thread(services.turns_after, self._turn_mark)
        new_help_ids = {n.help_request_id for n in notifications if n.kind in ("help", "escalation") and n.help_request_id}
        help_views: dict[int, HelpDeskView] = {}
        if new_help_ids:
            for view in await asyncio.to_thread(services.help_requests_for_desk, True, 200):
                if view.id in new_help_ids:
                    help_views[view.id] = view
        for view in changes:
            help_views[view.id] = view
            stamp = max(t for t in (view.acknowledged_at, view.resolved_at) if t is not None)
            self._help_mark = max(self._help_mark, stamp)
        for view in sorted(help_views.values(), key=lambda v: v.id):
            self.publish(Alert("help", view.resident_id, help_event(view, True), help_event(view, False)))
        seen_health: set[tuple[str, str]] = set()
        for n in notifications:
            self._notification_mark = max(self._notification_mark, n.id)
            if n.kind == "health" and n.resident_id and (n.resident_id, n.message) not in seen_health:
                seen_health.add((n.resident_id, n.message))  # one reading notifies several people: one alert
                data = {"resident_id": n.resident_id, "message": n.message, "created_at": _iso(n.created_at)}
                self.publish(Alert("health", n.resident_id, data, data))
        for turn in turns:
            self._turn_mark = max(self._turn_mark, turn.id)
            data = {k: _iso(v) for k, v in asdict(turn).items()}
            self.publish(Alert("turn", turn.resident_id, data, data))

    async def _skip(self) -> None:
        notification_mark, turn_mark = await asyncio.to_thread(self._services.feed_marks)
        self._notification_mark = max(self._notification_mark, notification_mark)
        self._turn_mark = max(self._turn_mark, turn_mark)
        self._help_mark = max(self._help_mark, await asyncio.to_thread(self._services.now))
