"""Help calls, calling family and health readings: the safety-critical actions."""
from __future__ import annotations

from rasa_sdk.events import ActiveLoop, SlotSet

from actions import replies, runtime
from actions.base import Events, YinlingAction, hand_off
from actions.context import Turn
from services.errors import NoFamilyMember
from zhtext.health import parse_reading
from zhtext.kinds import parse_relation


class ActionHelp(YinlingAction):
    """Store the help request first, then tell the elder what happens next.

    The gateway stores the same request under the same key before Rasa even
    sees a message it detects as an emergency; this write is then a no-op.
    """

    def name(self) -> str:
        return "action_help"

    def handle(self, turn: Turn) -> Events:
        view = runtime.services().raise_help(
            turn.sender, turn.text, turn.channel,
            idempotency_key=turn.idempotency_key("help"),
            conversation_id=turn.sender,
        )
        turn.say(replies.help_raised(view))
        # leave any half-filled form: the emergency comes first
        return [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionCallFamily(YinlingAction):
    def name(self) -> str:
        return "action_call_family"

    def handle(self, turn: Turn) -> Events:
        relation = parse_relation(turn.text)
        try:
            call = runtime.services().request_family_call(
                turn.sender, relation, idempotency_key=turn.idempotency_key("call")
            )
        except NoFamilyMember:
            turn.say(replies.no_family(relation))
            return hand_off(turn, "no_family_member")
        turn.say(replies.family_call(call))
        return []


class ActionHealth(YinlingAction):
    def name(self) -> str:
        return "action_health"

    def handle(self, turn: Turn) -> Events:
        reading = parse_reading(turn.text)
        if reading is None:
            turn.say(replies.health_unclear())
            return []
        result = runtime.services().record_health(
            turn.sender, reading.measure, reading.value1, reading.value2,
            idempotency_key=turn.idempotency_key("health"), source=turn.channel,
        )
        turn.say(replies.health_recorded(result))
        return []
