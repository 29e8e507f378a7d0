"""The gateway's routes, one module per audience, each endpoint in one of them:

- `pages`: the HTML pages, for people in a browser
- `devices`: the text turn, the voice stream and health, for the devices and tools of this installation
- `auth`: signing in and out, the password, who am I, for anyone with an account
- `family`: acting for one resident, for family members (and staff)
- `alerts`: the live alert stream, for both pages
- `desk`: the operator console's work, for staff

Each module has `router(parts) -> APIRouter` over the one gateway.deps.GatewayParts.
"""
from __future__ import annotations

from fastapi import APIRouter

from gateway.deps import GatewayParts
from gateway.routes import alerts, auth, desk, devices, family, pages

AUDIENCES = (pages, devices, auth, family, alerts, desk)


def routers(parts: GatewayParts) -> list[APIRouter]:
    return [audience.router(parts) for audience in AUDIENCES]
