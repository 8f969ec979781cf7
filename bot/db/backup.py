"""Backups of the embedded SQLite database (`coach db backup` / `coach db restore`).

Both use SQLite's online backup API (``sqlite3.Connection.backup``): it copies the database page
by page under SQLite's own locks, so a backup taken while `coach serve` runs is one consistent
moment (in WAL mode the bot's writers are not blocked meanwhile), never a torn file copy.
PostgreSQL has its own tools for this: pg_dump and pg_restore.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bot.db import migrate
from bot.db.models import Base

HEADER = b"SQLite format 3\x00"


class BackupRefused(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    revision: str
    rows: int


def sqlite_path(url: str, verb: str) -> Path:
    """The file of a SQLite DATABASE_URL; other backends are refused with the tool to use instead."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        tool = "pg_dump" if verb == "backup" else "pg_restore (of a pg_dump archive)"
        where = parsed.render_as_string(hide_password=True)
        raise BackupRefused(f"`coach db {verb}` is for the embedded SQLite database; DATABASE_URL is {where}: "
                            f"use {tool} for PostgreSQL")
    if parsed.database in (None, "", ":memory:"):
        raise BackupRefused("DATABASE_URL names an in-memory SQLite database: there is no file to "
                            f"{verb}; point it at the database file")
    return Path(parsed.database).expanduser()


def _read_only(path: Path) -> str:
    """A URI opening ``path`` read-only (percent-encoded: a ? or # in the name stays the name)."""
    return path.expanduser().resolve().as_uri() + "?mode=ro"


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def _rows(conn: sqlite3.Connection) -> int:
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return sum(conn.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]
               for t in Base.metadata.sorted_tables if t.name in have)


def backup(url: str, dest: Path) -> tuple[str, int]:
    """Copy the database of ``url`` into the new file ``dest``; returns (revision, rows)."""
    src_path = sqlite_path(url, "backup")
    if not src_path.exists():
        raise BackupRefused(f"the database {src_path} does not exist: nothing to back up (check DATABASE_URL)")
    if dest.exists():
        raise BackupRefused(f"{dest} already exists: give a new file name (a backup never overwrites one)")
    if dest.resolve() == src_path.resolve():
        raise BackupRefused("the backup file is the database itself: give another file name")
    if not dest.parent.is_dir():
        raise BackupRefused(f"the folder {dest.parent} does not exist: create it first")
    part = dest.with_name(dest.name + ".part")
    src = sqlite3.connect(_read_only(src_path), uri=True, timeout=10)
    try:
        revision = _revision(src)
        if revision is None:
            raise BackupRefused(f"{src_path} is not a Pipeline Coach database (no schema revision): run "
                                "`coach init` first, or check DATABASE_URL")
        part.unlink(missing_ok=True)
        out = sqlite3.connect(part)
        try:
            src.backup(out)  # all pages in one step: one consistent moment of the source
            # The copy is one self-contained file, not a database plus a write-ahead log.
            out.execute("PRAGMA journal_mode=DELETE")
            rows = _rows(out)
        finally:
            out.close()
        os.replace(part, dest)  # a backup that failed half-way leaves no file that looks whole
    except sqlite3.Error as e:
        raise BackupRefused(f"the backup to {dest} failed: {e}; no backup was written") from e
    finally:
        src.close()
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
    return revision, rows


def check_backup(file: Path) -> tuple[str, int]:
    """(revision, rows) of a Pipeline Coach SQLite file, or BackupRefused saying what it is not."""
    if not file.is_file():
        raise BackupRefused(f"{file} does not exist or is not a file")
    with file.open("rb") as f:
        if f.read(len(HEADER)) != HEADER:
            raise BackupRefused(f"{file} is not a SQLite database (a PostgreSQL dump goes back with pg_restore)")
    conn = sqlite3.connect(_read_only(file), uri=True)
    try:
        revision = _revision(conn)
        if revision is None:
            raise BackupRefused(f"{file} is a SQLite database but not a Pipeline Coach one (no alembic_version)")
        try:
            rows = _rows(conn)
        except sqlite3.DatabaseError as e:
            raise BackupRefused(f"{file} cannot be read as a Pipeline Coach database: {e}") from e
    finally:
        conn.close()
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    try:
        known = script.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown id
        known = False
    if not known:
        raise BackupRefused(f"{file} is at schema {revision}, which this version of Pipeline Coach does not know "
                            f"(newest: {migrate.head_revision()}): restore it with the version that made it")
    return revision, rows


def _claim(path: Path) -> sqlite3.Connection:
    """A connection to ``path`` that is the only one, or BackupRefused naming who may hold it.

    How "in use" is told: every process of the bot opens the database in WAL mode and keeps its
    connections open (the pool), even when idle. SQLite refuses to leave WAL mode while another
    connection has the database open, so succeeding in ``PRAGMA journal_mode=DELETE`` proves
    there is none (an idle `coach serve` included, which ``BEGIN EXCLUSIVE`` alone would miss: in
    WAL mode it does not wait for readers). ``BEGIN EXCLUSIVE`` then also catches a writer in
    rollback-journal mode. Both with a short timeout: a busy database is refused, not waited for.
    """
    conn = sqlite3.connect(path, timeout=0.5, isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() == "wal":
            mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if mode.lower() == "wal":
            raise sqlite3.OperationalError("database is locked")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as e:
        conn.close()
        if "locked" in str(e) or "busy" in str(e):
            raise BackupRefused(f"the database {path} is in use (a `coach serve`, `coach tick` or shell has it "
                                "open): stop it first; nothing was restored") from e
        raise BackupRefused(f"cannot open the database {path}: {e}") from e
    return conn


def restore(url: str, file: Path, *, force: bool = False) -> Restored:
    """Replace the database of ``url`` with the backup ``file``."""
    dest = sqlite_path(url, "restore")
    revision, rows = check_backup(file)
    if dest.exists() and dest.resolve() == file.resolve():
        raise BackupRefused("the backup file is the database itself: nothing to restore")
    dest.parent.mkdir(parents=True, exist_ok=True)
    conn = _claim(dest)
    try:
        if not force:
            ours = _revision(conn) is not None
            have = _rows(conn) if ours else 0
            others = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if have or (others and not ours):
                conn.execute("PRAGMA journal_mode=WAL")  # left as the bot runs it
                what = f"has data ({have} rows)" if ours else "has tables that are not Pipeline Coach's"
                raise BackupRefused(f"the database {dest} {what}: restoring replaces all of it. "
                                    "Back it up first (coach db backup FILE), then add --force")
        src = sqlite3.connect(_read_only(file), uri=True)
        try:
            src.backup(conn)  # one step, under the destination's lock; a failure leaves it as it was
        finally:
            src.close()
        conn.execute("PRAGMA journal_mode=WAL")  # as the bot runs it
    except sqlite3.Error as e:
        if "locked" in str(e) or "busy" in str(e):
            raise BackupRefused(f"the database {dest} became busy during the restore (something opened it): "
                                "stop it and run the restore again") from e
        raise BackupRefused(f"the restore into {dest} failed: {e}; the database was left as it was") from e
    finally:
        conn.close()
    return Restored(revision, rows)
