"""`coach db copy --to URL`: every table from one database into an empty one, SQLite and
PostgreSQL in each direction, proven by counts and checksums read back from both sides."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from click.testing import CliRunner

from bot.cli import main
from bot.db import models as m
from bot.db.copy import CopyRefused, TableCheck, _normal, copy_database, rows_in, table_digest, tables
from bot.db.engine import make_engine

EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"
T0 = datetime(2026, 11, 23, 8, 0, 0, 123456, tzinfo=UTC)  # a fixed moment: no wall clock in these tests
PG = bool(os.environ.get("TEST_DATABASE_URL") or os.environ.get("CI"))
needs_pg = pytest.mark.skipif(not PG, reason="TEST_DATABASE_URL is not set")


@pytest.fixture
def new_db(tmp_path) -> Iterator[Callable[[str], str]]:
    """new_db(backend) -> the URL of a new, empty database (PostgreSQL ones are dropped afterwards)."""
    made: list[str] = []
    admin = sa.make_url(os.environ["TEST_DATABASE_URL"]) if os.environ.get("TEST_DATABASE_URL") else None
    eng = sa.create_engine(admin, isolation_level="AUTOCOMMIT") if admin is not None else None

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}"
        if eng is None or admin is None:
            pytest.fail("TEST_DATABASE_URL is not set")
        name = f"coach_c_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:12]}"
        with eng.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return admin.set(database=name).render_as_string(hide_password=False)

    yield make
    if eng is not None:
        with eng.connect() as c:
            for name in made:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()


@pytest.fixture
def coach(tmp_path, monkeypatch):
    """coach(url, *args): run ``coach ARGS`` in-process with DATABASE_URL=url."""
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    for var in ("COACH_PLAYBOOK", "COACH_CONFIG", "COACH_ADMINS"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()

    def run(url: str, *args: str):
        monkeypatch.setenv("DATABASE_URL", url)
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def populate(coach, url: str) -> None:
    """The example org and deals, rates, and a row or more in every other table, with the values
    that differ between the backends: microseconds, offsets, Decimals, floats, booleans, None,
    text beyond ASCII, text keys, and a manager whose id comes after their report's."""
    for args in (("init",), ("org", "import", str(EXAMPLES / "org.csv")),
                 ("deals", "import", str(EXAMPLES / "deals.csv")), ("rates", "import", str(EXAMPLES / "rates.csv"))):
        r = coach(url, *args)
        assert r.exit_code == 0, r.output
    eng = make_engine(url)
    try:
        with so.Session(eng) as s, s.begin():
            rep = m.Person(email="zoe@example.com", name="Zoë 张", tier=0, created_at=T0, updated_at=T0,
                           timezone="Asia/Shanghai", language="zh", deactivated=True,
                           profile_checked_at=T0 + timedelta(microseconds=1))
            s.add(rep)
            s.flush()
            boss = m.Person(email="yan@example.com", name="Yan", tier=1, created_at=T0, updated_at=T0,
                            away_until=date(2026, 12, 24))
            s.add(boss)
            s.flush()
            rep.manager_id = boss.id  # the manager's id is after the report's
            deal = s.scalars(sa.select(m.Deal).order_by(m.Deal.id)).first()
            assert deal is not None
            week = date(2026, 11, 23)
            s.add_all([
                m.BantAnswer(deal_id=deal.id, item="budget", answer="€50k, signed off", confirmed_at=T0,
                             confirmed_by_id=rep.id),
                m.Contact(deal_id=deal.id, role="champion", name="Ada", title="CTO"),
                m.ConfirmedCharacteristic(deal_id=deal.id, key="pain", confirmed_at=T0, confirmed_by_id=None),
                m.EvaluationAnswer(deal_id=deal.id, evaluation="fit", item="scale", answer=False, answered_at=T0),
                m.EvaluationAnswer(deal_id=deal.id, evaluation="fit", item="budget", answer=True, answered_at=T0),
                m.DealSnapshot(deal_id=deal.id, week=week, stage=deal.stage, amount=Decimal("12345.60"),
                               currency="EUR", close_date=None, forecast="commit",
                               taken_at=datetime(2026, 11, 23, 9, 30, tzinfo=timezone(timedelta(hours=8)))),
                m.HandledEvent(event_id="Ev0B", handled_at=T0),
                m.HandledEvent(event_id="ev0a", handled_at=T0),
                m.HandledEvent(event_id="Ev_Z", handled_at=T0),
                m.ManagerComment(author_id=boss.id, week=week, text="Solid week 👍", commit_amount=Decimal("0.01"),
                                 best_case_amount=None, currency="USD", created_at=T0, updated_at=T0),
                m.Target(person_id=rep.id, period="2026-Q4", starts=date(2026, 10, 1), ends=date(2026, 12, 31),
                         amount=Decimal("1234567890123.45"), currency="USD", set_by_id=boss.id, updated_at=T0),
                m.WeeklyActivity(person_id=rep.id, week=week, visits=3, calls=None, proposals=0, skipped=False,
                                 recorded_at=T0),
                m.ActionPlan(deal_id=deal.id, what="Demo", who="Zoë", due=date(2026, 11, 30), agreed_at=T0,
                             done=None),
                m.ForecastReview(author_id=boss.id, week=week, forecast=Decimal("100"), won=Decimal("99.99"),
                                 currency="USD", wrong="—", created_at=T0),
                m.SendBudget(name="posts", next_slot=1795000000.123456, paused_until=0.1),
                m.ForecastCall(author_id=boss.id, period="FY2027-Q1", commit_amount=Decimal("120000.50"),
                               best_case_amount=Decimal("150000"), currency="EUR", submitted_at=T0,
                               status="returned", reviewer_id=rep.id, review_comment="D-12 isn't commit ✋",
                               reviewed_at=T0 + timedelta(days=1)),
            ])
            ci = m.CheckIn(person_id=rep.id, week=week, status="complete", prompted_at=T0, started_at=None,
                           completed_at=T0 + timedelta(hours=1), updated_at=T0, prompt_channel="D1", prompt_ts="1.2")
            s.add(ci)
            s.flush()
            s.add(m.DealReview(check_in_id=ci.id, deal_id=deal.id, outcome="updated", note="", answered_at=T0,
                               late=True))
            s.add(m.ScheduledSend(week=week, step="monday_prompt", recipient_id=rep.id, status="sent", due_at=T0,
                                  claimed_by="host:1", lease_until=T0, claimed_wall=T0, attempts=1, channel="D1",
                                  ts="1.2", sent_at=T0, late=False, last_error=None, updated_at=T0))
    finally:
        eng.dispose()


