"""Every services test runs twice: on a SQLite file and on PostgreSQL (a fresh schema per module).
Schemas come from Alembic migrations, never create_all; demo data from the seed, on a fixed day."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest

from services.facade import Services
from tests.pg import PG_URL, require_pg, temp_schema  # noqa: F401  (PG_URL used by tests)

# 5 November 2025, 10:00 in Shanxi: the day of the 赵王村 canteen report.
TODAY = date(2025, 11, 5)
NOW = datetime(2025, 11, 5, 2, 0, tzinfo=timezone.utc)
# A PostgreSQL URL where nothing listens: the "database is down" case.
DEAD_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"


def new_key(prefix: str = "k") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path_factory):
    """An empty database: a new SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'yinling.db'}"
        return
    require_pg()
    with temp_schema() as url:
        yield url


class Clock:
    """A settable clock, so tests decide what 'now' is."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def clock():
    return Clock(NOW)


@pytest.fixture(scope="module")
def services(db_url, clock, tmp_path_factory):
    """Migrated with Alembic and seeded for TODAY; shared by the tests of one module."""
    svc = Services(db_url, clock=clock, outbox=tmp_path_factory.mktemp("outbox") / "outbox.jsonl")
    svc.create_all_and_seed(TODAY)
    yield svc
    svc.close()


@pytest.fixture
def backend(db_url) -> str:
    return "sqlite" if db_url.startswith("sqlite") else "postgresql"
