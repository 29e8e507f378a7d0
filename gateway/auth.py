"""Who is asking: a signed-in family member or operator, a trusted device, or nobody.

A person signs in and gets a session token, kept in an HttpOnly SameSite=Strict cookie for the pages
(then every state-changing request must also carry the session's CSRF token in `X-CSRF-Token`) or
sent as `Authorization: Bearer` by API clients (no cookie, so no CSRF to fear). Devices and tools of
this installation (terminal chat, speakers, benches) show the service key the same way.
"""

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Optional

from fastapi import Depends, HTTPException, Request, WebSocket

from common.words import Actor
from services.errors import ServiceError, SessionInvalid
from services.facade import Services
from services.types import AccountView

COOKIE = "yl_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    kind: str  # family / operator / supervisor / service
    account: Optional[AccountView] = None
    csrf_token: Optional[str] = None
    token: Optional[str] = None

    @property
    def is_staff(self) -> bool:
        return self.kind in ("operator", "supervisor")

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        if self.account is None:
            return str(Actor("service"))
        if self.is_staff and self.account.operator_id:
            return str(Actor.operator(self.account.operator_id))
        return str(Actor.family(self.account.id))


class Authenticator:
    def __init__(self, services: Services, service_key: str) -> None:
        self._services = services
        self._service_key = service_key

    def _token_of(self, headers, cookies) -> tuple[Optional[str], bool]:
        """(token, came as a cookie)."""
        header = headers.get("authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip(), False
        cookie = cookies.get(COOKIE)
        return (cookie, True) if cookie else (None, False)

    async def principal(self, headers, cookies) -> tuple[Optional[Principal], bool]:
        token, from_cookie = self._token_of(headers, cookies)
        if token is None:
            return None, False
        if not from_cookie and hmac.compare_digest(token.encode(), self._service_key.encode()):
            return Principal("service", token=token), False
        try:
            session = await asyncio.to_thread(self._services.web_session, token)
        except SessionInvalid:
            raise HTTPException(status_code=401, detail="登录已过期，请重新登录",
                                headers={"WWW-Authenticate": "Bearer"}) from None
        account = session.account
        return Principal(account.role, account, session.csrf_token, token), from_cookie

    async def __call__(self, request: Request) -> Optional[Principal]:
        principal, from_cookie = await self.principal(request.headers, request.cookies)
        if principal is not None and from_cookie and request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER) or ""
            if not principal.csrf_token or not hmac.compare_digest(sent.encode(), principal.csrf_token.encode()):
                raise HTTPException(status_code=403, detail="缺少或错误的 CSRF 令牌")
        return principal

    async def websocket(self, ws: WebSocket) -> Optional[Principal]:
        """Browsers cannot set headers on a WebSocket: the cookie counts there (the Origin check
        stands in for CSRF), devices send the service key as a bearer token."""
        try:
            principal, from_cookie = await self.principal(ws.headers, ws.cookies)
        except HTTPException:
            return None
        if principal is not None and from_cookie:
            origin = ws.headers.get("origin")
            host = ws.headers.get("host")
            if origin and host and origin.split("://", 1)[-1] != host:
                return None
        return principal


def signed_in(auth: Authenticator):
    async def dependency(principal: Optional[Principal] = Depends(auth)) -> Principal:
        if principal is None:
            raise HTTPException(status_code=401, detail="请先登录", headers={"WWW-Authenticate": "Bearer"})
        return principal
    return dependency


def requires(auth: Authenticator, *kinds: str):
    """A dependency that lets through only the given kinds of principal."""
    who = signed_in(auth)

    async def dependency(principal: Principal = Depends(who)) -> Principal:
        if principal.kind not in kinds:
            raise HTTPException(status_code=403, detail="没有权限")
        return principal
    return dependency


Door = Callable[..., Awaitable[Principal]]


@dataclass(frozen=True)
class Doors:
    """The dependency each audience's routes stand behind."""

    trusted: Door  # the devices and tools of this installation (service key), and staff
    people: Door  # anyone signed in with an account: family members and staff
    staff: Door  # operators and supervisors
    supervisor: Door

    @classmethod
    def of(cls, auth: Authenticator) -> "Doors":
        return cls(trusted=requires(auth, "service", "operator", "supervisor"),
                   people=requires(auth, "family", "operator", "supervisor"),
                   staff=requires(auth, "operator", "supervisor"),
                   supervisor=requires(auth, "supervisor"))


async def check_resident(services: Services, principal: Principal, resident_id: str) -> None:
    """Family members act only for linked residents who consented; staff and devices for anyone
    on record. The same 403 for 'not yours' and 'no such resident' to a family member, so ids
    cannot be probed."""
    if principal.kind == "family":
        allowed = await asyncio.to_thread(services.may_act_for, principal.account.id, resident_id)
        if not allowed:
            raise HTTPException(status_code=403, detail="您没有为这位老人办理的授权")
        return
    try:
        await asyncio.to_thread(services.get_resident, resident_id)
    except ServiceError:
        raise HTTPException(status_code=404, detail="没有这位老人") from None
