"""What each error Yinling raises on purpose means over HTTP, in one place.

Routes do not catch domain errors to turn them into statuses: a `common.errors.YinlingError` that
leaves a route is answered here, as `{"detail": <the message>, "code": <the error's code>}` (the
ErrorOut schema of gateway.schemas). Refusals that are the gateway's own (sign in first, not yours, the
CSRF token) are HTTPExceptions where they are decided.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from assistant.rasa_client import RasaUnavailable
from assistant.turn import BadMessage
from common.errors import YinlingError
from services.errors import (
    AccountDisabled,
    Conflict,
    InvalidCredentials,
    InvalidRequest,
    NotAllowed,
    NotFound,
    ServiceError,
    ServiceUnavailable,
    SessionInvalid,
    TooManyAttempts,
)

logger = logging.getLogger(__name__)

# the order matters: subclasses first; the first kind the error is decides
ERROR_STATUS: tuple[tuple[type[YinlingError], int], ...] = (
    (TooManyAttempts, 429), (InvalidCredentials, 401), (SessionInvalid, 401), (AccountDisabled, 403),
    (NotAllowed, 403), (NotFound, 404), (Conflict, 409), (InvalidRequest, 422), (ServiceUnavailable, 503),
    (ServiceError, 400),
    (BadMessage, 422), (RasaUnavailable, 503),
)


def status_of(exc: YinlingError) -> int:
    """The HTTP status of a domain error; 500 for one this table does not know (a bug to fix here)."""
    return next((status for kind, status in ERROR_STATUS if isinstance(exc, kind)), 500)


async def error_answer(request: Request, exc: YinlingError) -> JSONResponse:
    status = status_of(exc)
    headers = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(max(1, int(getattr(exc, "retry_after_s", 60))))
    if status == 500:
        logger.error("no HTTP status for %s (%s)", type(exc).__name__, exc.code, exc_info=exc)
    elif status == 503:
        logger.error("unavailable: %s", exc)
    return JSONResponse({"detail": str(exc), "code": exc.code}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Answers every YinlingError a route lets out."""
    app.add_exception_handler(YinlingError, error_answer)
