"""Buying roles and the four evaluations, recorded any time and shown item by item."""

from __future__ import annotations

import json

import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import Contact, Deal, EvaluationAnswer
from bot.render.ids import Action, View
from tests.slack.harness import all_text, select, text_input, wait_call, wait_reply

TOMMY = "tommy.flowers@example.com"  # rep, owns D-3 (prospect)
LISE = "lise.meitner@example.com"  # rep in another team


def run(coach, text: str, who: str) -> str:
    answer, url = coach.slack.command("/deal", text, user=coach.uid(who))
    assert answer.status == 200 and answer.body == ""
    return all_text(wait_reply(coach.fake, url)["blocks"])


def _open_form(coach, who: str = TOMMY) -> dict:
    opened = len(coach.fake.calls_to("views.open"))
    answer, _ = coach.slack.command("/deal", "qualify D-3", user=coach.uid(who))
    assert answer.status == 200
    view = wait_call(coach.fake, "views.open", lambda c: c in coach.fake.calls_to("views.open")[opened:]).params["view"]
    assert view["callback_id"] == View.QUALIFY
    return view


def test_every_role_and_every_evaluation_item_can_be_answered_at_any_time(coach):
    view = _open_form(coach)
    ids = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    # All four roles (the user role too, which no gate asks for) and all 20 evaluation items, in a prospect.
    assert [i for i in ids if i.startswith("role__")] == ["role__economic_buyer", "role__technical_buyer",
                                                          "role__user", "role__coach"]
    assert len([i for i in ids if i.startswith("item__")]) == 20
    answer = coach.slack.submit(view, {
        "role__user": text_input("Mia Hall, planner\nOwen Ruiz, dispatcher"),
        "role__coach": text_input("Ana Díaz\nLeo Park"),  # the source: develop at least one coach
        "item__is_real__project_clear": select("yes"),
        "item__is_real__business_strong": select("no"),
        "item__can_win__coach_supports": select("yes"),
    }, user=coach.uid(TOMMY))
    assert answer.status == 200 and answer.body == ""
    with transaction(coach.deps.sessions) as s:
        d = s.scalar(sa.select(Deal).where(Deal.ref == "D-3"))
        roles = {(c.role, c.name) for c in s.scalars(sa.select(Contact).where(Contact.deal_id == d.id))}
        assert {("user", "Mia Hall, planner"), ("user", "Owen Ruiz, dispatcher"),
                ("coach", "Ana Díaz"), ("coach", "Leo Park")} <= roles
        rows = {(a.evaluation, a.item): (a.answer, a.answered_by.email)
                for a in s.scalars(sa.select(EvaluationAnswer).where(EvaluationAnswer.deal_id == d.id))}
        assert rows == {("is_real", "project_clear"): (True, TOMMY), ("is_real", "business_strong"): (False, TOMMY),
                        ("can_win", "coach_supports"): (True, TOMMY)}
        assert d.stage == "prospect"  # answering is not moving

    shown = run(coach, "show D-3", TOMMY)
    assert "The customer's application or project: clear · yes _(Tommy Flowers, " in shown
    assert ":x: The customer's business: strong · no _(Tommy Flowers, " in shown
    assert ":grey_question: The customer's financial position: sound · _unknown_" in shown
    assert "*User:* Mia Hall, planner, Owen Ruiz, dispatcher" in shown and "*Coach:* Ana Díaz, Leo Park" in shown

    # "Don't know yet" clears an answer that no longer holds; an emptied role is cleared.
    view = _open_form(coach)
    prefilled = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert prefilled["item__is_real__business_strong"]["initial_option"]["value"] == "no"
    assert prefilled["role__coach"]["initial_value"] == "Ana Díaz\nLeo Park"
    coach.slack.submit(view, {"item__is_real__business_strong": select("unknown"), "role__user": text_input("")},
                       user=coach.uid(TOMMY))
    shown = run(coach, "show D-3", TOMMY)
    assert ":grey_question: The customer's business: strong · _unknown_" in shown
    assert "*User:* not named yet" in shown


def test_the_card_offers_the_form_and_others_cannot_see_the_deal(coach):
    _answer, url = coach.slack.command("/deal", "show D-3", user=coach.uid(TOMMY))
    blocks = wait_reply(coach.fake, url)["blocks"]
    button = next(e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"] == Action.QUALIFY)
    assert json.loads(button["value"]) == {"ref": "D-3"}
    coach.slack.click(button["action_id"], button["value"], user=coach.uid(TOMMY))
    assert wait_call(coach.fake, "views.open").params["view"]["callback_id"] == View.QUALIFY
    assert "D-3 isn't yours or in your team" in run(coach, "qualify D-3", LISE)
