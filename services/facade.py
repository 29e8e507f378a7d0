"""`Services`: the one object the action server, gateway and tools call.

Each method runs one use-case in its own transaction (commit on success, rollback on error),
turns database outages into ServiceUnavailable, and retries once or twice when a concurrent
writer won a race (unique index or version check), so callers see the domain answer instead.
Help requests and handoffs fall back to the local outbox when the database is down.

Keep it this way: each use-case is a plain function of a Session in its own module that returns
frozen views (services.types), never ORM objects, and every one goes through `_run`, the one place
for transactions, races and outages. A method here is a line or two; requests with many fields
travel as one typed object (HelpCall, HandoffRequest), not as a parameter list written at each layer.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from common.words import ACK_TIMEOUT
from services import accounts as accounts_uc
from services import activities as activities_uc
from services import audit as audit_uc
from services import calls as calls_uc
from services import canteens as canteens_uc
from services import care_signals as care_signals_uc
from services import config
from services import conversations as conversations_uc
from services import devices as devices_uc
from services import facilities as facilities_uc
from services import family as family_uc
from services import feed as feed_uc
from services import handoffs as handoffs_uc
from services import health as health_uc
from services import help as help_uc
from services import meals as meals_uc
from services import notifications as notifications_uc
from services import observations as observations_uc
from services import residents as residents_uc
from services import subsidies as subsidies_uc
from services import tickets as tickets_uc
from services.clock import as_utc, local_day, utcnow
from services.db import make_engine, session_factory, unit_of_work
from services.errors import Conflict, ServiceError, ServiceUnavailable
from services.handoff_summary import summarise
from services.migrate import upgrade
from services.outbox import Outbox
from services.types import (
    AccountView,
    ActivityView,
    ApplicationView,
    CallerView,
    CallRecordView,
    CallRequestView,
    CanteenOrderView,
    CareDeskView,
    ConversationSummary,
    DeviceEndpoint,
    DeviceView,
    EligibilityView,
    FacilityHit,
    FacilityView,
    FamilyHelpView,
    FamilyView,
    HandoffRequest,
    HandoffView,
    HealthResultView,
    HelpCall,
    HelpDeskView,
    HelpRequestView,
    LonelinessView,
    MealOption,
    MealOrderView,
    MealQuote,
    NotificationView,
    ObservationView,
    OperatorView,
    ProgrammeView,
    ResidentView,
    TicketView,
    TurnView,
    WebSessionView,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
RACE_RETRIES = 10


class Services:
    def __init__(
        self,
        url: Optional[str] = None,
        *,
        clock: Optional[Callable[[], datetime]] = None,
        outbox: Outbox | str | Path | None = None,
        engine: Optional[Engine] = None,
    ) -> None:
        """`clock` returns the current aware time (tests fix it); `outbox` defaults to config."""
        self.engine = engine if engine is not None else make_engine(url or config.database_url())
        self._sessions = session_factory(self.engine)
        self._clock = clock or utcnow
        self.outbox = outbox if isinstance(outbox, Outbox) else Outbox(outbox or config.outbox_path())

    @classmethod
    def from_engine(
        cls,
        engine: Engine,
        *,
        clock: Optional[Callable[[], datetime]] = None,
        outbox: Outbox | str | Path | None = None,
    ) -> "Services":
        return cls(engine=engine, clock=clock, outbox=outbox)

    def close(self) -> None:
        self.engine.dispose()

    # --- time -----------------------------------------------------------------------------------
    def now(self) -> datetime:
        return as_utc(self._clock())

    def today(self) -> date:
        """The residents' calendar day (China time), which is what 'today' means to them."""
        return local_day(self.now())

    # --- transactions ---------------------------------------------------------------------------
    def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        last: Exception | None = None
        for attempt in range(RACE_RETRIES):
            if attempt:
                time.sleep(random.uniform(0, 0.005 * attempt))  # jitter, so racers do not collide again
            session: Session = self._sessions()
            try:
                with unit_of_work(self.engine), session.begin():
                    return fn(session, *args, **kwargs)
            except ServiceError:
                raise
            except (IntegrityError, StaleDataError) as exc:
                # A concurrent writer got there first; rerunning sees its row and answers from it.
                last = exc
            except (OperationalError, InterfaceError, PoolTimeout) as exc:
                cause = getattr(exc, "orig", None) or exc
                raise ServiceUnavailable(f"database unavailable: {type(cause).__name__}") from exc
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    raise ServiceUnavailable("database connection lost") from exc
                raise
            finally:
                session.close()
        raise Conflict(f"gave up after {RACE_RETRIES} concurrent conflicts") from last

    def ping(self) -> None:
        """Raises ServiceUnavailable unless the database answers."""
        self._run(lambda session: session.execute(text("SELECT 1")).scalar_one())

    def migrate(self) -> None:
        """Migrate to the newest schema with Alembic (no demo data: what production mode starts with)."""
        try:
            with self.engine.begin() as connection:
                upgrade(connection=connection)
        except (OperationalError, InterfaceError) as exc:
            raise ServiceUnavailable("database unavailable for migration") from exc

    def create_all_and_seed(self, today: Optional[date] = None) -> None:
        """Migrate to the newest schema with Alembic, then add the demo data (idempotent)."""
        from services.seed import seed

        self.migrate()
        self._run(seed, today or self.today())

    # --- residents ------------------------------------------------------------------------------
    def get_resident(self, resident_id: str) -> ResidentView:
        return self._run(residents_uc.get_resident, resident_id, today=self.today())

    # --- meals ----------------------------------------------------------------------------------
    def menu(self, canteen_id: Optional[str], day: date, meal: Optional[str] = None,
             resident_id: Optional[str] = None) -> list[MealOption]:
        return self._run(meals_uc.menu, canteen_id, day, meal, resident_id)

    def quote_meal(self, resident_id: str, day: date, meal: str, portions: int, canteen_id: Optional[str] = None,
                   mode: Optional[str] = None, today: Optional[date] = None) -> MealQuote:
        return self._run(meals_uc.quote_meal, resident_id, day, meal, portions, canteen_id, mode, today or self.today())

    def book_meal(self, resident_id: str, day: date, meal: str, portions: int, canteen_id: Optional[str] = None,
                  mode: Optional[str] = None, *, idempotency_key: str, actor: str,
                  today: Optional[date] = None) -> MealOrderView:
        return self._run(meals_uc.book_meal, resident_id, day, meal, portions, canteen_id, mode,
                         idempotency_key=idempotency_key, actor=actor, today=today or self.today(), now=self.now())

    def upcoming_orders(self, resident_id: str, today: Optional[date] = None) -> list[MealOrderView]:
        return self._run(meals_uc.upcoming_orders, resident_id, today or self.today())

    def cancel_order(self, resident_id: str, order_id: int, actor: str, today: Optional[date] = None) -> MealOrderView:
        return self._run(meals_uc.cancel_order, resident_id, order_id, actor, today or self.today(), self.now())

    def set_capacity(self, canteen_id: str, day: date, meal: str, capacity: int) -> MealOption:
        return self._run(meals_uc.set_capacity, canteen_id, day, meal, capacity)

    # --- canteens (operator console) -------------------------------------------------------------
    def canteens(self) -> list[FacilityView]:
        return self._run(canteens_uc.canteens)

    def canteen_orders(self, canteen_id: str, day: date, include_cancelled: bool = True) -> list[CanteenOrderView]:
        return self._run(canteens_uc.canteen_orders, canteen_id, day, include_cancelled)

    # --- subsidies ------------------------------------------------------------------------------
    def programmes(self) -> list[ProgrammeView]:
        return self._run(subsidies_uc.programmes)

    def eligibility(self, resident_id: str, programme_code: Optional[str] = None) -> list[EligibilityView]:
        return self._run(subsidies_uc.eligibility, resident_id, programme_code, self.today())

    def subsidy_status(self, resident_id: str, programme_code: Optional[str] = None) -> list[ApplicationView]:
        return self._run(subsidies_uc.subsidy_status, resident_id, programme_code)

    # --- facilities and activities --------------------------------------------------------------
    def nearest_facilities(self, resident_id: str, kind: Optional[str] = None, service: Optional[str] = None,
                           limit: int = 3) -> list[FacilityHit]:
        return self._run(facilities_uc.nearest_facilities, resident_id, kind, service, limit)

    def facilities(self, kind: Optional[str] = None) -> list[FacilityView]:
        return self._run(facilities_uc.facilities, kind)

    def find_facility(self, text: str) -> Optional[FacilityView]:
        return self._run(facilities_uc.find_facility, text)

    def get_facility(self, facility_id: str) -> FacilityView:
        return self._run(facilities_uc.get_facility, facility_id)

    def activities(self, resident_id: Optional[str], weekday: Optional[int] = None,
                   facility_id: Optional[str] = None) -> list[ActivityView]:
        return self._run(activities_uc.activities, resident_id, weekday, facility_id)

    # --- help -----------------------------------------------------------------------------------
    def raise_help(self, resident_id: Optional[str], text: str, channel: str, idempotency_key: str,
                   conversation_id: Optional[str] = None, phone: Optional[str] = None,
                   location: Optional[str] = None) -> HelpRequestView:
        now = self.now()
        call = HelpCall(resident_id, text, channel, idempotency_key, conversation_id, phone, location)
        try:
            return self._run(help_uc.raise_help, call, now=now)
        except ServiceUnavailable:
            # The call for help must survive the outage: spool it durably and say so.
            self.outbox.append("help", {**call.to_record(), "created_at": now.isoformat()})
            log.warning("database down: help request %s spooled to the outbox", idempotency_key)
            return HelpRequestView(id=None, resident_id=resident_id, status="open", created_at=now,
                                   escalation_level=0, notified=(), spooled=True)

    def get_help(self, request_id: int) -> HelpRequestView:
        return self._run(help_uc.get_help, request_id)

    def acknowledge_help(self, request_id: int, actor: str) -> HelpRequestView:
        return self._run(help_uc.acknowledge_help, request_id, actor, now=self.now())

    def resolve_help(self, request_id: int, actor: str, note: str) -> HelpRequestView:
        return self._run(help_uc.resolve_help, request_id, actor, note, now=self.now())

    def open_help_requests(self) -> list[HelpRequestView]:
        return self._run(help_uc.open_help_requests)

    def escalate_overdue(self, now: datetime, ack_timeout: timedelta = ACK_TIMEOUT) -> list[HelpRequestView]:
        return self._run(help_uc.escalate_overdue, now, ack_timeout)

    def help_requests_for_desk(self, include_resolved: bool = False, limit: int = 100,
                               ack_timeout: timedelta = ACK_TIMEOUT) -> list[HelpDeskView]:
        """Operators only: phone numbers unmasked."""
        return self._run(help_uc.help_requests_for_desk, include_resolved, limit, now=self.now(),
                         ack_timeout=ack_timeout)

    def help_changes_after(self, after: datetime, ack_timeout: timedelta = ACK_TIMEOUT,
                           limit: int = 500) -> list[HelpDeskView]:
        return self._run(help_uc.help_changes_after, after, now=self.now(), ack_timeout=ack_timeout, limit=limit)

    def recent_help(self, resident_id: str, limit: int = 10) -> list[FamilyHelpView]:
        return self._run(help_uc.recent_help, resident_id, limit)

    # --- tickets --------------------------------------------------------------------------------
    def service_types(self) -> list[tuple[str, str]]:
        return self._run(tickets_uc.service_types)

    def create_ticket(self, resident_id: str, service_code: str, preferred_date: Optional[date], note: str,
                      idempotency_key: str, actor: str) -> TicketView:
        return self._run(tickets_uc.create_ticket, resident_id, service_code, preferred_date, note,
                         idempotency_key, actor, now=self.now())

    def open_tickets(self, resident_id: str) -> list[TicketView]:
        return self._run(tickets_uc.open_tickets, resident_id)

    def list_tickets(self, status: Optional[str] = None, limit: int = 100) -> list[TicketView]:
        return self._run(tickets_uc.list_tickets, status, limit)

    def assign_ticket(self, ticket_id: int, assignee: str, actor: str) -> TicketView:
        return self._run(tickets_uc.assign_ticket, ticket_id, assignee, actor, now=self.now())

    def update_ticket(self, ticket_id: int, status: str, note: str, actor: str) -> TicketView:
        return self._run(tickets_uc.update_ticket, ticket_id, status, note, actor, now=self.now())

    # --- health ---------------------------------------------------------------------------------
    def record_health(self, resident_id: str, measure: str, value1: float, value2: Optional[float],
                      idempotency_key: str, source: str) -> HealthResultView:
        return self._run(health_uc.record_health, resident_id, measure, value1, value2, idempotency_key, source,
                         now=self.now())

    # --- complaints and care signals (services.observations, services.care_signals) ---------------
    def record_symptom(self, resident_id: str, kind: str, words: str, *, text: str = "",
                       body_part: Optional[str] = None, days: Optional[int] = None, after_medicine: bool = False,
                       worse: bool = False, limits_walking: bool = False, source: str = "text",
                       idempotency_key: str) -> ObservationView:
        """Store a complaint; alerts consenting family and the desk by services.observations' rules."""
        return self._run(observations_uc.record_symptom, resident_id, kind, words, text=text, body_part=body_part,
                         days=days, after_medicine=after_medicine, worse=worse, limits_walking=limits_walking,
                         source=source, idempotency_key=idempotency_key, now=self.now())

    def observations_for_desk(self, days: int = 7, alerted_only: bool = True, limit: int = 100) -> list[ObservationView]:
        return self._run(observations_uc.observations_for_desk, now=self.now(), days=days, alerted_only=alerted_only,
                         limit=limit)

    def resident_observations(self, resident_id: str, limit: int = 50) -> list[ObservationView]:
        return self._run(observations_uc.resident_observations, resident_id, limit=limit)

    def record_loneliness(self, resident_id: str, words: str, *, text: str = "", cue_kind: str = "alone",
                          relation: Optional[str] = None, source: str = "text",
                          idempotency_key: str) -> LonelinessView:
        """Store a care signal and choose one offer (services.care_signals); never an alert."""
        return self._run(care_signals_uc.record_loneliness, resident_id, words, text=text, cue_kind=cue_kind,
                         relation=relation, source=source, idempotency_key=idempotency_key, now=self.now())

    def care_signals_for_desk(self, days: int = 7, limit: int = 100) -> list[CareDeskView]:
        """Operators only: phone numbers unmasked."""
        return self._run(care_signals_uc.care_signals_for_desk, now=self.now(), days=days, limit=limit)

    # --- family ---------------------------------------------------------------------------------
    def family_members(self, resident_id: str) -> list[FamilyView]:
        return self._run(family_uc.family_members, resident_id)

    def acting_relative(self, account_id: int, resident_id: str) -> Optional[FamilyView]:
        return self._run(family_uc.acting_relative, account_id, resident_id)

    def request_family_call(self, resident_id: str, relation: Optional[str], idempotency_key: str) -> CallRequestView:
        return self._run(family_uc.request_family_call, resident_id, relation, idempotency_key, now=self.now())

    # --- handoffs -------------------------------------------------------------------------------
    def queue_handoff(self, request: HandoffRequest) -> HandoffView:
        now = self.now()
        try:
            return self._run(handoffs_uc.queue_handoff, request, now=now)
        except ServiceUnavailable:
            entries = [handoffs_uc.normalise_entry(e, now) for e in request.transcript]
            summary = summarise(request, None)  # the resident's name is in the database that is away
            self.outbox.append("handoff", {
                "conversation_id": request.conversation_id, "resident_id": request.resident_id,
                "channel": request.channel, "reason": request.reason, "transcript": entries, "summary": summary,
                "created_at": now.isoformat(),
            })
            log.warning("database down: handoff for %s spooled to the outbox", request.conversation_id)
            return HandoffView(id=None, conversation_id=request.conversation_id, resident_id=request.resident_id,
                               channel=request.channel, reason=request.reason, summary=summary,
                               transcript=tuple(entries), status="queued", taken_by=None, created_at=now,
                               spooled=True)

    def open_handoff(self, conversation_id: str) -> Optional[HandoffView]:
        return self._run(handoffs_uc.open_handoff, conversation_id)

    def append_handoff_message(self, conversation_id: str, role: str, text: str) -> HandoffView:
        return self._run(handoffs_uc.append_handoff_message, conversation_id, role, text, now=self.now())

    def list_handoffs(self, status: Optional[str] = None) -> list[HandoffView]:
        return self._run(handoffs_uc.list_handoffs, status)

    def get_handoff(self, handoff_id: int) -> HandoffView:
        return self._run(handoffs_uc.get_handoff, handoff_id)

    def take_handoff(self, handoff_id: int, operator_id: str) -> HandoffView:
        return self._run(handoffs_uc.take_handoff, handoff_id, operator_id, now=self.now())

    def close_handoff(self, handoff_id: int, operator_id: str) -> HandoffView:
        return self._run(handoffs_uc.close_handoff, handoff_id, operator_id, now=self.now())

    def operators(self) -> list[OperatorView]:
        return self._run(handoffs_uc.operators)

    # --- speaker devices ------------------------------------------------------------------------
    def register_device(self, device_id: str, kind: str, uri: Optional[str], resident_id: str, name: str,
                        actor: str = "system") -> DeviceView:
        return self._run(devices_uc.register_device, device_id, kind, uri, resident_id, name, actor, now=self.now())

    def get_device(self, device_id: str) -> DeviceView:
        return self._run(devices_uc.get_device, device_id)

    def devices(self, kind: Optional[str] = None, enabled_only: bool = True) -> list[DeviceView]:
        return self._run(devices_uc.list_devices, kind, enabled_only)

    def set_device_enabled(self, device_id: str, enabled: bool, actor: str = "system") -> DeviceView:
        return self._run(devices_uc.set_enabled, device_id, enabled, actor, now=self.now())

    def remove_device(self, device_id: str, actor: str = "system") -> DeviceView:
        return self._run(devices_uc.remove_device, device_id, actor, now=self.now())

    def set_device_endpoint(self, device_id: str, endpoint: DeviceEndpoint, actor: str = "system") -> DeviceView:
        return self._run(devices_uc.set_endpoint, device_id, endpoint, actor, now=self.now())

    def set_device_wake_phrase(self, device_id: str, phrase: Optional[str], actor: str = "system") -> DeviceView:
        return self._run(devices_uc.set_wake_phrase, device_id, phrase, actor, now=self.now())

    def device_seen(self, device_id: str) -> None:
        self._run(devices_uc.device_seen, device_id, now=self.now())

    # --- web accounts -------------------------------------------------------------------------
    def _run_outcome(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """For use-cases that return their error so that what they recorded (a failed attempt) is committed."""
        result = self._run(fn, *args, **kwargs)
        if isinstance(result, ServiceError):
            raise result
        return result

    def create_account(self, username: str, password: str, kind: str, display_name: str, *,
                       family_member_ids: Sequence[str] = (), operator_id: Optional[str] = None,
                       actor: str = "system") -> AccountView:
        return self._run(accounts_uc.create_account, username, password, kind, display_name,
                         family_member_ids=tuple(family_member_ids), operator_id=operator_id, actor=actor,
                         now=self.now())

    def authenticate(self, username: str, password: str, ip: Optional[str]) -> AccountView:
        """InvalidCredentials (unknown user or wrong password alike), TooManyAttempts, AccountDisabled."""
        return self._run_outcome(accounts_uc.authenticate, username, password, ip, now=self.now())

    def start_web_session(self, account_id: int, ip: Optional[str],
                          user_agent: Optional[str]) -> tuple[str, WebSessionView]:
        """(the raw token, to hand to the client once; only its SHA-256 is stored, and the view)."""
        return self._run(accounts_uc.start_web_session, account_id, ip, user_agent, now=self.now())

    def web_session(self, token: str) -> WebSessionView:
        """SessionInvalid when unknown, revoked or expired; slides the idle expiry."""
        return self._run(accounts_uc.web_session, token, now=self.now())

    def end_web_session(self, token: str) -> None:
        self._run(accounts_uc.end_web_session, token, now=self.now())

    def end_all_web_sessions(self, account_id: int, actor: Optional[str] = None) -> int:
        return self._run(accounts_uc.end_all_web_sessions, account_id, now=self.now(), actor=actor)

    def issue_password_reset(self, username: str, operator_id: str) -> str:
        return self._run(accounts_uc.issue_password_reset, username, operator_id, now=self.now())

    def reset_password(self, username: str, code: str, new_password: str) -> AccountView:
        return self._run_outcome(accounts_uc.reset_password, username, code, new_password, now=self.now())

    def change_password(self, account_id: int, old_password: str, new_password: str, *,
                        keep_token: Optional[str] = None) -> None:
        """Signs the account out everywhere but the session of `keep_token` (the one asking)."""
        self._run_outcome(accounts_uc.change_password, account_id, old_password, new_password, now=self.now(),
                          keep_token=keep_token)

    def set_account_disabled(self, account_id: int, disabled: bool, actor: str) -> AccountView:
        return self._run(accounts_uc.set_account_disabled, account_id, disabled, actor, now=self.now())

    def account(self, account_id: int) -> AccountView:
        return self._run(accounts_uc.get_account, account_id)

    def accounts(self, kind: Optional[str] = None) -> list[AccountView]:
        return self._run(accounts_uc.list_accounts, kind)

    def may_act_for(self, account_id: int, resident_id: str) -> bool:
        return self._run(accounts_uc.may_act_for, account_id, resident_id)

    def purge_auth_records(self, keep: timedelta = timedelta(days=30)) -> int:
        return self._run(accounts_uc.purge_auth_records, now=self.now(), keep=keep)

    # --- hotline calls --------------------------------------------------------------------------
    def identify_caller(self, number: str) -> CallerView:
        return self._run(calls_uc.identify_caller, number)

    def start_call(self, sip_call_id: str, caller: CallerView) -> CallRecordView:
        return self._run(calls_uc.start_call, sip_call_id, caller, now=self.now())

    def update_call(self, call_id: int, **changes: Any) -> CallRecordView:
        return self._run(calls_uc.update_call, call_id, **changes)

    def finish_call(self, call_id: int, outcome: str, *, intents: list[str], digits: str,
                    transcript: list[dict[str, Any]], audio_path: Optional[str] = None,
                    audio_retention: timedelta = timedelta(days=30)) -> CallRecordView:
        return self._run(calls_uc.finish_call, call_id, outcome, intents=intents, digits=digits,
                         transcript=transcript, audio_path=audio_path, audio_retention=audio_retention,
                         now=self.now())

    def calls(self, resident_id: Optional[str] = None, limit: int = 50, unmasked: bool = False) -> list[CallRecordView]:
        return self._run(calls_uc.list_calls, resident_id, limit, unmasked)

    def get_call(self, call_id: int, unmasked: bool = False) -> CallRecordView:
        return self._run(calls_uc.get_call, call_id, unmasked)

    def purge_call_audio(self) -> int:
        return self._run(calls_uc.purge_expired_audio, now=self.now())

    # --- conversation log -----------------------------------------------------------------------
    def log_turn(self, conversation_id: str, resident_id: Optional[str], channel: str, role: str, text: str, *,
                 actor: Optional[str] = None, intent: Optional[str] = None) -> TurnView:
        return self._run(conversations_uc.log_turn, conversation_id, resident_id, channel, role, text,
                         actor=actor, intent=intent, now=self.now())

    def log_exchange(self, conversation_id: str, resident_id: Optional[str], channel: str,
                     turns: Sequence[tuple[str, str, Optional[str]]]) -> list[TurnView]:
        """A chat turn's lines, (role, text, actor) each, in one transaction."""
        return self._run(conversations_uc.log_exchange, conversation_id, resident_id, channel, list(turns),
                         now=self.now())

    def log_exchanges(self, exchanges: Sequence[tuple[str, Optional[str], str,
                                                       Sequence[tuple[str, str, Optional[str]]]]]) -> list[list[TurnView]]:
        """Several chat turns, (conversation id, resident id, channel, lines) each, in one transaction:
        all are logged or none (a caller with one bad exchange among them writes them one by one)."""
        return self._run(conversations_uc.log_exchanges, [(c, r, ch, list(t)) for c, r, ch, t in exchanges],
                         now=self.now())

    def conversation(self, conversation_id: str, limit: int = 200) -> list[TurnView]:
        return self._run(conversations_uc.conversation, conversation_id, limit)

    def live_conversations(self, since: datetime, limit: int = 100) -> list[ConversationSummary]:
        return self._run(conversations_uc.live_conversations, since, limit)

    def search_conversations(self, q: Optional[str] = None, resident_id: Optional[str] = None,
                             channel: Optional[str] = None, since: Optional[datetime] = None,
                             until: Optional[datetime] = None, limit: int = 50) -> list[ConversationSummary]:
        return self._run(conversations_uc.search_conversations, q, resident_id, channel, since, until, limit)

    def feed_marks(self) -> tuple[int, int]:
        """(last notification id, last turn id): where a live feed starts."""
        return self._run(feed_uc.feed_marks)

    def turns_after(self, after_id: int, limit: int = 500) -> list[TurnView]:
        return self._run(conversations_uc.turns_after, after_id, limit)

    # --- notifications and audit ----------------------------------------------------------------
    def pending_notifications(self, recipient_kind: Optional[str] = None) -> list[NotificationView]:
        return self._run(notifications_uc.pending_notifications, recipient_kind)

    def notifications_after(self, after_id: int, recipient_kind: Optional[str] = None,
                            limit: int = 500) -> list[NotificationView]:
        return self._run(notifications_uc.notifications_after, after_id, recipient_kind, limit)

    def mark_notification_delivered(self, notification_id: int) -> bool:
        return self._run(notifications_uc.mark_delivered, notification_id, now=self.now())

    def audit(self, actor: str, action: str, target: str, detail: dict[str, Any]) -> None:
        self._run(audit_uc.audit, actor, action, target, detail, now=self.now())

    # --- outbox ---------------------------------------------------------------------------------
    def apply_spooled(self, kind: str, payload: dict[str, Any]) -> None:
        """Re-apply one outbox record straight to the database (raises ServiceUnavailable if still down)."""
        created_at = datetime.fromisoformat(payload["created_at"])
        if kind == "help":
            self._run(help_uc.raise_help, HelpCall.from_record(payload), now=created_at)
        elif kind == "handoff":
            request = HandoffRequest(payload["conversation_id"], payload["channel"], payload["reason"],
                                     tuple(payload.get("transcript") or ()), payload.get("resident_id"))
            self._run(handoffs_uc.queue_handoff, request, now=created_at, summary=payload.get("summary") or "")
        else:
            raise ValueError(f"unknown outbox record kind {kind!r}")

    def replay_outbox(self) -> int:
        return self.outbox.replay(self)
