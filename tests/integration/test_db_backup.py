"""`coach db backup FILE` and `coach db restore FILE`: the embedded SQLite database, with SQLite's
online backup API; PostgreSQL is sent to pg_dump / pg_restore."""

from __future__ import annotations

import gc
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bot.cli import main
from bot.db.engine import make_engine

EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"


@pytest.fixture
def coach(tmp_path, monkeypatch):
    """coach(*args, url=...): run ``coach ARGS`` in-process; the database is tmp_path/coach.db."""
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    for var in ("COACH_PLAYBOOK", "COACH_CONFIG", "COACH_ADMINS"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()

    def run(*args: str, url: str | None = None):
        monkeypatch.setenv("DATABASE_URL", url or f"sqlite:///{tmp_path / 'coach.db'}")
        try:
            return runner.invoke(main, list(args), catch_exceptions=False)
        finally:
            # A command's engine keeps its pooled connections until it is collected; a real `coach`
            # process has exited by then. Collected here, so only the test's own connections hold the file.
            gc.collect()

    return run


@pytest.fixture
def populated(coach, tmp_path) -> Path:
    for args in (("init",), ("org", "import", str(EXAMPLES / "org.csv")),
                 ("deals", "import", str(EXAMPLES / "deals.csv"))):
        r = coach(*args)
        assert r.exit_code == 0, r.output
    return tmp_path / "coach.db"


def count(db: Path, table: str) -> int:
    with closing(sqlite3.connect(db)) as c, c:
        return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def all_rows(db: Path) -> int:
    """Rows in every table of the schema (alembic's own bookkeeping aside), counted here, as a user would."""
    with closing(sqlite3.connect(db)) as c, c:
        tables = [t for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                  if t != "alembic_version" and not t.startswith("sqlite_")]
        return sum(c.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)


def test_backup_while_a_writer_holds_an_open_transaction(coach, populated, tmp_path):
    rows = all_rows(populated)
    eng = make_engine(f"sqlite:///{populated}")  # as `coach serve` has it: WAL mode, pooled connections
    try:
        with eng.connect() as reader, eng.connect() as writer:
            reader.exec_driver_sql("BEGIN")
            assert reader.execute(sa.text("SELECT count(*) FROM deal")).scalar() == 90
            writer.exec_driver_sql("BEGIN IMMEDIATE")
            writer.execute(sa.text("DELETE FROM stage_change"))
            writer.execute(sa.text("UPDATE deal SET name = 'half-done'"))  # not committed
            r = coach("db", "backup", str(tmp_path / "b.db"))
            assert r.exit_code == 0, r.output
            assert f"Backed up {rows} rows (schema" in r.output and rows > 200
            writer.rollback()
            reader.rollback()
    finally:
        eng.dispose()
    backup = tmp_path / "b.db"
    assert count(backup, "deal") == 90 and count(backup, "stage_change") == 90
    with closing(sqlite3.connect(backup)) as c, c:
        assert c.execute("SELECT count(*) FROM deal WHERE name = 'half-done'").fetchone()[0] == 0
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not (tmp_path / "b.db.part").exists()


def test_backup_refusals_are_one_line(coach, populated, tmp_path):
    (tmp_path / "there.db").write_text("x")
    cases = [
        ((str(tmp_path / "there.db"),), {}, "already exists"),
        ((str(tmp_path / "b.db"),), {"url": f"sqlite:///{tmp_path / 'nope.db'}"}, "does not exist"),
        ((str(tmp_path / "b.db"),), {"url": "postgresql+psycopg://u:secret@db.example/coach"}, "use pg_dump"),
        ((str(tmp_path / "b.db"),), {"url": "sqlite://"}, "in-memory"),
        ((str(tmp_path / "no" / "folder" / "b.db"),), {}, "does not exist: create it first"),
    ]
    for args, kw, expected in cases:
        r = coach("db", "backup", *args, **kw)
        assert r.exit_code == 1 and expected in r.output, r.output
        assert "Traceback" not in r.output and "secret" not in r.output
    assert not (tmp_path / "nope.db").exists()
    assert not (tmp_path / "b.db").exists()


def test_restore_round_trip(coach, populated, tmp_path):
    rows = all_rows(populated)
    assert coach("db", "backup", str(tmp_path / "b.db")).exit_code == 0
    with closing(sqlite3.connect(populated)) as c, c:  # the week goes on after the backup
        c.execute("DELETE FROM stage_change")
        c.execute("UPDATE deal SET amount = 1")
    r = coach("db", "restore", str(tmp_path / "b.db"))
    assert r.exit_code == 1 and "has data" in r.output and "--force" in r.output
    assert count(populated, "stage_change") == 0  # refused: unchanged
    r = coach("db", "restore", str(tmp_path / "b.db"), "--force")
    assert r.exit_code == 0, r.output
    assert f"Restored {rows} rows" in r.output and all_rows(populated) == rows
    assert count(populated, "stage_change") == 90
    with closing(sqlite3.connect(populated)) as c, c:
        assert c.execute("SELECT count(*) FROM deal WHERE amount = 1").fetchone()[0] == 0
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    r = coach("deals", "list", "--owner", "tim.bernerslee@example.com")
    assert r.exit_code == 0 and r.output.startswith("Pipeline for Tim Berners-Lee:")

    fresh = tmp_path / "new" / "coach.db"  # onto a machine with no database yet: no --force needed
    r = coach("db", "restore", str(tmp_path / "b.db"), url=f"sqlite:///{fresh}")
    assert r.exit_code == 0, r.output
    assert count(fresh, "deal") == 90


@pytest.mark.parametrize("hold", ["idle", "reading", "writing"])
def test_restore_is_refused_while_the_database_is_in_use(coach, populated, tmp_path, hold):
    assert coach("db", "backup", str(tmp_path / "b.db")).exit_code == 0
    eng = make_engine(f"sqlite:///{populated}")
    try:
        with eng.connect() as conn:
            conn.execute(sa.text("SELECT 1 FROM person")).fetchall()  # a pooled connection, as serve keeps
            if hold == "reading":
                conn.rollback()
                conn.exec_driver_sql("BEGIN")
                conn.execute(sa.text("SELECT count(*) FROM deal")).scalar()
            elif hold == "writing":
                conn.rollback()
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                conn.execute(sa.text("UPDATE deal SET next_step = 'mine'"))
            r = coach("db", "restore", str(tmp_path / "b.db"), "--force")
            assert r.exit_code == 1, r.output
            assert "is in use" in r.output and "stop it first" in r.output and "Traceback" not in r.output
            conn.rollback()
    finally:
        eng.dispose()
    assert count(populated, "deal") == 90
    r = coach("db", "restore", str(tmp_path / "b.db"), "--force")  # once it is stopped
    assert r.exit_code == 0, r.output


def test_restore_checks_the_file_and_the_backend(coach, populated, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as c, c:
        c.execute("CREATE TABLE t (x)")
    cases = [
        (str(text), {}, "is not a SQLite database"),
        (str(other), {}, "not a Pipeline Coach one (no alembic_version)"),
        (str(tmp_path / "missing.db"), {}, "does not exist"),
        (str(populated), {"url": "postgresql+psycopg://u:secret@db.example/coach"}, "pg_restore"),
    ]
    for file, kw, expected in cases:
        r = coach("db", "restore", file, "--force", **kw)
        assert r.exit_code == 1 and expected in r.output, r.output
        assert "Traceback" not in r.output and "secret" not in r.output
    with closing(sqlite3.connect(other)) as c, c:
        c.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        c.execute("INSERT INTO alembic_version VALUES ('9999')")
    r = coach("db", "restore", str(other), "--force")
    assert r.exit_code == 1 and "does not know" in r.output
    assert count(populated, "deal") == 90
    r = coach("db", "restore", str(populated), url=f"sqlite:///{text.with_name('weird ?#name.db')}")
    assert r.exit_code == 0, r.output  # a file name URIs would misread
    stranger = tmp_path / "stranger.db"
    with closing(sqlite3.connect(stranger)) as c, c:
        c.execute("CREATE TABLE invoices (x)")
    r = coach("db", "restore", str(populated), url=f"sqlite:///{stranger}")
    assert r.exit_code == 1 and "has tables that are not Pipeline Coach's" in r.output


def test_restoring_an_older_backup_says_to_upgrade(coach, tmp_path):
    old = tmp_path / "old.db"
    r = coach("db", "upgrade", "--revision", "0010", url=f"sqlite:///{old}")
    assert r.exit_code == 0, r.output
    r = coach("db", "restore", str(old))
    assert r.exit_code == 0, r.output
    assert "run `coach db upgrade`" in r.output
