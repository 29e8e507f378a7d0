"""For anyone with an account (family members, staff): signing in and out, the password, who am I.
Sign-in and reset with a code are the only routes here an anonymous caller reaches."""
from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from gateway.auth import COOKIE, Principal
from gateway.deps import GatewayParts
from gateway.schemas import BODY, SIGNED_IN, LoginOut, MeOut, account_json, errors
from services.clock import service_day
from services.errors import InvalidCredentials

SESSION_MAX_AGE_S = 12 * 3600  # the cookie never outlives the session's absolute limit


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=128)


class PasswordIn(BaseModel):
    old_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


class ResetIn(BaseModel):
    username: str = Field(min_length=1, max_length=40)
    code: str = Field(min_length=1, max_length=20)
    new_password: str = Field(min_length=1, max_length=128)


def _client_ip(request: Request) -> str:
    return (request.client.host if request.client else "") or "unknown"


def router(parts: GatewayParts) -> APIRouter:
    services, people, run = parts.services, parts.doors.people, asyncio.to_thread
    api = APIRouter()
    accounts = APIRouter(prefix="/api/auth", tags=["auth"], responses=errors(401, 403, 422, 429, 503))

    @accounts.post("/login", response_model=LoginOut, responses=BODY)
    async def login(body: LoginIn, request: Request, response: Response) -> dict[str, Any]:
        """Sign in with a user name and password. Sets the session cookie for pages and returns the
        token for API clients. Repeated failures are refused for a while (429, Retry-After)."""
        account = await run(services.authenticate, body.username, body.password, _client_ip(request))
        token, session = await run(services.start_web_session, account.id, _client_ip(request),
                                   (request.headers.get("user-agent") or "")[:200])
        response.set_cookie(COOKIE, token, max_age=SESSION_MAX_AGE_S, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        return {"account": account_json(session.account), "csrf_token": session.csrf_token, "token": token,
                "expires_at": session.expires_at, "today": service_day(services.now())}

    @accounts.post("/logout", status_code=204)
    async def logout(response: Response, principal: Principal = Depends(people)) -> Response:
        if principal.account is not None and principal.token:
            await run(services.end_web_session, principal.token)
        response.delete_cookie(COOKIE, path="/")
        response.status_code = 204
        return response

    @accounts.post("/password", status_code=204, responses=errors(400))
    async def change_password(body: PasswordIn, principal: Principal = Depends(people)) -> Response:
        try:
            # the other sessions of the account end; this one goes on
            await run(lambda: services.change_password(principal.account.id, body.old_password, body.new_password,
                                                       keep_token=principal.token))
        except InvalidCredentials:  # 400, not 401: the session is fine, the old password is not
            raise HTTPException(status_code=400, detail="原密码不对") from None
        return Response(status_code=204)

    @accounts.post("/reset", status_code=204, responses=BODY)
    async def reset_password(body: ResetIn) -> Response:
        """A new password with the one-time code an operator gave (by phone, in person)."""
        await run(services.reset_password, body.username, body.code, body.new_password)
        return Response(status_code=204)

    me = APIRouter(prefix="/api", tags=["auth"], responses=errors(*SIGNED_IN))

    @me.get("/me", response_model=MeOut)
    async def whoami(principal: Principal = Depends(people)) -> dict[str, Any]:
        return {"account": account_json(principal.account), "csrf_token": principal.csrf_token,
                "today": service_day(services.now())}

    api.include_router(accounts)
    api.include_router(me)
    return api
