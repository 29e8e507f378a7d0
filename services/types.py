"""What the use-cases return: frozen dataclasses, safe to hand across threads and processes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Optional


@dataclass(frozen=True)
class ResidentView:
    id: str
    name: str
    gender: str  # 男 / 女
    age: int
    county: str
    township: str
    village: str
    address: str
    lat: float
    lon: float
    home_canteen_id: Optional[str]
    home_canteen_name: Optional[str]
    home_station_id: Optional[str]
    home_station_name: Optional[str]
    phone_masked: Optional[str]
    lives_alone: bool
    disability_level: int
    special_hardship: bool
    honorific: str  # 王奶奶 / 李大爷 / 赵阿姨 / 张叔
    tts_rate: Optional[int] = None
    tts_volume: Optional[float] = None


@dataclass(frozen=True)
class Dish:
    name: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class MealOption:
    service_id: int
    canteen_id: str
    canteen_name: str
    date: date
    meal: str
    dishes: tuple[Dish, ...]
    price_cents: int
    subsidised_price_cents: int
    remaining: int
    serve_from: str
    capacity: int = 0


@dataclass(frozen=True)
class MealQuote:
    resident_id: str
    canteen_id: str
    canteen_name: str
    date: date
    meal: str
    portions: int
    mode: str
    unit_price_cents: int  # the price that applies to this resident
    total_cents: int
    remaining: int
    serve_from: str
    subsidised: bool = False


@dataclass(frozen=True)
class MealOrderView:
    id: int
    resident_id: str
    canteen_id: str
    canteen_name: str
    date: date
    meal: str
    portions: int
    mode: str
    status: str
    total_cents: int
    serve_from: str
    created_at: datetime


@dataclass(frozen=True)
class CanteenOrderView:
    """One order on a canteen's list for the day: who, which meal, how many, and where to bring it."""

    id: int
    resident_id: str
    resident_name: str
    meal: str
    portions: int
    mode: str  # dine_in / delivery
    status: str  # booked / cancelled
    address: Optional[str]  # the resident's, for delivery only


@dataclass(frozen=True)
class ProgrammeView:
    code: str
    name: str
    summary: str


@dataclass(frozen=True)
class EligibilityView:
    programme: ProgrammeView
    eligible: bool
    # age_band | eligible | needs_assessment | too_young | not_hardship | not_disabled |
    # not_living_alone | not_target_group
    reason_code: str
    amount_cents_per_month: Optional[int]


@dataclass(frozen=True)
class PaymentView:
    month: str  # YYYY-MM
    amount_cents: int
    status: str  # paid / pending
    paid_on: Optional[date]


@dataclass(frozen=True)
class ApplicationView:
    programme: ProgrammeView
    status: str
    applied_on: date
    decided_on: Optional[date]
    payments: tuple[PaymentView, ...]


@dataclass(frozen=True)
class FacilityView:
    id: str
    kind: str
    name: str
    county: str
    township: str
    village: Optional[str]
    address: str
    lat: float
    lon: float
    hours: str
    phone: Optional[str]
    services: tuple[str, ...]


@dataclass(frozen=True)
class FacilityHit:
    facility: FacilityView
    distance_m: int


@dataclass(frozen=True)
class ActivityView:
    facility_id: str
    facility_name: str
    title: str
    weekday: int  # 0 = Monday
    start: str
    end: str
    description: str = ""


@dataclass(frozen=True)
class HelpRequestView:
    id: Optional[int]  # None only while spooled in the outbox
    resident_id: Optional[str]
    status: str
    created_at: datetime
    escalation_level: int
    notified: tuple[str, ...]  # human labels: 儿子张建国, 值班话务员
    spooled: bool = False


@dataclass(frozen=True)
class HelpDeskView:
    """A help request as the operator desk sees it: the phone number unmasked, to ring back."""

    id: int
    resident_id: Optional[str]
    resident_name: Optional[str]
    channel: str
    text: str
    phone: Optional[str]  # the request's own number, else the resident's; NOT masked
    location: Optional[str]
    status: str  # open / acknowledged / resolved
    created_at: datetime
    acknowledged_at: Optional[datetime]
    acknowledged_by: Optional[str]
    resolved_at: Optional[datetime]
    resolved_by: Optional[str]
    note: Optional[str]
    escalation_level: int
    overdue: bool  # still open past the acknowledgement timeout


@dataclass(frozen=True)
class FamilyHelpView:
    """What a family member sees of a call for help: whether someone has answered it, and when."""

    id: int
    status: str
    created_at: datetime
    acknowledged_at: Optional[datetime]
    text: str


