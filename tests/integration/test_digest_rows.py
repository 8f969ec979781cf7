"""The scheduled digests' fast path (narrow rows, ``compute_rows``) against the straightforward one
(every deal's ``DealFacts`` from ``repo.load_facts``, then ``digest.compute``), on random orgs."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bot.db import repo
from bot.db.models import BantAnswer, CheckIn, Contact, Deal, DealSnapshot, ExchangeRate, Person
from bot.domain.digest import Node, compute, in_currency, ranked
from bot.domain.score import lead_score_value
from bot.playbooks.loader import load_playbook
from bot.services.digests import all_digests, load_org_input

PB = load_playbook("default")
WEEK = date(2026, 11, 23)
NOW = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
CURRENCIES = ("USD", "EUR", "GBP", "JPY")  # JPY has no rate: it stays as it is


def _build(session, seed: int) -> None:
    """A random org of three or four tiers and its deals, with last week's snapshots, older ones
    (close dates moving), BANT answers and buying roles (some blank), check-ins and rates."""
    rnd = random.Random(seed)
    t = NOW - timedelta(days=60)
    people: list[Person] = []
    bosses: list[int | None] = [None]
    top_tier = rnd.choice((2, 3))
    for tier in range(top_tier, -1, -1):
        count = 1 if tier == top_tier else rnd.randint(len(bosses), len(bosses) * 3)
        made = [Person(email=f"p{len(people) + i}@t.io", name=f"P{len(people) + i}", timezone="UTC",
                       manager_id=rnd.choice(bosses), tier=tier, created_at=t, updated_at=t) for i in range(count)]
        session.add_all(made)
        session.flush()
        people += made
        bosses = [p.id for p in made]
    keys = [*PB.keys, "lost"]
    n = 0
    for owner in people:
        for _ in range(rnd.choice((0, 1, 3, 8, 14, 25)) if owner.tier == 0 else rnd.choice((0, 0, 2))):
            n += 1
            stage = rnd.choice(keys)
            amount = Decimal(rnd.choice((1000, 2500, 40000, 40000, 125000))) + Decimal(rnd.choice((0, 0, 50)))
            amount += Decimal(rnd.choice((0, 0, 0, 25))) / 100  # some cents
            close = date(2026, 12, 1) + timedelta(days=rnd.randrange(120)) if rnd.random() < 0.9 else None
            deal = Deal(ref=f"D-{n}", name=f"Deal {n}", account="A", owner_id=owner.id, amount=amount,
                        currency=rnd.choice(CURRENCIES), close_date=close, stage=stage,
                        forecast=rnd.choice(("pipeline", "best_case", "commit")),
                        next_step=rnd.choice(("", "Call them")),
                        next_step_date=rnd.choice((None, NOW.date() - timedelta(days=3), NOW.date() + timedelta(3))),
                        lost_reason="", stage_entered_at=NOW - timedelta(days=rnd.randrange(60), hours=rnd.randrange(24)),
                        created_at=t, updated_at=NOW - timedelta(days=rnd.randrange(30), minutes=rnd.randrange(90)))
            session.add(deal)
            session.flush()
            if rnd.random() < 0.85:  # last week's snapshot; the rest are new this week
                changed = rnd.random() < 0.4
                was = rnd.choice(keys) if changed and rnd.random() < 0.5 else stage
                was_close = close
                if changed and close is not None and rnd.random() < 0.5:
                    was_close = close - timedelta(days=rnd.choice((7, 30)))
                was_amount = amount + (1000 if changed and rnd.random() < 0.3 else 0)
                session.add(DealSnapshot(deal_id=deal.id, week=WEEK, stage=was, amount=was_amount,
                                         currency=deal.currency, close_date=was_close,
                                         forecast=rnd.choice(("pipeline", "commit")), taken_at=t))
            for back in range(1, rnd.choice((1, 2, 4, 6))):  # older weeks: the close date moves, or not
                old = None if close is None or rnd.random() < 0.1 else close - timedelta(days=rnd.choice((0, 10, 20)) * back)
                session.add(DealSnapshot(deal_id=deal.id, week=WEEK - timedelta(weeks=back), stage=stage, amount=amount,
                                         currency=deal.currency, close_date=old, forecast="pipeline", taken_at=t))
            for item in ("need", "budget", "authority", "timeline"):
                if rnd.random() < 0.4:
                    session.add(BantAnswer(deal_id=deal.id, item=item, answer=rnd.choice(("yes", "  ", "")),
                                           confirmed_at=t))
            for role in ("economic_buyer", "coach", "technical_buyer"):
                if rnd.random() < 0.3:
                    session.add(Contact(deal_id=deal.id, role=role, name=rnd.choice(("Ann", " "))))
    for p in people:
        if rnd.random() < 0.7:
            session.add(CheckIn(person_id=p.id, week=WEEK,
                                status=rnd.choice(("pending", "partial", "complete", "away")), updated_at=t))
    session.add_all([ExchangeRate(valid_from=date(2026, 1, 1), from_currency="EUR", to_currency="USD",
                                  rate=Decimal("1.0837"), imported_at=t),
                     ExchangeRate(valid_from=date(2026, 1, 1), from_currency="GBP", to_currency="USD",
                                  rate=Decimal("1.2655"), imported_at=t)])
    session.flush()


def _reference(session, currency: str | None, root: str | None = None) -> dict[str, Node]:
    data = load_org_input(session, WEEK)
    if currency:
        data = in_currency(data, repo.load_rates(session), currency, NOW.date())
    roots = [root] if root else [str(p) for p in session.scalars(sa.select(Person.id).where(Person.manager_id.is_(None)))]
    return compute(data, roots, PB, now=NOW)


def _items(heap) -> list:
    return [(i.amount, i.ref, i.owner, i.text, i.parts) for i in ranked(heap)]


def _assert_same(fast: dict[str, Node], ref: dict[str, Node]) -> None:
    assert fast.keys() == ref.keys()
    for key, r in ref.items():
        f = fast[key]
        assert f.totals == r.totals, key  # open, weighted, by stage, by forecast, won, lost
        assert f.last_week == r.last_week, key
        assert (f.movements, f.movement_amounts, f.concerns, f.checkins) == \
            (r.movements, r.movement_amounts, r.concerns, r.checkins), key
        assert _items(f.top_movements) == _items(r.top_movements), key
        assert _items(f.top_attention) == _items(r.top_attention), key


@pytest.mark.parametrize("seed", range(6))
def test_the_fast_path_gives_the_same_nodes_as_the_facts_path(session, seed):
    _build(session, seed)
    reports = repo.manager_map(session)
    for currency in (None, "USD"):
        fast = all_digests(session, PB, WEEK, now=NOW, currency=currency)
        ref = _reference(session, currency)
        _assert_same(fast, ref)
        # Something was compared: movements, flags and lists that had to be cut to the largest few.
        top = next(k for k, m in reports.items() if m is None)
        assert ref[top].movements and ref[top].concerns and ref[top].totals.open_count
        # The items managers see carry their lead score, from the deal's whole facts.
        facts = {d.ref: d for d in repo.load_facts(session)}
        for key, node in fast.items():
            if key in reports.values():
                for item in node.top_attention:
                    assert item.score == lead_score_value(facts[item.ref], PB, now=NOW, weights=PB.scoring)
    # One manager's subtree on its own (``/pipeline digest``): the same again.
    managers = [k for k in set(reports.values()) if k is not None]
    some = sorted(managers)[seed % len(managers)]
    _assert_same(all_digests(session, PB, WEEK, now=NOW, root=some, managers=reports), _reference(session, None, some))


def test_lists_are_cut_and_amounts_converted_in_the_random_orgs(session):
    """The random orgs reach what the comparison is for: owners with more flagged deals than a list
    keeps, converted amounts, deals slipping over several weeks."""
    _build(session, 3)
    ref = _reference(session, "USD")
    assert any(sum(n.concerns.values()) > 10 and len(n.top_attention) == 10 for n in ref.values())
    assert any(i.parts and any(a.concern == "big_late" for a in i.parts) for n in ref.values() for i in n.top_attention)
    assert any("slipping" in n.concerns for n in ref.values())
    assert any(set(n.totals.open_amount) == {"USD", "JPY"} for n in ref.values())


def test_deals_closed_before_the_week_are_not_read(session):
    """A company's closed history can be most of its deals: rows closed both now and in the week's
    snapshot are left in the database (the comparison above shows the digests don't change)."""
    _build(session, 3)
    closed = (PB.won.key, "lost")
    every = repo.digest_rows(session, WEEK)
    read = repo.digest_rows(session, WEEK, closed=closed)
    history = {r.ref for r in every if r.stage in closed and r.was_stage in closed}
    assert history  # the random org has some
    assert {r.ref for r in read} == {r.ref for r in every} - history
    # Closed this week (open in the snapshot, or new) is still read: it is this week's news.
    assert any(r.stage in closed and r.was_stage not in closed for r in read)


def test_only_the_digests_to_be_shown_are_scored(session):
    """Scoring reads each listed deal's whole facts: a step scores its due managers' lists only."""
    _build(session, 3)
    reports = repo.manager_map(session)
    managers = sorted({m for m in reports.values() if m is not None})
    due = managers[0]
    nodes = all_digests(session, PB, WEEK, now=NOW, scored={due})
    assert nodes[due].top_attention and all(i.score is not None for i in nodes[due].top_attention)
    shown = {i.ref for i in nodes[due].top_attention}  # lists share items up the tree: those are scored anywhere
    others = [i for m in managers[1:] for i in nodes[m].top_attention if i.ref not in shown]
    assert others and all(i.score is None for i in others)


@pytest.mark.parametrize("picked_out", [True, False])
def test_a_few_managers_digests_from_their_subtrees_alone(session, monkeypatch, picked_out):
    """A step with a few managers due (one timezone's) rolls up only their subtrees: reading just their
    deals when those are a small part of the org, else every deal; the same nodes either way."""
    from bot.domain import org
    from bot.services import digests

    _build(session, 3)
    reports = repo.manager_map(session)
    managers = sorted({m for m in reports.values() if m is not None})
    whole = all_digests(session, PB, WEEK, now=NOW, currency="USD")
    below = org.reports_of(reports)
    first_line = [m for m in managers if not any(below.get(r) for r in below.get(m, ()))]
    due = set(first_line[:2])
    assert len(due) == 2
    if picked_out:
        monkeypatch.setattr(digests, "SUBTREE_READ_SHARE", 1.0)  # the random org is small: two teams are most of it
    else:
        monkeypatch.setattr(digests, "SUBTREE_READ_AT_MOST", 0)
    asked: list = []
    digest_rows = repo.digest_rows
    monkeypatch.setattr(repo, "digest_rows", lambda s, week, **kw: asked.append(kw.get("owner_ids")) or
                        digest_rows(s, week, **kw))
    some = all_digests(session, PB, WEEK, now=NOW, currency="USD", within=due)
    beneath = {k for m in due for k in org.subtree(reports, m)}
    assert set(some) == beneath and len(beneath) > 2  # their subtrees' nodes, nobody else's
    _assert_same(some, {k: whole[k] for k in beneath})
    assert asked == ([sorted(int(k) for k in beneath)] if picked_out else [None])
