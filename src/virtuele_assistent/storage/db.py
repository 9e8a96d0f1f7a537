"""Engine, sessions and migrations for the relational store (SQLite or PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from virtuele_assistent.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class MigrationError(RuntimeError):
    """A migration refused to go on; its message says what to correct (nothing was changed)."""


class Database:
    """Owns the engine and hands out short-lived sessions."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.sqlalchemy_url
        self.schema = settings.database_schema
        self.engine = make_engine(self.url, self.schema, settings.database_pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def upgrade(self, revision: str = "head") -> None:
        command.upgrade(alembic_config(self), revision)

    def dispose(self) -> None:
        self.engine.dispose()


def make_engine(url: str, schema: str | None = None, pool_size: int = 20) -> Engine:
    # A database server can drop idle connections; a SQLite file cannot (no ping per checkout).
    kwargs: dict[str, Any] = {"pool_pre_ping": not url.startswith("sqlite")}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        # Connections beyond the pool are opened and closed per use: under load that is a new
        # server process per turn, so the pool holds as many as the turns that store at once.
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = pool_size
        kwargs["connect_args"] = {"connect_timeout": 5}
        if schema:
            kwargs["connect_args"]["options"] = f"-csearch_path={schema}"
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        _one_writer_at_a_time(engine)
    return engine


SQLITE_WRITE_WAIT_S = 30.0


def _one_writer_at_a_time(engine: Engine) -> None:
    """SQLite has one writer at a time; others wait in its busy handler, which sleeps in growing
    steps (up to 100 ms) and so turns a queue of short writes into long waits. In this process a
    writer instead waits for the one before it on a lock: from its first write until its
    connection goes back to the pool (after commit or rollback). Reads do not wait (WAL)."""
    lock = threading.Lock()

    def before_execute(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        info = connection.info
        if info.get("writer") or statement.lstrip()[:6].upper() in ("SELECT", "PRAGMA"):
            return
        # Past the wait (a stuck writer), go on: SQLite's own busy timeout still applies.
        info["writer"] = lock.acquire(timeout=SQLITE_WRITE_WAIT_S)

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop("writer", False):
            lock.release()

    def dropped(_dbapi_connection: Any, record: Any, *_args: Any) -> None:
        checkin(None, record)

    event.listen(engine, "before_cursor_execute", before_execute)
    event.listen(engine, "checkin", checkin)
    event.listen(engine, "invalidate", dropped)
    event.listen(engine, "detach", dropped)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL syncs at checkpoints instead of at every commit: a crash of the process loses
    # nothing, a power cut at most the last commits; commits no longer wait for the disk one by one.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = database.engine
    return config


def contains_pattern(text: str) -> str:
    """A LIKE pattern (escape character backslash) that matches ``text`` anywhere, as typed."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
