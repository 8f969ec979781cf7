"""Copy a whole database into an empty one (`coach db copy --to URL`), e.g. from the embedded
SQLite to PostgreSQL, and prove the copy: row counts and a checksum per table, computed on each
side by reading it back.

Generic over ``Base.metadata.sorted_tables``, so a table added by a later migration is copied
without a change here. The source is only read; the target is written in one transaction, so a
copy that fails leaves it as it was: migrated, and empty.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from bot.db import migrate
from bot.db.models import Base


class CopyRefused(Exception):
    """The copy cannot start (the source is not at the current schema, the target has rows, ...)."""


class CopyFailed(Exception):
    """The target refused a row (or the connection failed) while copying ``table``; it was rolled back."""

    def __init__(self, table: str, error: Exception) -> None:
        self.table = table
        self.error = error
        detail = getattr(error, "orig", None) or error
        first = str(detail).strip().splitlines()[0] if str(detail).strip() else type(detail).__name__
        super().__init__(f"the copy failed in table {table}: {first}")


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_sum: str
    target_sum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


@dataclass
class CopyReport:
    tables: list[TableCheck] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.target_rows for t in self.tables)

    def lines(self) -> list[str]:
        width = max([len(t.table) for t in self.tables] + [5])
        out = [f"{'table':<{width}}  {'source':>8}  {'target':>8}  checksum (sha256, first 16)"]
        for t in self.tables:
            same = "same" if t.source_sum == t.target_sum else f"DIFFERS: target {t.target_sum[:16]}"
            mark = "ok" if t.ok else "MISMATCH"
            counts = f"{t.source_rows:>8}  {t.target_rows:>8}"
            out.append(f"{t.table:<{width}}  {counts}  {t.source_sum[:16]} {same}  {mark}")
        return out


def tables() -> list[sa.Table]:
    """Every table of the schema, parents before children."""
    return list(Base.metadata.sorted_tables)


def _order(table: sa.Table, dialect: sa.Dialect) -> list[sa.ColumnElement[Any]]:
    """The primary key, in an order both backends agree on: text by its bytes (PostgreSQL's
    default collation sorts by locale; SQLite compares UTF-8 bytes, as collation "C" does)."""
    cols: list[sa.ColumnElement[Any]] = []
    for c in table.primary_key.columns:
        if dialect.name == "postgresql" and isinstance(c.type, sa.String):
            cols.append(sa.collate(c, "C"))
        else:
            cols.append(c)
    return cols


def _normal(value: Any) -> Any:
    """A value as the same JSON on SQLite and PostgreSQL."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:  # a plain DateTime column (none today): stored as UTC by convention
            value = value.replace(tzinfo=UTC)
        return "dt:" + value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return "d:" + value.isoformat()
    if isinstance(value, Decimal):
        return "n:" + format(value.normalize(), "f")  # 1.50 and 1.5000000000 are one number
    if isinstance(value, float):
        return "f:" + repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b:" + bytes(value).hex()
    return "r:" + repr(value)


def table_digest(conn: sa.Connection, table: sa.Table, *, batch: int = 2000) -> tuple[int, str]:
    """(rows, sha256) of ``table`` read through ``conn``: the rows in primary-key order, each as
    JSON of its normalised values in column order."""
    h = hashlib.sha256()
    count = 0
    result = conn.execution_options(yield_per=batch).execute(
        sa.select(*table.columns).order_by(*_order(table, conn.dialect)))
    for part in result.partitions():
        for row in part:
            h.update(json.dumps([_normal(v) for v in row], ensure_ascii=False, separators=(",", ":")).encode())
            h.update(b"\n")
            count += 1
    return count, h.hexdigest()


def rows_in(conn: sa.Connection, table: sa.Table) -> bool:
    return conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None


def check_target_empty(conn: sa.Connection, where: str) -> None:
    for table in tables():
        if rows_in(conn, table):
            raise CopyRefused(
                f"the target {where} is not empty: table {table.name} has rows. `coach db copy` only copies "
                "into an empty database: create a new one (e.g. createdb) or drop and re-create it, then run "
                "the copy again; nothing was written")


def _self_references(table: sa.Table) -> list[sa.Column[Any]]:
    """Nullable columns referring to the same table (a person's manager): inserted empty first and
    set once every row is in, since a manager's id may come after their report's."""
    return [fk.parent for fk in table.foreign_keys if fk.column.table is table and fk.parent.nullable]


