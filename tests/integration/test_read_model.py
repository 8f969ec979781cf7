"""One read model: a deal reads the same whether loaded alone or in bulk, and a move returns the deal as stored."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.db import repo
from bot.db.models import BantAnswer, ConfirmedCharacteristic, Contact, Person
from bot.playbooks.loader import load_playbook
from bot.services.access import actor_for
from bot.services.deals import NewDeal, advance_deal, create_deal, default_currency, mark_lost
from bot.services.errors import UserError

PB = load_playbook("default")
T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)


def _person(session, email: str, manager: Person | None = None) -> Person:
    p = Person(email=email, name=email.split("@")[0].title(), manager=manager, created_at=T0, updated_at=T0)
    session.add(p)
    session.flush()
    return p


def _deal(session, owner: Person, name: str, currency: str = "USD", stage: str = "prospect"):
    return create_deal(session, NewDeal(name, "Acme", owner, Decimal(100), currency, stage, date(2027, 1, 31)), PB,
                       now=T0)


def test_one_deal_and_the_bulk_loader_read_the_same(session):
    boss = _person(session, "boss@x.io")
    rep = _person(session, "rep@x.io", boss)
    a = _deal(session, rep, "A")
    b = _deal(session, boss, "B", "EUR")
    a.bant.append(BantAnswer(item="need", answer="quotes take a week", confirmed_at=T0))
    a.contacts.append(Contact(role="coach", name="Ann"))
    session.flush()
    bulk = repo.load_facts(session)
    assert bulk == [repo.to_facts(a), repo.to_facts(b)]
    assert [f.owner for f in bulk] == [str(rep.id), str(boss.id)]  # the owner is a person id, everywhere
    assert bulk[0].has_bant("need") and bulk[0].roles == {"coach": ("Ann",)}
    assert repo.load_facts(session, owner_ids=[boss.id]) == [repo.to_facts(b)]


def test_a_move_returns_the_deal_as_it_is_then_stored(session):
    rep = _person(session, "rep@x.io")
    deal = _deal(session, rep, "A", stage="target")
    deal.characteristics.append(ConfirmedCharacteristic(key="marker_prospect", confirmed_at=T0))  # the gate is open
    actor = actor_for(session, rep, frozenset())
    move = advance_deal(session, actor, deal, None, PB, now=T0 + timedelta(days=1))
    assert move.moved and (move.from_stage, move.to_stage) == ("target", "prospect")
    session.flush()
    assert move.deal == repo.to_facts(deal)
    lost = mark_lost(session, actor, deal, " no budget ", PB, now=T0 + timedelta(days=2))
    session.flush()
    assert lost.deal == repo.to_facts(deal) and lost.deal.lost_reason == "no budget"


def test_a_closed_gate_stops_the_move_and_says_what_is_missing(session):
    rep = _person(session, "rep@x.io")
    deal = _deal(session, rep, "A", stage="prospect")
    move = advance_deal(session, actor_for(session, rep, frozenset()), deal, None, PB, now=T0)
    assert not move.moved and move.gate.missing and not move.may_override
    assert deal.stage == "prospect" and len(deal.history) == 1
    with pytest.raises(UserError) as e:
        advance_deal(session, actor_for(session, rep, frozenset()), deal, "prospect", PB, now=T0)
    assert e.value.key == "same_stage"


def test_one_default_currency_for_a_new_deal_or_a_forecast(session):
    boss = _person(session, "boss@x.io")
    reps = [_person(session, f"rep{i}@x.io", boss) for i in range(3)]
    newcomer = _person(session, "new@x.io", boss)
    _deal(session, reps[0], "A", "EUR")
    _deal(session, reps[1], "B", "EUR")
    _deal(session, reps[2], "C", "GBP")
    session.flush()
    assert default_currency(session, reps[2]) == "GBP"  # their own latest deal
    assert default_currency(session, boss) == "EUR"  # no deal of their own: what most of their team's are in
    assert default_currency(session, newcomer) == "USD"  # nothing to go by
    _deal(session, boss, "D", "JPY")
    session.flush()
    assert default_currency(session, boss) == "JPY"


def test_the_manager_map_reads_an_org_with_large_ids(session):
    """Its change check multiplies ids: with ids in the thousands that is past 32 bits (PostgreSQL refused)."""
    t = datetime(2026, 11, 2, tzinfo=UTC)
    boss = Person(id=5000, email="boss@big.io", name="Boss", created_at=t, updated_at=t)
    session.add(boss)
    session.flush()
    session.add(Person(id=5001, email="rep@big.io", name="Rep", manager_id=5000, created_at=t, updated_at=t))
    session.flush()
    managers = repo.manager_map(session)
    assert managers["5001"] == "5000" and managers["5000"] is None