def digests(url: str) -> dict[str, tuple[int, str]]:
    eng = make_engine(url)
    try:
        with eng.connect() as c:
            return {t.name: table_digest(c, t) for t in tables()}
    finally:
        eng.dispose()


PAIRS = [("sqlite", "sqlite"),
         pytest.param("sqlite", "postgresql", marks=needs_pg),
         pytest.param("postgresql", "sqlite", marks=needs_pg),
         pytest.param("postgresql", "postgresql", marks=needs_pg)]


@pytest.mark.parametrize(("src", "dst"), PAIRS)
def test_copy_every_table_and_prove_it(coach, new_db, tmp_path, src, dst):
    source, target = new_db(src), new_db(dst)
    populate(coach, source)
    before = digests(source)
    assert [t for t, (n, _) in before.items() if n == 0] == []  # every table the schema knows has rows here

    # postgresql:// as people write it (DATABASE_URL takes it too): psycopg 3, as for DATABASE_URL
    r = coach(source, "db", "copy", "--to", target.replace("postgresql+psycopg://", "postgresql://"))
    assert r.exit_code == 0, r.output
    assert "every count and checksum matches" in r.output and "Traceback" not in r.output
    assert "MISMATCH" not in r.output
    for t in tables():  # the report lists each table with its count
        assert any(line.startswith(t.name + " ") and f"{before[t.name][0]:>8}" in line for line in r.output.splitlines())

    assert digests(source) == before  # the source is only read
    assert digests(target) == before  # and the copy, read back on its own, is the same rows
    assert digests(target)["person"][0] == 48 and digests(target)["deal"][0] == 90

    # New rows in the copy get new ids (PostgreSQL's sequences moved past the copied ones), and it works.
    header = (EXAMPLES / "org.csv").read_text().splitlines()[0]
    f = tmp_path / "one-more.csv"
    f.write_text(header + "\nnew.person@example.com,New Person" + "," * (header.count(",") - 1) + "\n")
    r = coach(target, "org", "import", str(f))
    assert r.exit_code == 0, r.output
    assert "1 added" in r.output
    r = coach(target, "deals", "list", "--owner", "tim.bernerslee@example.com")
    assert r.exit_code == 0 and r.output.startswith("Pipeline for Tim Berners-Lee:")


@pytest.mark.parametrize("dst", ["sqlite", pytest.param("postgresql", marks=needs_pg)])
def test_a_target_with_rows_is_refused_and_not_written(coach, new_db, dst):
    source, target = new_db("sqlite"), new_db(dst)
    populate(coach, source)
    assert coach(target, "init").exit_code == 0
    assert coach(target, "rates", "import", str(EXAMPLES / "rates.csv")).exit_code == 0
    before = digests(target)
    r = coach(source, "db", "copy", "--to", target)
    assert r.exit_code == 1
    assert "table exchange_rate has rows" in r.output and "empty database" in r.output
    assert "Traceback" not in r.output
    assert digests(target) == before


