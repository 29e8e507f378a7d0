"""What one action needs to know about the current turn, read from the tracker."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, runtime
from common.keys import message_key
from common.words import Actor, role_of
from services.clock import as_utc
from services.errors import ServiceError
from services.family import elder_kin
from zhtext.normalize import clean

logger = logging.getLogger(__name__)
TRANSCRIPT_LINES = 20  # a handoff's transcript reaches back this far into the log when the session is shorter
EARLIER_LINES_WITHIN = timedelta(hours=2)  # and no further back than this before the session's first message

# Intents that leave any form to their own rules when nothing in the message answers
# the form's question; the form asks again after their answer.
LEAVE_ANY_FORM = frozenset({
    "request_help", "handoff_human", "deny", "cancel_meal", "repeat", "ask_subsidy",
    "ask_subsidy_status", "find_service", "ask_activity", "call_family", "report_health",
    "goodbye", "out_of_scope",
})


@dataclass
class Turn:
    """The elder's latest message and a way to answer it."""

    tracker: Tracker
    dispatcher: CollectingDispatcher
    said: list[str] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return self.tracker.sender_id

    @property
    def text(self) -> str:
        return clean(self.tracker.latest_message.get("text") or "")

    @property
    def intent(self) -> str | None:
        return (self.tracker.latest_message.get("intent") or {}).get("name")

    @property
    def metadata(self) -> dict[str, Any]:
        return self.tracker.latest_message.get("metadata") or {}

    @property
    def actor(self) -> str:
        """Who is acting, for the audit log: a family member typing on the elder's behalf (the gateway
        puts `family:<account id>` in the metadata), else the resident."""
        actor = Actor.parse(self.metadata.get("actor"))
        return str(actor if actor is not None and actor.is_family else Actor.resident(self.sender))

    @cached_property
    def addressee(self) -> replies.Addressee:
        """Who the answer speaks of: the elder as "您" on their own channels; to a family member
        writing for them, "您母亲王桂兰" and then "王桂兰"."""
        actor = Actor.parse(self.actor)
        if actor is None or not actor.is_family:
            return replies.ELDER
        try:
            services = runtime.services()
            resident = services.get_resident(self.sender)
            relative = services.acting_relative(actor.account_id, self.sender)
        except ServiceError:
            logger.warning("could not tell who %s is to %s; naming the elder plainly", actor, self.sender)
            return replies.ELDER
        kin = elder_kin(relative.relation, resident.gender) if relative else None
        return replies.Addressee(f"您{kin}{resident.name}" if kin else resident.name, resident.name)

    @property
    def channel(self) -> str:
        return str(self.metadata.get("channel") or "text")

    def entity(self, name: str) -> str | None:
        values = list(self.tracker.get_latest_entity_values(name))
        return str(values[0]) if values else None

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)

    def idempotency_key(self, purpose: str) -> str:
        """Stable for this user message: a retried webhook call reuses it."""
        message_id = self.metadata.get("message_id")
        if not message_id:
            message_id = self.tracker.latest_message.get("message_id")
        if not message_id:
            message_id = f"{self._latest_user_timestamp()}"
        return message_key(purpose, self.sender, str(message_id))

    def _latest_user_timestamp(self) -> float:
        for event in reversed(self.tracker.events):
            if event.get("event") == "user":
                return float(event.get("timestamp") or 0)
        return 0.0

    def say(self, text: str, buttons: list[dict[str, str]] | None = None, **custom: Any) -> None:
        self.said.append(text)
        self.dispatcher.utter_message(text=text, buttons=buttons or [], json_message=custom or None)

    def last_said(self, intent: str) -> str | None:
        """The elder's most recent words that were understood as `intent`."""
        for event in reversed(self.tracker.events):
            if event.get("event") == "user":
                if ((event.get("parse_data") or {}).get("intent") or {}).get("name") == intent:
                    return event.get("text")
        return None

    def transcript(self) -> list[dict[str, Any]]:
        """User and bot lines of this conversation, oldest first: this Rasa session's, after the
        latest lines of the conversation log before it when the session is young (the gateway starts
        a new session every few dozen turns, and an operator taking over needs what led up to it)."""
        lines = self._session_lines()
        return self._logged_before(lines) + lines

    def _logged_before(self, session: list[dict[str, Any]]) -> list[dict[str, Any]]:
        wanted = TRANSCRIPT_LINES - len(session)
        first = next((e.get("timestamp") for e in self.tracker.events if e.get("event") == "user"), None)
        if wanted <= 0 or first is None:
            return []
        try:
            logged = runtime.services().conversation(self.sender, limit=TRANSCRIPT_LINES + len(session))
        except ServiceError:
            return []
        since = first - EARLIER_LINES_WITHIN.total_seconds()
        earlier = []
        for line in logged:
            at = as_utc(line.created_at)
            if since <= at.timestamp() < first:
                earlier.append({"role": line.role, "text": line.text, "ts": at.timestamp()})
        return earlier[-wanted:]

    def _session_lines(self) -> list[dict[str, Any]]:
        lines = []
        for event in self.tracker.events:
            kind = event.get("event")
            if kind not in ("user", "bot") or not event.get("text"):
                continue
            role = "bot"
            if kind == "user":  # a family member typing for the elder is marked as such for the operator
                role = role_of((event.get("metadata") or {}).get("actor"))
            line = {"role": role, "text": event["text"], "ts": event.get("timestamp")}
            if kind == "user":
                line["intent"] = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            lines.append(line)
        lines.extend({"role": "bot", "text": t, "ts": None} for t in self.said)
        return lines
