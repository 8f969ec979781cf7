"""The Tuesday-to-Friday digest steps load what the due managers' digests show for all of them at
once: each scheduled digest is the one `/pipeline digest` gives, and a step's SQL statements do not
grow with the number of managers due."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.config import load_settings
from bot.db.models import Deal, ForecastReview, ManagerComment, Person
from bot.deps import build_deps
from bot.domain.cadence import digest_instant
from bot.services import digests
from bot.services.deals import move_deal, take_snapshots
from schedules import digest_steps

WEEK = date(2026, 11, 23)
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _person(session, name: str, tier: int, boss: Person | None) -> Person:
    n = session.scalar(sa.select(sa.func.count()).select_from(Person)) + 1
    p = Person(email=f"p{n}@steps.test", name=name, slack_user_id=f"U{n}", language="en",  # no Slack lookups
               timezone="UTC", manager_id=boss.id if boss else None, tier=tier, created_at=T0, updated_at=T0)
    session.add(p)
    session.flush()
    return p


def _org(session, deps, first_line: int) -> dict[str, Person]:
    """Top > region > second line > ``first_line`` first-line managers of two reps, two deals each;
    last week's forecast, a won deal and a review; this week's comments from the tier below."""
    pb = deps.playbook
    top = _person(session, "Tara Top", 4, None)
    region = _person(session, "Rhea Region", 3, top)
    second = _person(session, "Sid Second", 2, region)
    firsts = [_person(session, f"First {i:02d}", 1, second) for i in range(first_line)]
    n = 0
    for i, fl in enumerate(firsts):
        for j in range(2):
            rep = _person(session, f"Rep {i:02d}-{j}", 0, fl)
            for k in range(2):
                n += 1
                stage = pb.keys[(n + k) % (len(pb.keys) - 2)]
                session.add(Deal(ref=f"D-{n}", name=f"Deal {n}", account=f"Acc {n}", owner=rep,
                                 amount=Decimal(1000 * n) + Decimal("0.25"), currency="USD" if n % 3 else "EUR",
                                 close_date=date(2027, 1, n % 28 + 1), stage=stage,
                                 forecast=pb.stage(stage).forecast.value, next_step="Call", lost_reason="",
                                 stage_entered_at=T0, created_at=T0, updated_at=T0))
    session.flush()
    take_snapshots(session, WEEK, now=datetime(2026, 11, 23, 0, 30, tzinfo=UTC))
    # A deal won last week: the region's forecast of last week is checked against it.
    won = session.scalar(sa.select(Deal).where(Deal.ref == "D-1"))
    move_deal(session, won, pb.won.key, pb, now=datetime(2026, 11, 18, 10, tzinfo=UTC), by=None, reason="won",
              override=True)
    last = WEEK - timedelta(weeks=1)
    session.add_all([
        ManagerComment(author=region, week=last, text="", commit_amount=Decimal(900_000), currency="USD",
                       signed_off_at=T0, created_at=T0, updated_at=T0),
        ManagerComment(author=second, week=WEEK, text="Two big ones slip", commit_amount=Decimal(5000),
                       best_case_amount=Decimal(7000), currency="USD", created_at=T0, updated_at=T0),
        ManagerComment(author=firsts[0], week=WEEK, text="On track", created_at=T0, updated_at=T0),
        ManagerComment(author=region, week=WEEK, text="Signed", commit_amount=Decimal(4000),
                       best_case_amount=Decimal(6000), currency="EUR", signed_off_at=T0, created_at=T0,
                       updated_at=T0),
        ForecastReview(author=second, week=last, forecast=Decimal(10), won=Decimal(0), currency="USD",
                       wrong="Counted renewals", unknown="", misled="", next_steps="", created_at=T0),
    ])
    session.flush()
    return {"top": top, "region": region, "second": second, **{f"first{i}": p for i, p in enumerate(firsts)}}


@pytest.fixture
def deps(db_url):
    return build_deps(load_settings({"DATABASE_URL": db_url}))


@pytest.fixture
def no_charts(monkeypatch):
    monkeypatch.setattr(digest_steps, "_charts", lambda *a, **k: [])  # PNGs are drawn per manager: apart


def _step_at(deps, tier: int) -> datetime:
    return digest_instant(WEEK, tier, deps.settings.cadence, ZoneInfo("UTC"))


def test_each_scheduled_digest_is_the_on_demand_one(session, deps, no_charts, monkeypatch):
    _org(session, deps, first_line=3)
    made: dict[int, digests.ManagerDigest] = {}
    real = digests.manager_digest
    cadence = deps.settings.cadence
    seen_check = seen_review = seen_comment = seen_region = False
    for tier in (1, 2, 3, 4):
        at = _step_at(deps, tier)
        made.clear()

        def recording(team, nodes, key, *a, **k):
            made[int(key)] = real(team, nodes, key, *a, **k)
            return made[int(key)]

        monkeypatch.setattr(digests, "manager_digest", recording)
        sent = digest_steps.manager_digests(deps, session, now=at)
        monkeypatch.setattr(digests, "manager_digest", real)
        due = session.scalars(sa.select(Person).where(Person.tier == tier)).all()
        assert {o.key.recipient_id for o in sent if o.key.step == digest_steps.DIGEST} == {p.id for p in due}
        assert set(made) == {p.id for p in due}
        for person in due:
            on_demand = digests.digest_for(session, deps.playbook, person, now=at, quiet_weeks=cadence.quiet_weeks,
                                           currency=digests.reporting_currency(person,
                                                                               deps.settings.reporting_currency),
                                           signoff_tier=cadence.signoff_tier, forecast_margin=cadence.forecast_margin)
            assert made[person.id] == on_demand
            scheduled = made[person.id]
            seen_check |= scheduled.check is not None
            seen_review |= bool(scheduled.reviews)
            seen_comment |= bool(scheduled.comments)
            seen_region |= scheduled.tier is not None and scheduled.tier.report is not None and any(
                line.last is not None for line in scheduled.tier.report.regions)
    # The comparison covered every batched part: comments, a forecast check, a review, the top's regions.
    assert seen_check and seen_review and seen_comment and seen_region


def _statements(session, deps, *, due: int, of: int) -> tuple[int, int]:
    """SQL statements of the first-line step with ``due`` of its ``of`` managers due, and digests made."""
    firsts = session.scalars(sa.select(Person.id).where(Person.tier == 1).order_by(Person.id)).all()
    assert len(firsts) == of
    skip = set(firsts[due:])
    count = 0

    def counting(*_a) -> None:
        nonlocal count
        count += 1

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", counting)
    try:
        sent = digest_steps.manager_digests(deps, session, now=_step_at(deps, 1),
                                            done=lambda key: key.recipient_id in skip)
    finally:
        sa.event.remove(engine, "before_cursor_execute", counting)
    return count, sum(1 for o in sent if o.key.step == digest_steps.DIGEST)


def test_a_steps_statements_do_not_grow_with_the_managers_due(session, deps, no_charts):
    _org(session, deps, first_line=12)
    session.commit()
    few, made_few = _statements(session, deps, due=3, of=12)
    many, made_many = _statements(session, deps, due=12, of=12)
    assert (made_few, made_many) == (3, 12)
    # One query per kind of thing for all of them (before: four to six per manager, 36-54 more here).
    assert abs(many - few) <= 2, (few, many)
