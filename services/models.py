"""Database tables (SQLAlchemy 2 typed declarative). Money is integer fen; times are aware UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from common.words import CHANNELS
from services.clock import as_utc

# Stable constraint names so Alembic batch mode on SQLite can find and alter them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out; SQLite keeps no offset, so normalise on both sides."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where aware UTC is required")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


FACILITY_KINDS = ("station", "community_centre", "day_care", "happiness_yard", "canteen", "health_station")
MEALS = ("breakfast", "lunch", "dinner")
ORDER_MODES = ("dine_in", "delivery")


class Facility(Base):
    __tablename__ = "facilities"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(120))
    county: Mapped[str] = mapped_column(String(40))
    township: Mapped[str] = mapped_column(String(40))
    village: Mapped[Optional[str]] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    hours: Mapped[str] = mapped_column(String(40))  # "08:00-17:30"
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    services: Mapped[list[Any]] = mapped_column(default=list)
    # A canteen usually belongs to a station or centre on the same premises.
    parent_id: Mapped[Optional[str]] = mapped_column(ForeignKey("facilities.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (CheckConstraint(f"kind IN {FACILITY_KINDS!r}", name="kind"),)


class MealService(Base):
    """One canteen serving one meal on one day; `booked` is the sum of active orders' portions."""

    __tablename__ = "meal_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    canteen_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"))
    service_date: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(10))
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    price_cents: Mapped[int] = mapped_column(Integer)
    subsidised_price_cents: Mapped[int] = mapped_column(Integer)
    serve_from: Mapped[str] = mapped_column(String(5))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    canteen: Mapped[Facility] = relationship()
    dishes: Mapped[list["Dish"]] = relationship(
        order_by="Dish.position", cascade="all, delete-orphan", back_populates="service"
    )

    __table_args__ = (
        UniqueConstraint("canteen_id", "service_date", "meal"),
        CheckConstraint(f"meal IN {MEALS!r}", name="meal"),
        # Last line of defence against overbooking, behind the conditional UPDATE.
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
    )


class Dish(Base):
    __tablename__ = "dishes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meal_service_id: Mapped[int] = mapped_column(ForeignKey("meal_services.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(40))
    tags: Mapped[list[Any]] = mapped_column(default=list)  # subset of soft / low_salt / low_sugar

    service: Mapped[MealService] = relationship(back_populates="dishes")


class Resident(Base):
    __tablename__ = "residents"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # r-0001; also the chat sender id
    name: Mapped[str] = mapped_column(String(40))
    gender: Mapped[str] = mapped_column(String(1))  # 男 / 女
    birth_date: Mapped[date] = mapped_column(Date)
    address: Mapped[str] = mapped_column(String(200))
    county: Mapped[str] = mapped_column(String(40))
    township: Mapped[str] = mapped_column(String(40))
    village: Mapped[str] = mapped_column(String(40))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    home_canteen_id: Mapped[Optional[str]] = mapped_column(ForeignKey("facilities.id"))
    home_station_id: Mapped[Optional[str]] = mapped_column(ForeignKey("facilities.id"))
    phone: Mapped[Optional[str]] = mapped_column(String(20))  # shown masked only
    # Salted SHA-256 of the ID card number; the raw number is never stored (PIPL art. 28).
    id_number_hash: Mapped[Optional[str]] = mapped_column(String(64))
    lives_alone: Mapped[bool] = mapped_column(Boolean, default=False)
    disability_level: Mapped[int] = mapped_column(Integer, default=0)  # 0 none .. 3 severe
    special_hardship: Mapped[bool] = mapped_column(Boolean, default=False)
    tts_rate: Mapped[Optional[int]] = mapped_column(Integer)
    tts_volume: Mapped[Optional[float]] = mapped_column(Float)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    home_canteen: Mapped[Optional[Facility]] = relationship(foreign_keys=[home_canteen_id])
    home_station: Mapped[Optional[Facility]] = relationship(foreign_keys=[home_station_id])

    __table_args__ = (
        CheckConstraint("gender IN ('男', '女')", name="gender"),
        CheckConstraint("disability_level BETWEEN 0 AND 3", name="disability_level"),
    )


