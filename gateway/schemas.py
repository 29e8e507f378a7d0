"""What the HTTP API answers, for its OpenAPI schema (and so for API clients and the schema tests).

Most answers are the services layer's views (frozen dataclasses in services.types, assistant.turn's
ChatReply) used as response models as they are; the few answers that put several views together
are described here, with the error answers every route may give.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Optional, Union

from fastapi import Path
from pydantic import BaseModel

from services.types import (
    AccountView,
    FamilyHelpView,
    HandoffView,
    LinkedResident,
    MealOrderView,
    TicketView,
    TurnView,
)


class ErrorOut(BaseModel):
    """Every error answer: `detail` is a sentence (domain errors, refusals), or for a request that does
    not fit the schema FastAPI's list of what is wrong; `code` names a domain error."""

    detail: Union[str, list[Any]]
    code: Optional[str] = None


def errors(*statuses: int) -> dict[Union[int, str], dict[str, Any]]:
    """`responses=` for a route or router: these error statuses, each with the ErrorOut body."""
    return {status: {"model": ErrorOut, "description": ERROR_TEXT[status]} for status in statuses}


ERROR_TEXT = {
    400: "The body is not JSON at all, or it is refused as it stands (e.g. a wrong old password)",
    401: "Not signed in, or the session ended",
    403: "Not allowed for this account, or the CSRF token is missing or wrong",
    404: "No such thing",
    409: "Conflict (e.g. another operator has taken the conversation)",
    422: "The request does not fit (schema, or a rule of the services)",
    429: "Too many failed attempts; see Retry-After",
    503: "The database is not reachable just now",
}
SIGNED_IN = (401, 403, 503)  # any route behind sign-in
BODY = errors(400)  # any route that reads a JSON body: FastAPI answers 400 to bytes that are not JSON text
# Row ids in paths: the columns are INTEGER (PostgreSQL's int4). Bounded here, a huge id is a 422; unbounded,
# it reached the database driver and failed there (500 on SQLite, a database error on PostgreSQL).
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
MESSAGE_ID = r"^[A-Za-z0-9_-]{1,64}$"  # a client's id of a chat message, so a retried send is answered once


def plain(value: Any) -> Any:
    """A view (a dataclass of services.types) or a list of them as JSON-able dicts (FastAPI's encoder does
    the dates)."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    return asdict(value)


class AccountOut(BaseModel):
    id: int
    username: str
    display_name: str
    kind: str
    role: str
    operator_id: Optional[str]
    residents: list[LinkedResident]


def account_json(account: AccountView) -> dict[str, Any]:
    """An account as AccountOut shows it (whether it is disabled or locked stays inside)."""
    return {"id": account.id, "username": account.username, "display_name": account.display_name,
            "kind": account.kind, "role": account.role, "operator_id": account.operator_id,
            "residents": [asdict(r) for r in account.residents]}


class LoginOut(BaseModel):
    account: AccountOut
    csrf_token: str
    token: str
    expires_at: datetime
    today: date  # the service's calendar day (services.clock.service_day): pages' default day, not the browser's


class MeOut(BaseModel):
    account: AccountOut
    csrf_token: Optional[str]
    today: date  # as in LoginOut


class ResidentBrief(BaseModel):
    id: str
    name: str
    honorific: str


class OverviewOut(BaseModel):
    resident: ResidentBrief
    orders: list[MealOrderView]
    tickets: list[TicketView]
    help: list[FamilyHelpView]


class HandoffReplyOut(BaseModel):
    handoff: HandoffView
    turn: TurnView


class HandoffResumeOut(BaseModel):
    handoff: HandoffView
    bot_resumed: bool


class ResetCodeOut(BaseModel):
    username: str
    code: str
