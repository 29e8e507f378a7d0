from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from services.db import make_engine
from services.migrate import alembic_config, upgrade
from services.models import Base


def test_upgrade_on_empty_database_creates_every_table(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
    finally:
        engine.dispose()


def test_migrations_match_the_models(db_url):
    upgrade(db_url)  # a second upgrade is a no-op
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
        assert diffs == []
    finally:
        engine.dispose()


def test_partial_unique_indexes_exist(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        names = {ix["name"] for ix in inspect(engine).get_indexes("meal_orders")}
        assert "uq_meal_orders_active_per_meal" in names
        names = {ix["name"] for ix in inspect(engine).get_indexes("handoffs")}
        assert "uq_handoffs_open_per_conversation" in names
    finally:
        engine.dispose()
