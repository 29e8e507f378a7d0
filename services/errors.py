"""Typed errors the use-cases raise. Messages are short English; callers pick the Chinese wording."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Optional

from common.errors import YinlingError

if TYPE_CHECKING:
    from services.types import MealOrderView


class ServiceError(YinlingError):
    """Base of every error the services layer raises on purpose."""

    code = "service_error"


class NotFound(ServiceError):
    code = "not_found"


class UnknownResident(NotFound):
    code = "unknown_resident"

    def __init__(self, resident_id: str) -> None:
        super().__init__(f"unknown resident {resident_id!r}")
        self.resident_id = resident_id


class UnknownFacility(NotFound):
    code = "unknown_facility"

    def __init__(self, facility_id: str) -> None:
        super().__init__(f"unknown facility {facility_id!r}")
        self.facility_id = facility_id


class OrderNotFound(NotFound):
    code = "order_not_found"

    def __init__(self, order_id: int) -> None:
        super().__init__(f"no order {order_id!r} for this resident")
        self.order_id = order_id


class NoMealService(NotFound):
    """The canteen does not serve that meal on that day (or is not a canteen)."""

    code = "no_meal_service"

    def __init__(self, canteen_id: str, day: date, meal: str) -> None:
        super().__init__(f"{canteen_id} serves no {meal} on {day.isoformat()}")
        self.canteen_id = canteen_id
        self.day = day
        self.meal = meal


class NoFamilyMember(NotFound):
    code = "no_family_member"

    def __init__(self, resident_id: str, relation: Optional[str] = None) -> None:
        what = f"consenting {relation}" if relation else "consenting family member"
        super().__init__(f"resident {resident_id} has no {what}")
        self.resident_id = resident_id
        self.relation = relation


class UnknownProgramme(NotFound):
    code = "unknown_programme"

    def __init__(self, programme_code: str) -> None:
        super().__init__(f"unknown subsidy programme {programme_code!r}")
        self.programme_code = programme_code


class UnknownServiceType(NotFound):
    code = "unknown_service_type"

    def __init__(self, service_code: str) -> None:
        super().__init__(f"unknown service type {service_code!r}")
        self.service_code = service_code


class UnknownOperator(NotFound):
    code = "unknown_operator"

    def __init__(self, operator_id: str) -> None:
        super().__init__(f"unknown operator {operator_id!r}")
        self.operator_id = operator_id


class HandoffNotFound(NotFound):
    code = "handoff_not_found"

    def __init__(self, key: object) -> None:
        super().__init__(f"no handoff for {key!r}")
        self.key = key


class HelpRequestNotFound(NotFound):
    code = "help_request_not_found"

    def __init__(self, request_id: int) -> None:
        super().__init__(f"no help request {request_id!r}")
        self.request_id = request_id


class TicketNotFound(NotFound):
    code = "ticket_not_found"

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"no service ticket {ticket_id!r}")
        self.ticket_id = ticket_id


class UnknownDevice(NotFound):
    code = "unknown_device"

    def __init__(self, device_id: str) -> None:
        super().__init__(f"no speaker device {device_id}")
        self.device_id = device_id


class MealFull(ServiceError):
    code = "meal_full"

    def __init__(self, remaining: int) -> None:
        super().__init__(f"not enough places left ({remaining} remaining)")
        self.remaining = remaining


class DuplicateOrder(ServiceError):
    """The resident already has an active order for that day and meal (under another key)."""

    code = "duplicate_order"

    def __init__(self, existing: "MealOrderView") -> None:
        super().__init__(f"already booked: order {existing.id}")
        self.existing = existing


class InvalidRequest(ServiceError):
    """Bad input. `reason` is a stable machine code, e.g. 'date_in_past', 'portions_out_of_range'."""

    code = "invalid_request"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class TooLateToCancel(ServiceError):
    code = "too_late_to_cancel"

    def __init__(self, order_id: int, day: date) -> None:
        super().__init__(f"order {order_id} was for {day.isoformat()}, which has passed")
        self.order_id = order_id
        self.day = day


class Conflict(ServiceError):
    """A concurrent change won; retrying the same call will not help."""

    code = "conflict"


class HandoffAlreadyTaken(Conflict):
    code = "handoff_already_taken"

    def __init__(self, handoff_id: int, taken_by: Optional[str], status: str) -> None:
        super().__init__(f"handoff {handoff_id} is {status} (by {taken_by})")
        self.handoff_id = handoff_id
        self.taken_by = taken_by
        self.status = status


class DeviceUriTaken(Conflict):
    """Another device (enabled or not) is registered at that satellite address."""

    code = "device_uri_taken"

    def __init__(self, uri: str, device_id: str, enabled: bool) -> None:
        state = "" if enabled else ", disabled"
        super().__init__(f"{uri} is already registered as {device_id}{state}: remove that device first "
                         f"(yinling devices remove {device_id}) or register this one under {device_id}")
        self.uri = uri
        self.device_id = device_id


class TicketClosed(Conflict):
    """The ticket is done or cancelled already; it takes no more assignments or changes."""

    code = "ticket_closed"

    def __init__(self, ticket_id: int, status: str) -> None:
        super().__init__(f"ticket {ticket_id} is {status}")
        self.ticket_id = ticket_id
        self.status = status


class ServiceUnavailable(ServiceError):
    """The database cannot be reached or failed operationally; the caller may retry later."""

    code = "service_unavailable"

    def __init__(self, detail: str = "database unavailable") -> None:
        super().__init__(detail)
        self.detail = detail


# --- web accounts ---------------------------------------------------------------------------------------


class UnknownAccount(NotFound):
    code = "unknown_account"

    def __init__(self, key: object) -> None:
        super().__init__(f"no account {key!r}")
        self.key = key


class InvalidCredentials(ServiceError):
    """Wrong user name or password, or a bad or expired reset code: deliberately one answer for all."""

    code = "invalid_credentials"

    def __init__(self, detail: str = "wrong user name or password") -> None:
        super().__init__(detail)
        self.detail = detail


class TooManyAttempts(ServiceError):
    """Too many failed attempts lately for this user name or from this address; try again later."""

    code = "too_many_attempts"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed attempts; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class AccountDisabled(ServiceError):
    code = "account_disabled"

    def __init__(self, username: str) -> None:
        super().__init__(f"account {username!r} is disabled")
        self.username = username


class SessionInvalid(ServiceError):
    """Unknown, revoked or expired web session: sign in again."""

    code = "session_invalid"

    def __init__(self, reason: str = "invalid") -> None:
        super().__init__(f"web session {reason}")
        self.reason = reason


class NotAllowed(ServiceError):
    """The account may not do this (e.g. an operator resetting a supervisor's password)."""

    code = "not_allowed"

    def __init__(self, detail: str = "not allowed") -> None:
        super().__init__(detail)
        self.detail = detail
