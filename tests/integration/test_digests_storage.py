"""Digests computed from the database: bulk loading, snapshots, subtree isolation."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from bot.db.models import Deal, Person
from bot.domain import money
from bot.imports.deals_csv import import_deals
from bot.imports.org_csv import import_org
from bot.playbooks.loader import load_playbook
from bot.services.deals import move_deal, take_snapshots
from bot.services.digests import all_digests

EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"
PB = load_playbook("default")
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
WEEK = date(2026, 11, 23)


def _id(session, email: str) -> str:
    return str(session.scalar(sa.select(Person.id).where(Person.email == email)))


def test_digests_cover_each_subtree_and_this_weeks_changes(session):
    import_org(session, EXAMPLES / "org.csv", now=NOW)
    import_deals(session, EXAMPLES / "deals.csv", PB, now=NOW)
    take_snapshots(session, WEEK, now=NOW)
    d3 = session.scalar(sa.select(Deal).where(Deal.ref == "D-3"))  # tommy (uk team), prospect
    move_deal(session, d3, "interested", PB, now=NOW, by=None, reason="ok", override=True)
    d3.amount = Decimal(70000)
    session.flush()

    nodes = all_digests(session, PB, WEEK, now=NOW)
    tim, konrad, grace = (_id(session, e) for e in
                          ("tim.bernerslee@example.com", "konrad.zuse@example.com", "grace.hopper@example.com"))
    uk_refs = {ref for ref, in session.execute(
        sa.select(Deal.ref).join(Person, Person.id == Deal.owner_id).where(Person.manager_id == int(tim)))}
    assert nodes[tim].movements == {"advanced": 1, "amount_changed": 1}
    assert {i.ref for i in nodes[tim].top_movements} == {"D-3"}
    assert nodes[konrad].movements == {}  # a sibling team: nothing of D-3 leaks in
    assert "D-3" not in {i.ref for i in nodes[konrad].top_attention}
    assert {i.ref for i in nodes[tim].top_attention} <= uk_refs
    # The whole company's open pipeline equals the sum over every open deal.
    open_deals = session.execute(sa.select(Deal.currency, Deal.amount).where(Deal.stage.not_in(["won", "lost"]))).all()
    assert nodes[grace].totals.open_amount == money.total(open_deals)
    assert nodes[grace].totals.open_count == len(open_deals)


def test_digests_flag_deals_with_no_update_and_a_next_step_past_its_date(session):
    import_org(session, EXAMPLES / "org.csv", now=NOW)
    import_deals(session, EXAMPLES / "deals.csv", PB, now=NOW)
    d3 = session.scalar(sa.select(Deal).where(Deal.ref == "D-3"))
    d3.next_step, d3.next_step_date = "Send the proposal", date(2026, 12, 1)
    d3.amount = Decimal(10_000_000)  # the largest: listed first among the flagged
    session.flush()
    tim = _id(session, "tim.bernerslee@example.com")
    later = datetime(2026, 12, 8, 12, tzinfo=UTC)  # two weeks and two days after the import
    nodes = all_digests(session, PB, date(2026, 12, 7), now=later, quiet_weeks=2)
    flagged = {i.ref: i.text for i in nodes[tim].top_attention}  # one line per deal, all its flags
    assert "next step “Send the proposal” was due 2026-12-01" in flagged["D-3"].split("; ")
    assert "no update for 2 weeks (since 2026-11-22)" in flagged["D-3"].split("; ")
    assert nodes[tim].concerns["no_update"] >= 1 and nodes[tim].concerns["next_step_overdue"] == 1
    # Three weeks' patience: nothing is quiet yet.
    assert "no_update" not in all_digests(session, PB, date(2026, 12, 7), now=later, quiet_weeks=3)[tim].concerns


def test_pipeline_digest_computes_only_the_callers_subtree_and_the_same_digest(session, monkeypatch):
    from bot.db import repo
    from bot.services import digests, tier_views

    import_org(session, EXAMPLES / "org.csv", now=NOW)
    import_deals(session, EXAMPLES / "deals.csv", PB, now=NOW)
    take_snapshots(session, WEEK, now=NOW)
    session.flush()
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    team = digests.load_team(session)
    nodes = all_digests(session, PB, WEEK, now=now)
    status = repo.checkin_status(session, WEEK)
    digest_rows = repo.digest_rows
    for email in ("tim.bernerslee@example.com", "alan.turing@example.com", "grace.hopper@example.com"):
        person = session.scalar(sa.select(Person).where(Person.email == email))
        asked: list = []

        def recording(s, week, *, owner_ids=None, asked=asked, **rest):
            asked.append(owner_ids)
            return digest_rows(s, week, owner_ids=owner_ids, **rest)

        monkeypatch.setattr(repo, "digest_rows", recording)
        mine = digests.digest_for(session, PB, person, now=now)
        monkeypatch.setattr(repo, "digest_rows", digest_rows)
        # The whole org's roll-up, lead scores on the caller's list (as a scheduled step scores the due managers').
        nodes = all_digests(session, PB, WEEK, now=now, scored={str(person.id)})
        tier = tier_views.tier_view(session, PB, team, nodes, str(person.id), WEEK, None,
                                    currency=digests.usual_currency(session, person), signoff_tier=3, now=now,
                                    margin=20)
        whole = digests.manager_digest(team, nodes, str(person.id), WEEK, status,
                                       digests.comments_for(session, person, WEEK), tier=tier)
        assert mine == whole  # the same digest as from the whole org's roll-up, its tier's section too
        subtree = sorted(int(k) for k in digests.org.subtree(team.managers, str(person.id)))
        assert [sorted(a) for a in asked] == [subtree]  # only the caller's subtree was loaded
    assert len(subtree) == len(team.names)  # the last one, the top, sees everyone; the others fewer
