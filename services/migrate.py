"""Programmatic Alembic upgrade, so `make run`, tests and deployments share one code path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from services import config as yinling_config

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    cfg = Config(str(ALEMBIC_INI))
    cfg.attributes["configure_logger"] = False  # leave the host application's logging alone
    if connection is not None:
        cfg.attributes["connection"] = connection
    else:
        cfg.attributes["url"] = url or yinling_config.database_url()
    return cfg


def upgrade(url: str | None = None, *, connection: Connection | None = None) -> None:
    """Bring the database at `url` (default: services.config) to the newest revision."""
    command.upgrade(alembic_config(url, connection), "head")
