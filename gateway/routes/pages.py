"""For people in a browser: the start page, the family page and the operator console (static files; their
scripts call the other routes)."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from gateway.deps import GatewayParts

STATIC = Path(__file__).resolve().parent.parent / "static"


def router(parts: GatewayParts) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/")
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @pages.get("/family")
    async def family_page() -> FileResponse:
        return FileResponse(STATIC / "family.html")

    @pages.get("/console")
    async def console_page() -> FileResponse:
        return FileResponse(STATIC / "console.html")

    return pages
