"""Going live: the first tick after an install or an import sends nothing that fell due before it,
and deals that arrive mid-week are the week's baseline (no "new", nothing "vs last week")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from bot.app import web_client
from bot.db.engine import transaction
from bot.db.models import Deal, DealSnapshot, Person, ScheduledSend
from bot.services.deals import NewDeal, create_deal
from bot.services.golive import mark_live
from schedules.runner import tick
from tests.slack.conftest import NOW  # a Tuesday, 10:00 UTC


def sends(coach) -> list[ScheduledSend]:
    with transaction(coach.deps.sessions) as s:
        return list(s.scalars(sa.select(ScheduledSend)))


def test_the_first_tick_after_an_import_sends_nothing_that_fell_due_before_it(coach):
    client = web_client(coach.deps.settings)
    with transaction(coach.deps.sessions) as s:
        mark_live(s, now=NOW, why="deals imported from crm.csv")
    first = tick(coach.deps, client, now=NOW + timedelta(minutes=1), senders=1)
    # Tuesday's first-line digests (09:00) and reminders (08:00) fell due before: not sent, said so.
    assert first.sent == [] and first.before_live and not first.late
    assert "fell due before going live" in first.summary()
    assert coach.fake.messages() == []
    # The next due moment goes out as usual: Wednesday's digests.
    wednesday = tick(coach.deps, client, now=datetime(2026, 11, 25, 9, 5, tzinfo=UTC), senders=1)
    assert wednesday.sent and all(r.due_at >= NOW for r in sends(coach))


def test_without_going_live_the_same_tick_catches_up_late(coach):
    report = tick(coach.deps, web_client(coach.deps.settings), now=NOW + timedelta(minutes=1), senders=1)
    assert report.sent and report.late  # what the grace window is for, once live


def test_a_replay_before_going_live_is_left_alone(coach):
    with transaction(coach.deps.sessions) as s:
        mark_live(s, now=NOW + timedelta(days=7), why="installed")
    report = tick(coach.deps, web_client(coach.deps.settings), now=NOW + timedelta(minutes=1), senders=1)
    assert report.sent and not report.before_live


def test_deals_imported_mid_week_join_the_weeks_snapshot_as_its_baseline(coach):
    client = web_client(coach.deps.settings)
    tick(coach.deps, client, now=NOW, senders=1)  # the week's snapshots are taken
    with transaction(coach.deps.sessions) as s:
        owner = s.scalar(sa.select(Person).where(Person.tier == 0).order_by(Person.id))
        deal = create_deal(s, NewDeal("Imported", "Acme", owner, Decimal(5000), "EUR", "negotiation"),
                           coach.deps.playbook, now=NOW + timedelta(hours=1))
        s.flush()
        deal_id = deal.id
        mark_live(s, now=NOW + timedelta(hours=1), why="deals imported")
    with transaction(coach.deps.sessions) as s:
        snap = s.scalar(sa.select(DealSnapshot).where(DealSnapshot.deal_id == deal_id,
                                                      DealSnapshot.week == datetime(2026, 11, 23).date()))
        assert snap is not None and (snap.stage, snap.amount) == ("negotiation", Decimal(5000))
        assert s.get(Deal, deal_id) is not None


def test_the_first_digest_after_a_mid_week_import_calls_nothing_new(coach):
    from bot.fakeslack.driver import all_text

    client = web_client(coach.deps.settings)
    tick(coach.deps, client, now=NOW, senders=1)  # the week's snapshots are taken (and Tuesday's sends go)
    at = NOW + timedelta(hours=2)
    with transaction(coach.deps.sessions) as s:
        owner = s.scalar(sa.select(Person).where(Person.email == "rosalind.franklin@example.com"))
        for i in range(3):
            create_deal(s, NewDeal(f"Imported history {i}", "Acme", owner, Decimal(400_000), "GBP", "negotiation"),
                        coach.deps.playbook, now=at)
        s.flush()
        mark_live(s, now=at, why="deals imported")
    coach.fake.clear()
    tick(coach.deps, client, now=datetime(2026, 11, 25, 9, 5, tzinfo=UTC), senders=1)  # Wednesday's digests
    texts = [all_text(m.params.get("blocks") or []) for m in coach.fake.messages()]
    digests = [t for t in texts if "Pipeline digest" in t]
    assert digests
    alan = next(t for t in digests if "Alan Turing" in t.splitlines()[0])  # Rosalind is in his subtree
    assert "new 3" not in alan and "+GBP 1,200,000 vs last week" not in alan
    assert "GBP 2,090,000" in alan  # the imported deals are in the pipeline, as its baseline