@dataclass(frozen=True)
class TicketView:
    id: int
    resident_id: str
    service_code: str
    service_name: str
    preferred_date: Optional[date]
    status: str
    created_at: datetime
    assignee: Optional[str] = None  # who does it: a name or team, as the desk typed it
    note: str = ""  # the request's note, then the desk's notes, one a line
    resident_name: Optional[str] = None


@dataclass(frozen=True)
class HealthResultView:
    reading_id: int
    measure: str
    value1: float
    value2: Optional[float]
    in_range: bool
    low: bool
    high: bool
    alerted: tuple[str, ...]


@dataclass(frozen=True)
class FamilyView:
    id: str
    name: str
    relation: str
    phone_masked: Optional[str]
    consent: bool


@dataclass(frozen=True)
class CallRequestView:
    id: int
    family: FamilyView
    status: str


@dataclass(frozen=True)
class HelpCall:
    """A call for help as it travels from the facade to the use-case and, during an outage, through
    the outbox (the same fields, written once)."""

    resident_id: Optional[str]  # the sender: a resident id, or an id nobody registered (kept as sender)
    text: str
    channel: str
    idempotency_key: str
    conversation_id: Optional[str] = None
    phone: Optional[str] = None  # where the hotline knows it
    location: Optional[str] = None

    def to_record(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "HelpCall":
        return cls(record["resident_id"], record["text"], record["channel"], record["idempotency_key"],
                   record.get("conversation_id"), record.get("phone"), record.get("location"))


@dataclass(frozen=True)
class HandoffRequest:
    """A conversation to put in front of an operator, as every channel asks for it (the action
    server, the assistant's safety net, the hotline). The services write the operator's one-line
    summary from it (services.handoff_summary), so the three callers never build one themselves."""

    conversation_id: str
    channel: str
    reason: str  # why: asked_for_human, two_fallbacks, rasa_down, emergency… (handoff_summary.REASON_ZH)
    transcript: tuple[Any, ...] = ()  # TranscriptLine or {role, text, ts[, intent]} dicts
    resident_id: Optional[str] = None  # None: the conversation id is tried as the resident's id
    emergency: bool = False  # an emergency was heard in this conversation
    caller: Optional[str] = None  # how to name a caller nobody registered (name or number)
    keys: str = ""  # keys pressed on the phone, in order


@dataclass(frozen=True)
class HandoffView:
    id: Optional[int]  # None only while spooled in the outbox
    conversation_id: str
    resident_id: Optional[str]
    channel: str
    reason: str
    summary: str
    transcript: tuple[dict[str, Any], ...]
    status: str
    taken_by: Optional[str]
    created_at: datetime
    spooled: bool = False


@dataclass(frozen=True)
class TurnView:
    id: int
    conversation_id: str
    resident_id: Optional[str]
    channel: str  # text / speaker / phone / web
    role: str  # elder / family / bot / operator / system
    actor: Optional[str]  # family:<account id> / operator:<operator id>; None for the elder and the bot
    text: str
    intent: Optional[str]
    created_at: datetime


@dataclass(frozen=True)
class ConversationSummary:
    conversation_id: str
    resident_id: Optional[str]
    resident_name: Optional[str]
    channel: str  # the last turn's
    last_text: str
    last_role: str
    last_at: datetime
    turns: int
    handoff_status: Optional[str]  # queued / taken while a handoff is open, else None


@dataclass(frozen=True)
class NotificationView:
    id: int
    recipient_kind: str  # family / operator
    recipient_id: Optional[str]  # family member or operator id; None = the whole duty desk
    recipient_label: str
    resident_id: Optional[str]
    kind: str  # help / health / escalation
    message: str
    help_request_id: Optional[int]
    created_at: datetime
    delivered_at: Optional[datetime]


@dataclass(frozen=True)
class OperatorView:
    id: str
    name: str
    role: str


@dataclass(frozen=True)
class LinkedResident:
    """A resident a family account is linked to, through one family_members row."""

    resident_id: str
    name: str
    relation: str
    consent: bool  # only with the resident's consent may the account act for them or see them
    family_member_id: str


@dataclass(frozen=True)
class AccountView:
    id: int
    username: str
    display_name: str
    kind: str  # family / operator
    role: str  # family / operator / supervisor (an operator account takes its operators row's role)
    operator_id: Optional[str]
    residents: tuple[LinkedResident, ...]  # family accounts only
    disabled: bool = False
    locked_until: Optional[datetime] = None  # set while sign-ins for this user name are refused


@dataclass(frozen=True)
class WebSessionView:
    account: AccountView
    csrf_token: str
    expires_at: datetime  # the idle expiry, never past the absolute one


@dataclass(frozen=True)
class DeviceEndpoint:
    """A device's own end-of-speech settings, in seconds; None: the gateway's configured default.
    A speaker in a noisy kitchen, or an elder who pauses long, needs other values than the rest."""

    trailing_silence_s: Optional[float] = None  # silence after speech that ends the utterance
    max_utterance_s: Optional[float] = None  # cap from the start of speech
    no_speech_timeout_s: Optional[float] = None  # nothing said this long: re-prompt


@dataclass(frozen=True)
class DeviceView:
    id: str
    kind: str  # wyoming / websocket
    uri: Optional[str]
    resident_id: str
    name: str
    enabled: bool
    last_seen_at: Optional[datetime]
    endpoint: DeviceEndpoint = DeviceEndpoint()
    wake_phrase: Optional[str] = None  # None: the recogniser language's default (voice.wake)


@dataclass(frozen=True)
class CallerView:
    """Who is ringing, as far as the caller's number tells: a resident, a family member (with the
    residents who consented to them acting), or nobody we know."""

    kind: str  # resident / family / unknown
    number: str
    resident_id: Optional[str] = None
    family_member_id: Optional[str] = None
    name: Optional[str] = None
    relation: Optional[str] = None  # for a family member: 儿子, 女儿 …
    residents: tuple[tuple[str, str], ...] = ()  # (resident id, name) a family member may act for
    address: Optional[str] = None  # the resident's, for a help call


@dataclass(frozen=True)
class CallRecordView:
    id: int
    sip_call_id: str
    caller_number: Optional[str]  # masked unless asked for by an operator view
    caller_kind: str
    resident_id: Optional[str]
    family_member_id: Optional[str]
    started_at: datetime
    ended_at: Optional[datetime]
    outcome: Optional[str]
    intents: tuple[str, ...]
    digits: str
    transcript: tuple[dict[str, Any], ...]
    help_request_id: Optional[int]
    handoff_id: Optional[int]
    transfer_target: Optional[str]
    audio_path: Optional[str]


@dataclass(frozen=True)
class ObservationView:
    """A complaint as recorded (services.observations): what was said, and whether and why people were told."""

    id: int
    resident_id: str
    resident_name: str
    kind: str  # services.observations.OBSERVATION_KINDS
    words: str  # the words that matched ("两条腿肿了")
    text: str  # the whole utterance
    body_part: Optional[str]
    days: Optional[int]
    after_medicine: bool
    worse: bool
    limits_walking: bool
    source: str
    created_at: datetime
    alerted: bool
    alert_reason: Optional[str]  # services.observations.ALERT_REASONS
    notified: tuple[str, ...]  # labels: 女儿李红霞, 值班话务员
    family_told: tuple[str, ...]  # the relations among them, for the reply: 女儿
    times_in_week: int  # reports of this kind in the 7 days up to this one, this one included
    clinic_name: Optional[str] = None  # the nearest 卫生室 within reach, for "去…看看"


@dataclass(frozen=True)
class CareSignalView:
    id: int
    resident_id: str
    kind: str  # lonely
    words: str
    text: str
    source: str
    offer: Optional[str]  # activity / family / visit
    created_at: datetime


@dataclass(frozen=True)
class CareOfferView:
    """The one real thing the assistant offers a lonely resident."""

    kind: str  # activity / family / visit
    activity: Optional[ActivityView] = None
    activity_day: Optional[date] = None  # today or tomorrow
    family: Optional[FamilyView] = None  # consenting, with a phone number: "给我儿子打电话" reaches them
    ticket: Optional[TicketView] = None  # the 探访关爱 visit (a 陪聊 home-service ticket)
    already_arranged: bool = False  # the visit ticket was open before this signal


@dataclass(frozen=True)
class LonelinessView:
    signal: CareSignalView
    offer: CareOfferView
    times_in_week: int  # signals in the 7 days up to this one, this one included
    on_desk: bool  # the desk's care list shows this resident now (services.observations.on_care_list)


@dataclass(frozen=True)
class CareDeskView:
    """A resident on the desk's care list: who, what they said, how often, when. Operators only (phone unmasked,
    to ring them back)."""

    resident_id: str
    resident_name: str
    village: str
    lives_alone: bool
    phone: Optional[str]
    reason: str  # repeated (2+ in the window) / lives_alone
    times: int  # signals in the window
    first_at: datetime
    last_at: datetime
    recent: tuple[CareSignalView, ...]  # newest first, up to five
    open_visit_ticket_id: Optional[int] = None  # a 陪聊 visit already on its way
