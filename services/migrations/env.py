"""Alembic environment: URL or connection from config.attributes, else services.config."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from services import config as yinling_config
from services.db import FOREIGN_KEYS_OFF, make_engine
from services.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _sqlite_foreign_keys_off(connection) -> bool:
    """Batch mode copies a table and drops the original; with foreign keys enforced SQLite refuses to drop
    a table other rows reference (Alembic's batch docs: turn the pragma off). Off for this run only, and
    only if no transaction is open yet (SQLite ignores it inside one); services.db turns it back on at
    this connection's next pool checkout. The keys are checked before commit instead (_check_foreign_keys)."""
    if connection.dialect.name != "sqlite":
        return False
    connection.info[FOREIGN_KEYS_OFF] = True  # the pooled connection's own record: on again at its next checkout
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    return True


def _check_foreign_keys(connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")


def run_migrations_offline() -> None:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or yinling_config.database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        sqlite = _sqlite_foreign_keys_off(connection)  # the caller's transaction: no commit here
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_foreign_keys(connection)
        return
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or yinling_config.database_url()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            sqlite = _sqlite_foreign_keys_off(conn)
            if sqlite:
                conn.commit()  # end the autobegun transaction, so Alembic begins (and commits) its own
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    _check_foreign_keys(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