class FamilyMember(Base):
    __tablename__ = "family_members"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # f-0001
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    relation: Mapped[str] = mapped_column(String(10))  # canonical: 儿子 女儿 老伴 …
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    # The resident's recorded consent for this person to act for them and be told about them.
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[Optional[datetime]] = mapped_column()
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # The family web account that signs in as this person (one account, one row per resident).
    account_id: Mapped[Optional[int]] = mapped_column(ForeignKey("accounts.id"), index=True)

    __table_args__ = (
        Index("uq_family_members_account_resident", "account_id", "resident_id", unique=True),
    )


class MealOrder(Base):
    __tablename__ = "meal_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    meal_service_id: Mapped[int] = mapped_column(ForeignKey("meal_services.id"), index=True)
    # Copied from the service so "one active order per resident, day and meal" can be an index.
    service_date: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(10))
    portions: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="booked")
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column()
    cancelled_at: Mapped[Optional[datetime]] = mapped_column()

    service: Mapped[MealService] = relationship()

    __table_args__ = (
        CheckConstraint("portions BETWEEN 1 AND 5", name="portions"),
        CheckConstraint(f"mode IN {ORDER_MODES!r}", name="mode"),
        CheckConstraint("status IN ('booked', 'cancelled')", name="status"),
        Index(
            "uq_meal_orders_active_per_meal",
            "resident_id",
            "service_date",
            "meal",
            unique=True,
            sqlite_where=text("status = 'booked'"),
            postgresql_where=text("status = 'booked'"),
        ),
    )


class SubsidyProgramme(Base):
    __tablename__ = "subsidy_programmes"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(Text)
    # Eligibility as data, read by services.eligibility; no per-programme code.
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class SubsidyApplication(Base):
    __tablename__ = "subsidy_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    programme_code: Mapped[str] = mapped_column(ForeignKey("subsidy_programmes.code"))
    status: Mapped[str] = mapped_column(String(12))
    applied_on: Mapped[date] = mapped_column(Date)
    decided_on: Mapped[Optional[date]] = mapped_column(Date)

    programme: Mapped[SubsidyProgramme] = relationship()
    payments: Mapped[list["SubsidyPayment"]] = relationship(order_by="SubsidyPayment.month")

    __table_args__ = (
        CheckConstraint("status IN ('submitted', 'reviewing', 'approved', 'rejected')", name="status"),
    )


class SubsidyPayment(Base):
    __tablename__ = "subsidy_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("subsidy_applications.id"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    paid_on: Mapped[Optional[date]] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("application_id", "month"),
        CheckConstraint("status IN ('paid', 'pending')", name="status"),
    )


class Operator(Base):
    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(12))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (CheckConstraint("role IN ('operator', 'supervisor')", name="role"),)


ACCOUNT_KINDS = ("family", "operator")


class Account(Base):
    """A web sign-in: a family member (linked to family_members rows, one per resident) or an operator
    (tied to an operators row, whose role it takes). Only the argon2id hash of the password is kept."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    operator_id: Mapped[Optional[str]] = mapped_column(ForeignKey("operators.id"), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column()
    # SHA-256 of the one-time reset code an operator handed out; the code itself is never stored.
    reset_code_hash: Mapped[Optional[str]] = mapped_column(String(255))
    reset_expires_at: Mapped[Optional[datetime]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    password_changed_at: Mapped[datetime] = mapped_column()
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    operator: Mapped[Optional[Operator]] = relationship()

    __table_args__ = (
        CheckConstraint(f"kind IN {ACCOUNT_KINDS!r}", name="kind"),
        CheckConstraint("(kind = 'family' AND operator_id IS NULL) OR (kind = 'operator' AND operator_id IS NOT NULL)",
                        name="operator_link"),
    )


class WebSession(Base):
    """A signed-in browser or API client. The id is the SHA-256 hex of the token; the token is never stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()  # idle expiry, never past created_at + the absolute limit
    revoked_at: Mapped[Optional[datetime]] = mapped_column()
    ip: Mapped[Optional[str]] = mapped_column(String(45))
    user_agent: Mapped[Optional[str]] = mapped_column(String(200))

    account: Mapped[Account] = relationship()


