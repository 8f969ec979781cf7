"""An upgrade with data: a database of each earlier release's schema, built by Alembic and filled
with rows through plain SQL against that schema (not the current models, whose columns differ),
upgraded to head; every value put in must come out, and each new column must hold its default.

SQLite alters a table by copying it (batch mode), so this is where a migration could lose or
mangle rows: every table and column of each earlier schema is filled, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from bot.db.engine import make_engine
from bot.db.migrate import alembic_config, current_revision, head_revision, upgrade
from bot.db.models import Base

ROWS = 3  # row 0 and 1 full; row 2 has None in every nullable column

# A migration that fills a new NOT NULL column from existing data, or renames or drops one,
# says here what the upgraded rows must hold: {(table, column): function(old row) -> value}.
# (None of 0002-0011 does: their new columns are nullable or have a server default.)
FILLED_BY_MIGRATION: dict[tuple[str, str], Any] = {}
DROPPED: set[tuple[str, str]] = set()


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    ordered = [r.revision for r in script.walk_revisions("base", "heads")][::-1]  # oldest first
    return ordered[:-1]  # every release before head


def _value(table: sa.Table, col: sa.Column[Any], i: int) -> Any:
    """A representative value of ``col``'s type for row ``i``: unique per row, with microseconds,
    cents, text beyond ASCII and both booleans."""
    t = col.type
    if col.nullable and i == 2 and not col.primary_key:
        return None
    for fk in col.foreign_keys:
        if fk.column.table is table:  # a person's manager: the first row manages the others
            return None if i == 0 else 1
        return (i % ROWS) + 1
    if col.primary_key and isinstance(t, sa.Integer):
        return i + 1
    if isinstance(t, sa.Boolean):
        return i % 2 == 0
    if isinstance(t, sa.Integer):
        return 10 + i
    if isinstance(t, sa.Numeric) and not isinstance(t, sa.Float):
        return Decimal("12345.67") + i
    if isinstance(t, sa.Float):
        return 1795000000.25 + i
    if isinstance(t, sa.DateTime):
        return datetime(2026, 11, 23, 8, 0, 0, 123456, tzinfo=UTC) + timedelta(days=i, microseconds=i)
    if isinstance(t, sa.Date):
        return date(2026, 11, 23) + timedelta(days=7 * i)
    if isinstance(t, sa.String):
        text = f"{i}·{col.name} Zoë 张 ✓"
        length = getattr(t, "length", None)
        return text[:length] if length else text
    pytest.fail(f"no test value for {table.name}.{col.name} of type {t!r}: add one to _value")


def _fill(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    """ROWS rows in every table of the database as it is, by reflection; returns what was put in."""
    old = sa.MetaData()
    old.reflect(engine)
    put: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as conn:
        for table in old.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [{c.name: _value(table, c, i) for c in table.columns} for i in range(ROWS)]
            for row in rows:  # one by one: a row may refer to one before it
                conn.execute(table.insert(), row)
            put[table.name] = rows
    return put


def _expected_default(col: sa.Column[Any], old_row: dict[str, Any]) -> Any:
    key = (col.table.name, col.name)
    if key in FILLED_BY_MIGRATION:
        return FILLED_BY_MIGRATION[key](old_row)
    default = col.server_default
    if default is not None:
        arg = getattr(default, "arg", None)
        if isinstance(arg, sa.sql.elements.False_):
            return False
        if isinstance(arg, sa.sql.elements.True_):
            return True
        pytest.fail(f"{key}: new column with server default {arg!r}: say what the upgrade gives in the test")
    if not col.nullable:
        pytest.fail(f"{key}: a new NOT NULL column without a server default: its migration must fill it; "
                    "add what it holds to FILLED_BY_MIGRATION")
    return None


@pytest.mark.parametrize("start", _revisions())
def test_upgrade_keeps_every_row(db_url, start):
    engine = make_engine(db_url)
    try:
        upgrade(engine, start)
        assert current_revision(engine) == start
        put = _fill(engine)
        assert put, "an earlier schema with no tables"
        upgrade(engine)
        assert current_revision(engine) == head_revision()

        new = Base.metadata.tables
        with engine.connect() as conn:
            for name, rows in put.items():
                assert name in new, f"table {name} is gone after the upgrade"
                table = new[name]
                old_cols = set(rows[0])
                for gone in old_cols - set(table.columns.keys()):
                    assert (name, gone) in DROPPED, f"{name}.{gone} was lost in the upgrade from {start}"
                pk = list(table.primary_key.columns)
                got = [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(*pk))]
                assert len(got) == len(rows), f"{name}: {len(rows)} rows before the upgrade, {len(got)} after"
                by_key = {tuple(r[c.name] for c in pk): r for r in got}
                for row in rows:
                    after = by_key[tuple(row[c.name] for c in pk)]
                    for col, value in row.items():
                        if (name, col) in DROPPED:
                            continue
                        assert after[col] == value, f"{name}.{col}: {value!r} before the upgrade from {start}, " \
                                                    f"{after[col]!r} after"
                    for col in table.columns:
                        if col.name not in old_cols:
                            want = _expected_default(col, row)
                            assert after[col.name] == want, f"{name}.{col.name} (new): {after[col.name]!r}, " \
                                                            f"not {want!r}"
    finally:
        engine.dispose()


def test_every_release_before_head_is_covered():
    revs = _revisions()
    assert revs[0] == "0001" and len(revs) == len(set(revs))
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_revision(head_revision())
    assert head is not None and head.down_revision == revs[-1]  # head-1: the previous release


def test_rows_that_cascade_from_a_rebuilt_table_survive(db_url):
    """0009 rebuilds `person` on SQLite. With foreign keys on during it, the DROP of the old table
    deleted what cascades from a person (check-ins) without a word, when nothing refused the DROP."""
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0008")
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO person (id, email, name, tier, created_at, updated_at) "
                                 "VALUES (1, 'a@example.com', 'A', 0, :t, :t)"),
                         {"t": datetime(2026, 11, 23, tzinfo=UTC)})
            conn.execute(sa.text("INSERT INTO check_in (id, person_id, week, status, updated_at) "
                                 "VALUES (1, 1, :w, 'complete', :t)"),
                         {"w": date(2026, 11, 23), "t": datetime(2026, 11, 23, tzinfo=UTC)})
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM check_in")).scalar() == 1
            assert conn.execute(sa.text("SELECT deactivated FROM person")).scalar() in (False, 0)
    finally:
        engine.dispose()
