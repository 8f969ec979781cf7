"""Managers' calls stored: every submission kept, reviewed by the tier above only."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db.models import ForecastCall, Person
from bot.domain.calls import CallStatus, current_call
from bot.imports.org_csv import import_org
from bot.services.calls import calls_of, review_call, submit_call
from bot.services.errors import UserError

EXAMPLES = Path(__file__).parents[2] / "bot" / "examples"
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _p(session, email: str) -> Person:
    return session.scalar(sa.select(Person).where(Person.email == email))


@pytest.mark.postgres
def test_calls_are_kept_and_the_tier_above_reviews_the_latest(session):
    import_org(session, EXAMPLES / "org.csv", now=NOW)
    tim, alan = _p(session, "tim.bernerslee@example.com"), _p(session, "alan.turing@example.com")
    tommy = _p(session, "tommy.flowers@example.com")
    assert tim.manager_id == alan.id and tommy.manager_id == tim.id
    submit_call(session, tim, "2026-Q4", commit=Decimal(100_000), best_case=Decimal(150_000), currency="EUR", now=NOW)
    later = NOW + timedelta(days=7)
    submit_call(session, tim, "2026-Q4", commit=Decimal("120000.50"), best_case=Decimal(150_000), currency="EUR",
                now=later)
    session.commit()
    calls = calls_of(session, [tim.id], ["2026-Q4"])
    assert [c.commit for c in calls] == [Decimal(100_000), Decimal("120000.50")]
    assert current_call(calls, str(tim.id), "2026-Q4").submitted_at == later

    with pytest.raises(UserError) as e:
        review_call(session, tommy, tim, "2026-Q4", approve=True, comment="", now=later)  # a report, not the manager
    assert e.value.key == "not_your_report"
    with pytest.raises(UserError) as e:
        review_call(session, alan, tim, "2026-Q4", approve=False, comment="  ", now=later)
    assert e.value.key == "return_needs_comment"
    back = review_call(session, alan, tim, "2026-Q4", approve=False, comment="D-12 is not commit yet", now=later)
    assert back.status is CallStatus.RETURNED and back.reviewer == str(alan.id)
    ok = review_call(session, alan, tim, "2026-Q4", approve=True, comment="", now=later)
    assert ok.status is CallStatus.APPROVED
    session.commit()
    statuses = session.scalars(sa.select(ForecastCall.status).order_by(ForecastCall.submitted_at)).all()
    assert statuses == ["submitted", "approved"]  # the review is of the latest call; the first stays as it was


@pytest.mark.postgres
def test_a_call_must_make_sense_and_come_from_a_manager(session):
    import_org(session, EXAMPLES / "org.csv", now=NOW)
    tim, tommy = _p(session, "tim.bernerslee@example.com"), _p(session, "tommy.flowers@example.com")
    for who, commit, best, cur, key in [(tommy, 1, 2, "EUR", "not_a_manager"), (tim, -1, 2, "EUR", "call_negative"),
                                        (tim, 5, 2, "EUR", "call_best_below_commit"), (tim, 1, 2, "ZZZ", "bad_currency")]:
        with pytest.raises(UserError) as e:
            submit_call(session, who, "2026-Q4", commit=Decimal(commit), best_case=Decimal(best), currency=cur, now=NOW)
        assert e.value.key == key
    with pytest.raises(UserError) as e:
        review_call(session, _p(session, "alan.turing@example.com"), tim, "2026-Q4", approve=True, comment="", now=NOW)
    assert e.value.key == "no_call_yet"
    assert session.scalar(sa.select(sa.func.count()).select_from(ForecastCall)) == 0
