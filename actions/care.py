"""Help calls, calling family, health readings and complaints, and loneliness: the care actions.

Thin over the services: the parsers (zhtext) say what was said, services.observations and
services.care_signals decide what is stored and who is told, actions/care_replies.py words the answer.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence
from uuid import uuid4

from rasa_sdk.events import ActiveLoop, SlotSet

from actions import care_replies, replies, runtime
from actions.base import Events, YinlingAction, hand_off
from actions.context import Turn
from services.care_signals import VISIT_SERVICE
from services.errors import NoFamilyMember
from services.privacy import strip_id_numbers
from zhtext.emergency import detect_emergency, is_despair
from zhtext.feelings import LonelinessCue, detect_loneliness
from zhtext.health import parse_reading
from zhtext.kinds import parse_relation
from zhtext.symptoms import Complaint, parse_complaints


def raise_help(turn: Turn) -> Events:
    """Store the help request first, then tell the elder what happens next.

    The gateway stores the same request under the same key before Rasa even
    sees a message it detects as an emergency; this write is then a no-op.
    """
    view = runtime.services().raise_help(
        turn.sender, turn.text, turn.channel,
        idempotency_key=turn.idempotency_key("help"),
        conversation_id=turn.sender,
    )
    despair = is_despair(detect_emergency(turn.text))
    turn.say(care_replies.DESPAIR if despair else replies.help_raised(view))
    # leave any half-filled form: the emergency comes first
    return [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionHelp(YinlingAction):
    def name(self) -> str:
        return "action_help"

    def handle(self, turn: Turn) -> Events:
        return raise_help(turn)


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


def _record(turn: Turn, c: Complaint, purpose: str):
    return runtime.services().record_symptom(
        turn.sender, c.kind, c.words, text=turn.text, body_part=c.body_part, days=c.days,
        after_medicine=c.after_medicine, worse=c.worse, limits_walking=c.limits_walking,
        source=turn.channel, idempotency_key=turn.idempotency_key(purpose),
    )


def _record_others(turn: Turn, complaints: Sequence[Complaint]) -> list:
    """The rest of "头晕，还恶心": recorded (each may alert by its own rule), not spoken about."""
    return [_record(turn, c, f"symptom-{k}") for k, c in enumerate(complaints, start=2) if c.about is None]


def answer_symptom(turn: Turn, complaint: Complaint, also: Sequence[Complaint] = ()) -> Events:
    """Record the resident's complaint (and `also`, the others said with it) and answer with care and one
    next step. Someone else's complaint ("我老伴一直咳嗽") gets advice and is not recorded as theirs.
    Callable from any action (a chitchat action that heard "这几天老咳嗽")."""
    if turn.addressee != replies.ELDER:
        # on the elder's page a family member's "我妈这几天腿肿" is about the elder: theirs to record
        complaint = replace(complaint, about=None)
        also = [replace(c, about=None) for c in also]
    if complaint.about is not None:
        turn.say(care_replies.someone_elses_symptom(complaint))
        _record_others(turn, also)
        return []
    obs = _record(turn, complaint, "symptom")
    others = _record_others(turn, also)
    # speak of the one that told someone, if the first did not: the elder should hear who knows
    if not obs.alerted:
        for c, o in zip([c for c in also if c.about is None], others, strict=True):
            if o.alerted:
                complaint, obs = c, o
                break
    turn.say(care_replies.symptom_recorded(complaint, obs, who=turn.addressee))
    return []


def _our_visit_offer(pending: Any) -> bool:
    """An earlier visit offer of ours, still unanswered (a dateless 陪聊 read-back says the same)."""
    return (isinstance(pending, dict) and pending.get("kind") == "visit" and pending.get("service") == VISIT_SERVICE
            and not pending.get("date"))


def answer_loneliness(turn: Turn, cue: LonelinessCue) -> Events:
    """Record the care signal and answer warmly with the one offer services chose (an activity, a call
    to family, a 探访关爱 visit). Never a help request, never an alarm. A visit not yet arranged is asked, not
    booked: the read-back it leaves in `pending` (actions/visits.py's shape) is filed by ActionAffirm on "对"
    and dropped by ActionDeny on "不用了". Another read-back still waiting is not replaced."""
    view = runtime.services().record_loneliness(
        turn.sender, cue.words, text=turn.text, cue_kind=cue.kind, relation=cue.relation,
        source=turn.channel, idempotency_key=turn.idempotency_key("lonely"),
    )
    today = runtime.today()
    offer = view.offer
    if offer.kind != "visit" or offer.ticket is not None:
        turn.say(care_replies.loneliness_answer(cue, view, today))
        return []
    waiting = turn.slot("pending")
    if waiting and not _our_visit_offer(waiting):
        turn.say(care_replies.loneliness_answer(cue, view, today, can_ask=False))
        return []
    pending = {"kind": "visit", "id": uuid4().hex, "service": VISIT_SERVICE, "date": None, "offer": True,
               "note": strip_id_numbers(f"探访关爱：{turn.text}")[:200]}
    turn.say(care_replies.loneliness_answer(cue, view, today), buttons=replies.YES_NO_BUTTONS)
    return [SlotSet("pending", pending)]


def care_reply(turn: Turn) -> Events | None:
    """A complaint, else loneliness, in what the elder just said: answered and recorded; None if neither,
    or if it is an emergency (the help path's, not a chat's). Words of not wanting to live ("活着没意思")
    are both: the help request is stored (the gateway's, under the same key) and the answer is warm."""
    text = turn.text
    emergency = detect_emergency(text)
    if is_despair(emergency):
        return raise_help(turn)
    if emergency is not None:
        return None
    complaints = parse_complaints(text)
    if complaints:
        return answer_symptom(turn, complaints[0], complaints[1:])
    cue = detect_loneliness(text)
    if cue is not None:
        return answer_loneliness(turn, cue)
    return None


class ActionHealth(YinlingAction):
    """A reading (血压一百四十五到九十) is recorded against its range; without one, a complaint
    (两条腿肿了好几天了) is recorded as an observation; with neither, the elder is asked again."""

    def name(self) -> str:
        return "action_health"

    def handle(self, turn: Turn) -> Events:
        if detect_emergency(turn.text) is not None:
            # "头晕得站不住" can be classified report_health; it is a call for help (the gateway has
            # stored it already under the same key) and must be answered as one
            return raise_help(turn)
        reading = parse_reading(turn.text)
        complaints = parse_complaints(turn.text)
        if reading is None:
            if complaints:
                return answer_symptom(turn, complaints[0], complaints[1:])
            turn.say(replies.health_unclear())
            return []
        result = runtime.services().record_health(
            turn.sender, reading.measure, reading.value1, reading.value2,
            idempotency_key=turn.idempotency_key("health"), source=turn.channel,
        )
        # "血压一百六，头有点晕": the answer is about the reading; the complaint is kept for the desk too
        _record_others(turn, complaints)
        turn.say(replies.health_recorded(result))
        return []