def _copy_table(src: sa.Connection, dst: sa.Connection, table: sa.Table, batch: int) -> int:
    later = _self_references(table)
    pk = list(table.primary_key.columns)
    pending: list[dict[str, Any]] = []
    count = 0
    result = src.execution_options(yield_per=batch).execute(
        sa.select(*table.columns).order_by(*_order(table, src.dialect)))
    for part in result.partitions():
        rows = [dict(r._mapping) for r in part]
        if later:
            for r in rows:
                refs = {c.name: r[c.name] for c in later if r[c.name] is not None}
                if refs:
                    pending.append({**{f"k_{c.name}": r[c.name] for c in pk},
                                    **{f"v_{k}": v for k, v in refs.items()}})
                    for k in refs:
                        r[k] = None
        dst.execute(table.insert(), rows)
        count += len(rows)
    for col in later:
        todo = [p for p in pending if f"v_{col.name}" in p]
        if todo:
            stmt = (table.update().where(*[c == sa.bindparam(f"k_{c.name}") for c in pk])
                    .values({col.name: sa.bindparam(f"v_{col.name}")}))
            for i in range(0, len(todo), batch):
                chunk = [{k: v for k, v in p.items() if k.startswith("k_") or k == f"v_{col.name}"}
                         for p in todo[i:i + batch]]
                dst.execute(stmt, chunk)
    return count


def _reset_sequences(dst: sa.Connection) -> None:
    """PostgreSQL: each serial id's sequence moves past the copied ids, so new rows don't collide."""
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, sa.Integer):
            continue
        seq = dst.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                          {"t": table.name, "c": pk[0].name}).scalar()
        if seq is None:
            continue
        top = dst.execute(sa.select(sa.func.max(pk[0]))).scalar()
        # setval(seq, 1, false): the next id is 1 (an empty table); else the next is max + 1.
        dst.execute(sa.text("SELECT setval(:s, :v, :called)"),
                    {"s": seq, "v": top if top is not None else 1, "called": top is not None})


def copy_database(source: sa.Engine, target: sa.Engine, *, batch: int = 1000,
                  fail_after: Callable[[str], None] | None = None,
                  progress: Callable[[str, int], None] | None = None) -> CopyReport:
    """Copy every row of ``source`` into ``target`` (migrated to the current schema first, and
    refused unless empty), then read both back and compare. ``fail_after(table)`` is called after
    each table is written, inside the transaction (tests use it to fail a copy half-way)."""
    started = time.monotonic()
    head = migrate.head_revision()
    current = migrate.current_revision(source)
    where_src = source.url.render_as_string(hide_password=True)
    where_dst = target.url.render_as_string(hide_password=True)
    if current != head:
        state = "is not initialised" if current is None else f"is at schema {current}, not {head}"
        raise CopyRefused(f"the source {where_src} {state}: run `coach db upgrade` on it first")
    if where_src == where_dst:
        raise CopyRefused("the target is the source database: give another database with --to")
    with target.connect() as conn:  # before migrating: refuse a database that is someone else's
        have = set(sa.inspect(conn).get_table_names())
        ours = {t.name for t in tables()} | {"alembic_version"}
        foreign = sorted(have - ours)
        if foreign:
            raise CopyRefused(f"the target {where_dst} is not empty: it has tables this schema does not know "
                              f"({', '.join(foreign[:5])}). Give an empty database; nothing was written")
        if "alembic_version" in have:
            at = migrate.current_revision(target)
            if at != head and at is not None:
                raise CopyRefused(f"the target {where_dst} is at schema {at}, not {head}: give an empty database "
                                  "(or run `coach db upgrade` on it); nothing was written")
    migrate.upgrade(target)
    with _read_snapshot(source) as src, target.begin() as dst:
        check_target_empty(dst, where_dst)
        for table in tables():
            try:
                n = _copy_table(src, dst, table, batch)
            except sa.exc.DBAPIError as e:  # a value the target cannot hold, a lost connection, ...
                raise CopyFailed(table.name, e) from e
            if progress is not None:
                progress(table.name, n)
            if fail_after is not None:
                fail_after(table.name)
        if dst.dialect.name == "postgresql":
            _reset_sequences(dst)
    report = CopyReport(tables=verify(source, target))
    report.seconds = time.monotonic() - started
    return report


@contextmanager
def _read_snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection that sees one moment of the source throughout, so a copy taken while the bot
    writes is still consistent: a read-only REPEATABLE READ transaction on PostgreSQL; on SQLite an
    explicit BEGIN (the driver opens none for SELECTs), a snapshot of the write-ahead log."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        elif engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            conn.rollback()  # only read: nothing to keep


def verify(source: sa.Engine, target: sa.Engine, names: Iterable[sa.Table] | None = None) -> list[TableCheck]:
    """Counts and checksums of every table, computed separately on each side."""
    checks: list[TableCheck] = []
    chosen: Sequence[sa.Table] = list(names) if names is not None else tables()
    with source.connect() as s, target.connect() as t:
        for table in chosen:
            sn, ssum = table_digest(s, table)
            tn, tsum = table_digest(t, table)
            checks.append(TableCheck(table.name, sn, tn, ssum, tsum))
    return checks
