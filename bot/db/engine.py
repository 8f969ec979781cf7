"""Engines and sessions. Repositories never commit: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """An engine for ``url``; SQLite gets its folder created and foreign keys on."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        sa.event.listen(engine, "connect", _postgres_utc)
    return engine


def _postgres_utc(dbapi_conn: Any, _record: Any) -> None:
    # Sessions in UTC, as SQLite's stored text is: timestamps come back already in UTC (no conversion
    # per value; 400,000 of them in a large org's digests), and SQL date arithmetic agrees on both.
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    cur = dbapi_conn.cursor()
    cur.execute("SET TIME ZONE 'UTC'")
    cur.close()
    dbapi_conn.autocommit = autocommit


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    # Several threads (HTTP workers, the scheduler) share the file: wait, don't fail.
    cur.execute("PRAGMA busy_timeout=10000")
    # Write-ahead log: readers no longer block writers, and a commit appends to the log instead of
    # rewriting a journal (about 17x faster a commit here); the send ledger's claims and marks from
    # many threads and processes queued behind each other without it (bench/README.md, fan-out).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def make_session_factory(engine: sa.Engine) -> so.sessionmaker[so.Session]:
    return so.sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: so.sessionmaker[so.Session]) -> Iterator[so.Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session
