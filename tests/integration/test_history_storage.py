"""Stage history and weekly snapshots, as stored, feed the coaching numbers."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from bot.db import repo
from bot.db.models import DealSnapshot, Person
from bot.domain.history import conversions, time_in_stage
from bot.playbooks.loader import load_playbook
from bot.services.deals import NewDeal, create_deal, move_deal, take_snapshots

PB = load_playbook("default")
T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)


def _rep(session) -> Person:
    p = Person(email="rep@x.io", name="Rep", created_at=T0, updated_at=T0)
    session.add(p)
    return p


def test_stage_history_gives_time_in_stage_and_conversions(session):
    rep = _rep(session)
    a = create_deal(session, NewDeal("A", "Acme", rep, Decimal(10), "USD", "prospect"), PB, now=T0)
    b = create_deal(session, NewDeal("B", "Beta", rep, Decimal(20), "USD", "prospect"), PB, now=T0)
    move_deal(session, a, "project", PB, now=T0 + timedelta(days=3), by=rep, reason="big jump", override=True)
    move_deal(session, b, "lost", PB, now=T0 + timedelta(days=5), by=rep, reason="no budget")
    session.flush()
    history = repo.transitions(session)
    assert [(t.deal, t.from_stage, t.to_stage) for t in history] == [
        (a.ref, None, "prospect"), (b.ref, None, "prospect"), (a.ref, "prospect", "project"), (b.ref, "prospect", "lost"),
    ]
    assert all(t.at.tzinfo is not None for t in history)
    assert time_in_stage(history, a.ref, T0 + timedelta(days=10)) == 7
    conv = {(c.from_stage, c.to_stage): (c.reached_from, c.reached_to) for c in conversions(history, PB)}
    assert conv["prospect", "interested"] == (2, 1)  # A passed through interested on its jump; B was lost
    assert conv["interested", "project"] == (1, 1)
    last = a.history[-1]
    assert (last.gate_overridden, last.reason, last.changed_by.email) == (True, "big jump", "rep@x.io")


def test_weekly_snapshots_are_idempotent_per_week(session):
    rep = _rep(session)
    d = create_deal(session, NewDeal("A", "Acme", rep, Decimal(10), "USD", "prospect", date(2026, 12, 1)), PB, now=T0)
    session.flush()
    week = date(2026, 10, 5)
    assert take_snapshots(session, week, now=T0) == 1
    d.amount = Decimal(99)
    assert take_snapshots(session, week, now=T0 + timedelta(hours=1)) == 1
    snaps = session.scalars(sa.select(DealSnapshot)).all()
    assert len(snaps) == 1 and snaps[0].amount == Decimal(99)
    take_snapshots(session, week + timedelta(days=7), now=T0 + timedelta(days=7))
    assert session.scalar(sa.select(sa.func.count()).select_from(DealSnapshot)) == 2
