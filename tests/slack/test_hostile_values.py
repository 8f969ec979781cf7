"""Values a person, a stale form or a forger sends that the handlers must not trust: each gets a
clear answer and changes nothing; none is an apology for an internal error or a traceback.

Every case here was an "I hit a problem" apology with a traceback in the log, or a change
stored unchecked, before its fix."""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import ActionPlan, Deal, Person
from bot.render.ids import Action, View
from tests.slack.harness import all_text, checks, date_value, select, text_input, wait_call

TOMMY = "tommy.flowers@example.com"  # rep, uk team, owns D-3 (prospect)
TIM = "tim.bernerslee@example.com"  # tommy's first-line manager
INTERNAL = "went wrong"  # the apology for an internal error (errors.j2: internal)


def said_since(coach, n: int) -> str:
    """Everything the app said to people after call ``n``, once the request's work is done."""
    coach.wait_idle(10)
    calls = [c for c in coach.fake.calls[n:] if c.method in ("response_url", "chat.postEphemeral", "chat.postMessage")]
    assert calls, "the app said nothing"
    return "\n".join(all_text(c.params.get("blocks")) or c.params.get("text", "") for c in calls)


def tracebacks(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


def count(coach, model) -> int:
    with transaction(coach.deps.sessions) as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_60000_character_deal_query_is_not_found_not_an_error(coach, caplog):
    caplog.set_level(logging.INFO)
    n = len(coach.fake.calls)
    coach.slack.command("/deal", "show " + "x%_" * 20_000, user=coach.uid(TOMMY))
    text = said_since(coach, n)
    assert "I found no deal matching" in text and "`/deal list`" in text, text
    assert INTERNAL not in text and not tracebacks(caplog)


def test_buttons_carrying_mangled_values_are_stale_not_errors(coach, caplog):
    caplog.set_level(logging.INFO)
    for value in ({"cmd": "list", "owner": "abc", "page": 2}, {"cmd": "list", "owner": 10**30},
                  {"cmd": "list", "owner": [1]}, {"cmd": "list", "owner": True},
                  {"cmd": "list", "owner": coach.person(TOMMY).id, "page": "abc"}):
        n = len(coach.fake.calls)
        coach.slack.click(f"{Action.PAGE}_next", json.dumps(value), user=coach.uid(TIM))
        text = said_since(coach, n)
        assert INTERNAL not in text, (value, text)
    for action in (Action.QUALIFY, Action.MEETING_PLAN):
        n = len(coach.fake.calls)
        coach.slack.click(action, json.dumps({"ref": ["D-3"]}), user=coach.uid(TIM))
        text = said_since(coach, n)
        assert INTERNAL not in text and "out of date" in text, (action, text)
    assert not tracebacks(caplog)


def _gate_page(coach) -> dict:
    """The second page of /deal new (a Prospect deal asks for its marker before it exists)."""
    n = len(coach.fake.calls_to("views.open"))
    coach.slack.command("/deal", "new", user=coach.uid(TOMMY))
    view = wait_call(coach.fake, "views.open", lambda c: c in coach.fake.calls_to("views.open")[n:]).params["view"]
    page = coach.slack.submit(view, {
        "name": text_input("Acme CRM"), "account": text_input("Acme"), "amount": text_input("12,500"),
        "currency": select("GBP"), "close_date": date_value("2027-03-31"), "stage": select("prospect"),
        "next_step": text_input("Discovery call"),
    }, user=coach.uid(TOMMY)).json()
    assert page["view"]["callback_id"] == View.NEW_DEAL_GATE
    return page["view"]


def test_the_second_page_of_a_new_deal_checks_what_the_first_page_checked(coach, caplog):
    caplog.set_level(logging.INFO)
    view = _gate_page(coach)
    meta = json.loads(view["private_metadata"])
    box = next(b for b in view["blocks"] if b["type"] == "input")
    before = count(coach, Deal)
    forged = [{"amount": "-1e30"}, {"amount": "NaN"}, {"amount": "1e400"}, {"name": "x" * 5000},
              {"currency": "not-a-currency"}, {"currency": "ZZZ"}, {"close_date": "2026-13-45"},
              {"close_date": "2020-01-01"}, {"name": ""}, {"stage": "lost"}, {"name": ["a"]}, {"amount": 5}]
    for change in forged:
        n = len(coach.fake.calls)
        tampered = {**view, "private_metadata": json.dumps({**meta, **change})}
        answer = coach.slack.submit(tampered, {box["block_id"]: checks("marker_prospect")}, user=coach.uid(TOMMY))
        assert answer.status == 200, change
        text = said_since(coach, n)
        assert "out of date" in text and INTERNAL not in text, (change, text)
    assert count(coach, Deal) == before
    # The page as the app made it still creates the deal.
    ok = coach.slack.submit(view, {box["block_id"]: checks("marker_prospect")}, user=coach.uid(TOMMY))
    assert ok.status == 200 and count(coach, Deal) == before + 1
    assert not tracebacks(caplog)


def test_forms_with_impossible_dates_or_overlong_text_say_which_field(coach):
    coach.slack.command("/deal", "update D-3", user=coach.uid(TOMMY))
    view = wait_call(coach.fake, "views.open").params["view"]
    answer = coach.slack.submit(view, {
        "name": text_input("x" * 201), "account": text_input("Woodgrove Bank"), "amount": text_input("75000"),
        "currency": select("GBP"), "close_date": date_value("2026-13-45"), "forecast": select("best_case"),
        "next_step": text_input("y" * 3001), "next_step_date": date_value("not a date"),
    }, user=coach.uid(TOMMY)).json()
    errors = answer["errors"]
    assert "keep it to 200" in errors["name"] and "keep it to 3,000" in errors["next_step"]
    assert "isn't a date" in errors["close_date"] and "isn't a date" in errors["next_step_date"]
    with transaction(coach.deps.sessions) as s:
        d = s.scalar(sa.select(Deal).where(Deal.ref == "D-3"))
        assert d is not None and len(d.name) <= 200


def _plan_form(coach) -> dict:
    n = len(coach.fake.calls_to("views.open"))
    coach.slack.click(Action.MEETING_PLAN, json.dumps({"ref": "D-3"}), user=coach.uid(TIM))
    return wait_call(coach.fake, "views.open", lambda c: c in coach.fake.calls_to("views.open")[n:]).params["view"]


def test_the_action_plan_form_refuses_what_its_button_refuses(coach):
    view = _plan_form(coach)
    bad = coach.slack.submit(view, {"plan_what": text_input("Book the CFO demo"), "plan_who": text_input("Tommy"),
                                    "plan_due": date_value("2026-13-45")}, user=coach.uid(TIM)).json()
    assert "isn't a date" in bad["errors"]["plan_due"]
    # The button refuses a rep a plan on their own deal; the form it opens must too.
    n = len(coach.fake.calls)
    answer = coach.slack.submit(view, {"plan_what": text_input("Nothing to see"), "plan_who": text_input("Me"),
                                       "plan_due": date_value("2026-11-27")}, user=coach.uid(TOMMY))
    assert answer.status == 200
    text = said_since(coach, n)
    assert INTERNAL not in text and "manager" in text.lower(), text
    assert count(coach, ActionPlan) == 0


def test_a_stale_move_back_form_is_out_of_date_not_an_internal_error(coach, caplog):
    caplog.set_level(logging.INFO)
    # Tommy opens "move D-3 back to Target" (it asks for a reason) ...
    n = len(coach.fake.calls_to("views.open"))
    coach.slack.command("/deal", "advance D-3 target", user=coach.uid(TOMMY))
    view = wait_call(coach.fake, "views.open", lambda c: c in coach.fake.calls_to("views.open")[n:]).params["view"]
    assert view["callback_id"] == View.REASON
    meta = json.loads(view["private_metadata"])
    # ... a form for a move the deal no longer matches (here: forward past an unmet gate, no override).
    stale = {**view, "private_metadata": json.dumps({**meta, "to": "negotiation"})}
    n = len(coach.fake.calls)
    answer = coach.slack.submit(stale, {"reason": text_input("Changed my mind")}, user=coach.uid(TOMMY))
    assert answer.status == 200
    text = said_since(coach, n)
    assert "out of date" in text and INTERNAL not in text, text
    with transaction(coach.deps.sessions) as s:
        assert s.scalar(sa.select(Deal.stage).where(Deal.ref == "D-3")) == "prospect"
    assert not tracebacks(caplog)


def test_currency_and_away_are_checked_for_sense_not_only_shape(coach):
    n = len(coach.fake.calls)
    coach.slack.command("/pipeline", "currency ZZZ", user=coach.uid(TIM))
    assert "isn't a currency code" in said_since(coach, n)
    with transaction(coach.deps.sessions) as s:
        assert s.scalar(sa.select(Person.reporting_currency).where(Person.email == TIM)) is None
    n = len(coach.fake.calls)
    coach.slack.command("/deal", "away until 9999-12-31", user=coach.uid(TOMMY))
    assert "more than a year from now" in said_since(coach, n)
    with transaction(coach.deps.sessions) as s:
        assert s.scalar(sa.select(Person.away_until).where(Person.email == TOMMY)) is None
