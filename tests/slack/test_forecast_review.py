"""Forecast against actual: a manager whose forecast missed by more than the margin is asked why."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import Deal, ForecastReview, Person
from bot.render.ids import Action, View
from bot.services.deals import move_deal
from bot.services.digests import save_comment
from tests.slack.harness import all_text, text_input, wait_call, wait_reply

TIM = "tim.bernerslee@example.com"  # first-line manager; the review goes up to his manager
LAST_WEEK = date(2026, 11, 16)


def digest(coach, who: str) -> list[dict]:
    answer, url = coach.slack.command("/pipeline", "digest", user=coach.uid(who))
    assert answer.status == 200
    return wait_reply(coach.fake, url)["blocks"]


def test_a_missed_forecast_asks_the_sources_questions_and_the_answers_go_up(coach):
    with transaction(coach.deps.sessions) as s:
        tim = s.scalar(sa.select(Person).where(Person.email == TIM))
        boss = tim.manager.email
        deal = s.scalar(sa.select(Deal).join(Person, Person.id == Deal.owner_id)
                        .where(Person.manager_id == tim.id, Deal.stage == "negotiation").order_by(Deal.id))
        move_deal(s, deal, "won", coach.deps.playbook, now=datetime(2026, 11, 18, 15, tzinfo=UTC), by=None,
                  reason="signed", override=True)
        won, currency = deal.amount, deal.currency
        save_comment(s, tim, LAST_WEEK, text="", commit=won * 3, best_case=None, currency=currency,
                     now=datetime(2026, 11, 17, 9, tzinfo=UTC))
    blocks = digest(coach, TIM)
    text = all_text(blocks)
    assert (f"*Forecast against actual, week of 16 Nov*: you forecast {currency} {won * 3:,.0f}; the team won "
            f"{currency} {won:,.0f}") in text
    assert "what did we do wrong? What don't we know? Did the customer mislead us? What do we do next?" in text
    button = next(e for b in blocks if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == Action.FORECAST_REVIEW)
    n = len(coach.fake.calls_to("views.open"))
    coach.slack.click(button["action_id"], button["value"], user=coach.uid(TIM))
    view = wait_call(coach.fake, "views.open", lambda c: c in coach.fake.calls_to("views.open")[n:]).params["view"]
    assert view["callback_id"] == View.FORECAST_REVIEW
    empty = coach.slack.submit(view, {}, user=coach.uid(TIM)).json()
    assert empty["response_action"] == "errors"
    answer = coach.slack.submit(view, {"review__wrong": text_input("We counted two renewals still in legal"),
                                       "review__next_steps": text_input("Only commit signed-off quotes")},
                                user=coach.uid(TIM))
    assert answer.status == 200 and answer.body == ""
    with transaction(coach.deps.sessions) as s:
        r = s.scalar(sa.select(ForecastReview))
        assert (r.week, r.forecast, r.won, r.wrong) == (LAST_WEEK, won * 3, won, "We counted two renewals still in legal")
    assert ":white_check_mark: Answered." in all_text(digest(coach, TIM))
    above = all_text(digest(coach, boss))
    assert "*Forecast reviews from your managers*" in above
    assert ("*Tim Berners-Lee*: forecast " in above and "Wrong: We counted two renewals still in legal" in above
            and "Next: Only commit signed-off quotes" in above)


def test_a_forecast_within_the_margin_asks_nothing(coach):
    with transaction(coach.deps.sessions) as s:
        tim = s.scalar(sa.select(Person).where(Person.email == TIM))
        save_comment(s, tim, LAST_WEEK, text="", commit=Decimal(0), best_case=None, currency="GBP",
                     now=datetime(2026, 11, 17, 9, tzinfo=UTC))
    assert "Forecast against actual" not in all_text(digest(coach, TIM))