@pytest.mark.parametrize("dst", ["sqlite", pytest.param("postgresql", marks=needs_pg)])
def test_a_copy_that_fails_half_way_leaves_the_target_empty(coach, new_db, dst):
    source, target = new_db("sqlite"), new_db(dst)
    populate(coach, source)
    src, tgt = make_engine(source), make_engine(target)
    written: list[str] = []

    def fail_after(table: str) -> None:
        written.append(table)
        if table == "deal":
            raise RuntimeError("the disk is full (simulated)")

    try:
        with pytest.raises(RuntimeError, match="simulated"):
            copy_database(src, tgt, batch=7, fail_after=fail_after)
        assert "person" in written and "deal" in written  # rows were written before it failed ...
        with tgt.connect() as c:
            assert [t.name for t in tables() if rows_in(c, t)] == []  # ... and rolled back
        report = copy_database(src, tgt, batch=7)  # the empty target takes a copy again
        assert report.ok and report.rows == sum(n for n, _ in digests(source).values())
    finally:
        src.dispose()
        tgt.dispose()


def test_a_source_not_at_the_current_schema_is_refused(new_db):
    src, tgt = make_engine(new_db("sqlite")), make_engine(new_db("sqlite"))
    try:
        with src.connect():
            pass
        with pytest.raises(CopyRefused, match="is not initialised"):
            copy_database(src, tgt)
    finally:
        src.dispose()
        tgt.dispose()


def test_a_mismatch_is_reported_table_by_table_and_exits_1(coach, new_db, monkeypatch):
    source, target = new_db("sqlite"), new_db("sqlite")
    populate(coach, source)
    import bot.db.copy as copy_module

    real = copy_module.verify

    def lying(s, t, names=None):
        checks = real(s, t, names)
        return [TableCheck(c.table, c.source_rows, c.target_rows - (c.table == "deal"), c.source_sum,
                           "0" * 64 if c.table == "deal" else c.target_sum) for c in checks]

    monkeypatch.setattr(copy_module, "verify", lying)
    r = coach(source, "db", "copy", "--to", target)
    assert r.exit_code == 1
    line = next(x for x in r.output.splitlines() if x.startswith("deal "))
    assert "MISMATCH" in line and "DIFFERS" in line
    assert "differs from the source in 1 of" in r.output and "(deal)" in r.output


@needs_pg
def test_values_one_backend_cannot_hold_are_caught(coach, new_db):
    """SQLite keeps NUMERIC as a float (about 15 significant digits); PostgreSQL keeps 18 exactly.
    The checksums catch the rounding one way; PostgreSQL's refusal is one line the other way."""
    pg, lite, pg2 = new_db("postgresql"), new_db("sqlite"), new_db("postgresql")
    for url in (pg, lite):
        assert coach(url, "init").exit_code == 0
        assert coach(url, "org", "import", str(EXAMPLES / "org.csv")).exit_code == 0
        eng = make_engine(url)
        with so.Session(eng) as s, s.begin():
            s.add(m.Target(person_id=1, period="2026", starts=date(2026, 1, 1), ends=date(2026, 12, 31),
                           amount=Decimal("9999999999999999.99"), currency="USD", updated_at=T0))
        eng.dispose()
    r = coach(pg, "db", "copy", "--to", new_db("sqlite"))
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "MISMATCH" in next(x for x in r.output.splitlines() if x.startswith("target "))
    assert "differs from the source in 1 of" in r.output
    r = coach(lite, "db", "copy", "--to", pg2)  # SQLite's float rounds up to 1e16: too big for NUMERIC(18, 2)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "the copy failed in table target: numeric field overflow" in r.output
    assert "rolled back and is empty" in r.output
    assert all(n == 0 for n, _ in digests(pg2).values())


@pytest.mark.parametrize("to", ["not a url", "nosuchdb://x/y", "mysql://u:secret@h/db",
                                "sqlite:////no/such/folder/x.db"])
def test_a_bad_target_is_one_line(coach, new_db, to):
    source = new_db("sqlite")
    assert coach(source, "init").exit_code == 0
    r = coach(source, "db", "copy", "--to", to)
    assert r.exit_code == 1 and "Traceback" not in r.output and "secret" not in r.output
    assert r.output.strip().splitlines()[-1].startswith("Error: ")


@needs_pg
def test_an_unreachable_postgresql_target_is_one_line(coach, new_db):
    source = new_db("sqlite")
    assert coach(source, "init").exit_code == 0
    r = coach(source, "db", "copy", "--to", "postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "cannot use the" in r.output


def test_values_are_normalised_alike_on_both_backends():
    assert _normal(Decimal("1.50")) == _normal(Decimal("1.5000000000")) == _normal(Decimal("1.5"))
    assert _normal(Decimal("100.00")) == "n:100" and _normal(Decimal("0E-10")) == "n:0"
    eight = timezone(timedelta(hours=8))
    assert _normal(datetime(2026, 11, 23, 16, 0, tzinfo=eight)) == _normal(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    assert _normal(True) is True and _normal(None) is None and _normal(date(2026, 1, 2)) == "d:2026-01-02"
    assert _normal(0.1) == "f:0.1"