class LoginAttempt(Base):
    """Every sign-in (and reset-code) attempt, for rate limiting by user name and by address."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), index=True)
    ip: Mapped[Optional[str]] = mapped_column(String(45), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    ok: Mapped[bool] = mapped_column(Boolean)


class SpeakerDevice(Base):
    """A home speaker bound to one resident: a Wyoming satellite Yinling connects to, or a
    WebSocket device that connects to Yinling and names itself by its id."""

    __tablename__ = "speaker_devices"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # spk-0001
    kind: Mapped[str] = mapped_column(String(12))
    uri: Mapped[Optional[str]] = mapped_column(String(200), unique=True)  # tcp://host:10700 for satellites
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # End of speech for this device, in seconds; NULL: the gateway's configured default (services.devices
    # checks the bounds). Read when a voice session opens.
    trailing_silence_s: Mapped[Optional[float]] = mapped_column(Float)
    max_utterance_s: Mapped[Optional[float]] = mapped_column(Float)
    no_speech_timeout_s: Mapped[Optional[float]] = mapped_column(Float)
    # What wakes a satellite that asks Yinling to listen for its wake word ("小银小银"); NULL: the default
    # of the recogniser's language (voice.wake). Read when the satellite connects.
    wake_phrase: Mapped[Optional[str]] = mapped_column(String(40))

    __table_args__ = (CheckConstraint("kind IN ('wyoming', 'websocket')", name="kind"),)


class HelpRequest(Base):
    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable: a call for help from an unknown sender is stored anyway, never refused.
    resident_id: Mapped[Optional[str]] = mapped_column(ForeignKey("residents.id"), index=True)
    sender_id: Mapped[Optional[str]] = mapped_column(String(120))  # the raw id as the channel gave it
    conversation_id: Mapped[Optional[str]] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    location: Mapped[Optional[str]] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column()
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column()
    acknowledged_by: Mapped[Optional[str]] = mapped_column(String(60))
    resolved_at: Mapped[Optional[datetime]] = mapped_column()
    resolved_by: Mapped[Optional[str]] = mapped_column(String(60))
    note: Mapped[Optional[str]] = mapped_column(Text)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    last_escalated_at: Mapped[Optional[datetime]] = mapped_column()
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)

    __table_args__ = (
        CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name="status"),
        CheckConstraint(f"channel IN {CHANNELS!r}", name="channel"),
        Index("ix_help_requests_status", "status"),
    )


class HealthReading(Base):
    __tablename__ = "health_readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    measure: Mapped[str] = mapped_column(String(12))
    value1: Mapped[float] = mapped_column(Float)
    value2: Mapped[Optional[float]] = mapped_column(Float)
    in_range: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column()
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)


class HealthThreshold(Base):
    """Normal range per measure; a row with resident_id set overrides the default (NULL) row."""

    __tablename__ = "health_thresholds"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure: Mapped[str] = mapped_column(String(12))
    resident_id: Mapped[Optional[str]] = mapped_column(ForeignKey("residents.id"))
    low1: Mapped[Optional[float]] = mapped_column(Float)
    high1: Mapped[Optional[float]] = mapped_column(Float)
    low2: Mapped[Optional[float]] = mapped_column(Float)  # second value: diastolic for bp
    high2: Mapped[Optional[float]] = mapped_column(Float)

    __table_args__ = (UniqueConstraint("measure", "resident_id"),)


class Notification(Base):
    """An alert waiting for a family member or the operator desk; how people get told."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_kind: Mapped[str] = mapped_column(String(10))  # family / operator
    recipient_id: Mapped[Optional[str]] = mapped_column(String(20))  # NULL: the whole duty desk
    recipient_label: Mapped[str] = mapped_column(String(60))
    resident_id: Mapped[Optional[str]] = mapped_column(ForeignKey("residents.id"))
    kind: Mapped[str] = mapped_column(String(12))  # help / health / escalation
    message: Mapped[str] = mapped_column(Text)
    help_request_id: Mapped[Optional[int]] = mapped_column(ForeignKey("help_requests.id"), index=True)
    health_reading_id: Mapped[Optional[int]] = mapped_column(ForeignKey("health_readings.id"), index=True)
    created_at: Mapped[datetime] = mapped_column()
    delivered_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (
        CheckConstraint("recipient_kind IN ('family', 'operator')", name="recipient_kind"),
        CheckConstraint("kind IN ('help', 'health', 'escalation')", name="kind"),
    )


