"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from ``TEST_DATABASE_URL`` (``.ci/run`` starts a server and
sets it). Without it the PostgreSQL half is skipped locally, and fails in CI
so a green run always means both backends passed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db.engine import make_engine
from bot.db.migrate import upgrade

BACKENDS = ["sqlite", "postgresql"]


def _postgres_wanted() -> bool:
    # In CI the PostgreSQL half always runs (and fails loudly without a server).
    return bool(os.environ.get("TEST_DATABASE_URL") or os.environ.get("CI"))


def _pg_admin_url() -> sa.URL:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.fail("TEST_DATABASE_URL is not set in CI: .ci/run must start PostgreSQL")
    return sa.make_url(url)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty database of the parametrized backend, dropped afterwards."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'coach.db'}"
        return
    admin = _pg_admin_url()
    # Each test gets its own database, so parallel workers (pytest-xdist) never share one.
    name = f"coach_t_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:12]}"
    eng = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with eng.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """An engine on a fresh database migrated to head by Alembic (not create_all)."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[so.Session]:
    """A session inside an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        s = so.Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield s
        finally:
            s.close()
            outer.rollback()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Any test using the database runs once per backend (only on SQLite without TEST_DATABASE_URL).
    if "db_url" in metafunc.fixturenames:
        metafunc.parametrize("db_url", BACKENDS if _postgres_wanted() else BACKENDS[:1], indirect=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _postgres_wanted():
        terminalreporter.write_line(
            "PostgreSQL variants not run: TEST_DATABASE_URL is not set. To run them too, point it at a server "
            "(TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres python3 -m pytest) "
            "or run `bash .ci/run`, which starts one.", yellow=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    # The guard run (.ci/run) moves the clock ahead; a shift that did not take would prove nothing.
    want = os.environ.get("TEST_CLOCK_TODAY")
    if want and datetime.now(UTC).date() != date.fromisoformat(want):
        pytest.exit(f"TEST_CLOCK_TODAY={want}, but the clock says {datetime.now(UTC).date()}: "
                    "put tests/clock_ahead on PYTHONPATH with TEST_CLOCK_AHEAD_DAYS set", returncode=3)


def pytest_report_header() -> str | None:
    if os.environ.get("TEST_CLOCK_AHEAD_DAYS"):
        return f"clock moved {os.environ['TEST_CLOCK_AHEAD_DAYS']} days ahead: today is {datetime.now(UTC).date()}"
    return None