class ServiceType(Base):
    __tablename__ = "service_types"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(20))


class ServiceTicket(Base):
    __tablename__ = "service_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("service_types.code"))
    preferred_date: Mapped[Optional[date]] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    assignee: Mapped[Optional[str]] = mapped_column(String(60))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()

    service_type: Mapped[ServiceType] = relationship()
    resident: Mapped[Resident] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('open', 'assigned', 'done', 'cancelled')", name="status"),
    )


class Activity(Base):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday, as date.weekday()
    start_time: Mapped[str] = mapped_column(String(5))
    end_time: Mapped[str] = mapped_column(String(5))
    description: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    facility: Mapped[Facility] = relationship()

    __table_args__ = (
        UniqueConstraint("facility_id", "title", "weekday", "start_time"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
    )


class CallRequest(Base):
    __tablename__ = "call_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    family_member_id: Mapped[str] = mapped_column(ForeignKey("family_members.id"))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    created_at: Mapped[datetime] = mapped_column()
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)

    family_member: Mapped[FamilyMember] = relationship()

    __table_args__ = (CheckConstraint("status IN ('queued', 'done')", name="status"),)


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(120))
    resident_id: Mapped[Optional[str]] = mapped_column(ForeignKey("residents.id"))
    channel: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[list[Any]] = mapped_column(default=list)  # [{role, text, ts}]
    status: Mapped[str] = mapped_column(String(10), default="queued")
    taken_by: Mapped[Optional[str]] = mapped_column(ForeignKey("operators.id"))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    # Optimistic lock: concurrent appends to the JSON transcript must not lose messages.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'taken', 'closed')", name="status"),
        Index(
            "uq_handoffs_open_per_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
    )


class CallRecord(Base):
    """One hotline call: who rang, what they wanted, how it ended. The caller's audio is kept
    only where configured, and only until `audio_expires_at`."""

    __tablename__ = "call_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    sip_call_id: Mapped[str] = mapped_column(String(120))
    caller_number: Mapped[Optional[str]] = mapped_column(String(40))  # shown masked except to operators
    caller_kind: Mapped[str] = mapped_column(String(10))
    resident_id: Mapped[Optional[str]] = mapped_column(ForeignKey("residents.id"), index=True)
    family_member_id: Mapped[Optional[str]] = mapped_column(ForeignKey("family_members.id"))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[Optional[datetime]] = mapped_column()
    outcome: Mapped[Optional[str]] = mapped_column(String(20))
    intents: Mapped[list[Any]] = mapped_column(default=list)
    digits: Mapped[str] = mapped_column(String(40), default="")
    transcript: Mapped[list[Any]] = mapped_column(default=list)  # [{role, text, ts}]
    help_request_id: Mapped[Optional[int]] = mapped_column(ForeignKey("help_requests.id"))
    handoff_id: Mapped[Optional[int]] = mapped_column(ForeignKey("handoffs.id"))
    transfer_target: Mapped[Optional[str]] = mapped_column(String(200))
    audio_path: Mapped[Optional[str]] = mapped_column(String(300))
    audio_expires_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (
        CheckConstraint("caller_kind IN ('resident', 'family', 'unknown')", name="caller_kind"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('completed', 'caller_hung_up', 'transferred', 'transfer_failed', "
            "'emergency', 'timed_out', 'rejected', 'failed')", name="outcome"),
        UniqueConstraint("sip_call_id", name="uq_call_records_sip_call_id"),
    )


TURN_CHANNELS = CHANNELS
TURN_ROLES = ("elder", "family", "bot", "operator", "system")


class ConversationTurn(Base):
    """One message in a conversation on any channel, as the operator console shows and searches it.
    ID numbers are stripped before storing (services.conversations)."""

    __tablename__ = "conversation_turns"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(120), index=True)
    resident_id: Mapped[Optional[str]] = mapped_column(ForeignKey("residents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    role: Mapped[str] = mapped_column(String(12))
    actor: Mapped[Optional[str]] = mapped_column(String(60))  # family:<account id> / operator:<id>; NULL elder, bot
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[Optional[str]] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (
        CheckConstraint(f"channel IN {TURN_CHANNELS!r}", name="channel"),
        CheckConstraint(f"role IN {TURN_ROLES!r}", name="role"),
    )


class AuditEntry(Base):
    """Who did what. Details are scrubbed: no ID numbers, phones masked (services.privacy)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    ts: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(120))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class HealthObservation(Base):
    """A complaint a resident told (腿肿了好几天了, 吃了降压药以后就恶心): not a reading, not an emergency.
    Kept so that a complaint that lasts, comes back or follows a medicine reaches the family and the
    desk (services.observations has the rules); `alerted` says whether this one did."""

    __tablename__ = "health_observations"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"))
    kind: Mapped[str] = mapped_column(String(20))  # zhtext.symptoms.SYMPTOM_KINDS
    words: Mapped[str] = mapped_column(String(200))  # the words that matched ("两条腿肿了")
    text: Mapped[str] = mapped_column(Text, default="")  # the whole utterance, ID numbers stripped
    body_part: Mapped[Optional[str]] = mapped_column(String(10))
    days: Mapped[Optional[int]] = mapped_column(Integer)  # how long, as they said it; NULL: not said
    after_medicine: Mapped[bool] = mapped_column(Boolean, default=False)
    worse: Mapped[bool] = mapped_column(Boolean, default=False)
    limits_walking: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(40))  # the channel it was said on: speaker, phone, text, web
    created_at: Mapped[datetime] = mapped_column()
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_reason: Mapped[Optional[str]] = mapped_column(String(40))  # services.observations.ALERT_REASONS
    notified: Mapped[list[Any]] = mapped_column(default=list)  # labels of who was told (女儿李红霞, 值班话务员)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)

    __table_args__ = (
        # "the same complaint three times in seven days" reads exactly this
        Index("ix_health_observations_resident_kind_created", "resident_id", "kind", "created_at"),
        Index("ix_health_observations_created_at", "created_at"),
    )


CARE_SIGNAL_KINDS = ("lonely",)


class CareSignal(Base):
    """Something a resident said that a carer should hear of, though nothing is wrong with their body:
    "家里就我一个人，闷得慌". Shown to the desk when it recurs (services.observations); never an alarm."""

    __tablename__ = "care_signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"))
    kind: Mapped[str] = mapped_column(String(12))
    words: Mapped[str] = mapped_column(String(200))  # the words that matched ("孩子们都不来看我")
    text: Mapped[str] = mapped_column(Text, default="")  # the whole utterance, ID numbers stripped
    source: Mapped[str] = mapped_column(String(40))
    offer: Mapped[Optional[str]] = mapped_column(String(20))  # what the assistant offered: activity / family / visit
    created_at: Mapped[datetime] = mapped_column()
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)

    __table_args__ = (
        # written out: a one-element tuple's repr ("('lonely',)") is not SQL
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in CARE_SIGNAL_KINDS) + ")", name="kind"),
        Index("ix_care_signals_resident_created", "resident_id", "created_at"),
        Index("ix_care_signals_created_at", "created_at"),
    )
