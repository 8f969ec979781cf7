"""The region head's sign-off (认可) of the forecast: one click, or an adjusted figure with a comment."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import ManagerComment, Person
from bot.imports.rates_csv import import_rates
from bot.render.ids import Action, View
from tests.slack.harness import all_text, buttons, digest, select, text_input, wait_call, wait_reply

ADA = "ada.lovelace@example.com"  # region head (tier 3): EUR and GBP teams beneath
GRACE = "grace.hopper@example.com"  # the top
TIM = "tim.bernerslee@example.com"  # first-line manager


def click(coach, button: dict, who: str) -> str:
    _, url = coach.slack.click(button["action_id"], button["value"], user=coach.uid(who))
    return all_text(wait_reply(coach.fake, url)["blocks"])


def test_a_region_head_signs_off_with_one_click_and_the_top_sees_it(coach, tmp_path):
    assert Action.DIGEST_SIGNOFF not in buttons(digest(coach, TIM))  # first-line: comment only
    signoff = buttons(digest(coach, ADA))[Action.DIGEST_SIGNOFF]
    assert signoff["text"]["text"] == "Sign off"
    # Without rates the forecast is EUR + GBP: no single figure to sign off.
    assert "several currencies (EUR, GBP)" in click(coach, signoff, ADA)
    rates = tmp_path / "rates.csv"
    rates.write_text("date,from,to,rate\n2026-01-01,EUR,USD,1.08\n2026-01-01,GBP,USD,1.27\n")
    with transaction(coach.deps.sessions) as s:
        import_rates(s, rates, now=datetime(2026, 11, 1, tzinfo=UTC))
    said = click(coach, signoff, ADA)
    m = re.search(r"commit USD ([\d,]+), best case USD ([\d,]+), as rolled up", said)
    assert m and said.startswith(":white_check_mark: Signed off")
    with transaction(coach.deps.sessions) as s:
        c = s.scalar(sa.select(ManagerComment).join(Person, Person.id == ManagerComment.author_id)
                     .where(Person.email == ADA))
        assert c.signed_off_at is not None and c.currency == "USD"
        assert f"{c.commit_amount:,.0f}" == m.group(1) and f"{c.best_case_amount:,.0f}" == m.group(2)
    top = all_text(digest(coach, GRACE))
    assert f"*Ada Lovelace* :white_check_mark: signed off · forecast: commit USD {m.group(1)}" in top
    assert Action.DIGEST_SIGNOFF not in buttons(digest(coach, GRACE))  # nobody above the top


def test_an_adjusted_figure_with_a_comment_is_the_region_heads_sign_off_too(coach):
    adjust = buttons(digest(coach, ADA))[Action.DIGEST_ADJUST]
    assert adjust["text"]["text"] == "Adjust & sign off" and Action.DIGEST_COMMENT not in buttons(digest(coach, ADA))
    coach.slack.click(adjust["action_id"], adjust["value"], user=coach.uid(ADA))
    view = wait_call(coach.fake, "views.open", lambda c: c.params["view"]["callback_id"] == View.DIGEST_COMMENT)
    form = view.params["view"]
    assert form["title"]["text"] == "Adjust the forecast" and form["submit"]["text"] == "Sign off"
    # An adjusted figure needs its reason and its commit.
    refused = coach.slack.submit(form, {"comment": text_input(""), "commit": text_input(""),
                                        "best_case": text_input(""), "currency": select("EUR")},
                                 user=coach.uid(ADA)).json()
    assert refused["response_action"] == "errors"
    assert refused["errors"] == {"comment": "Say why you adjust the figure.", "commit": "Give the commit you sign off."}
    answer = coach.slack.submit(form, {
        "comment": text_input("Two renewals slip to Q1; I take the rest."), "commit": text_input("500000"),
        "best_case": text_input("650000"), "currency": select("EUR")}, user=coach.uid(ADA))
    assert answer.status == 200
    own = all_text(digest(coach, ADA))
    assert ("You signed off an adjusted figure: commit EUR 500,000, best case EUR 650,000: "
            "“Two renewals slip to Q1; I take the rest.”") in own
    top = all_text(digest(coach, GRACE))
    assert ("*Ada Lovelace* :white_check_mark: signed off: Two renewals slip to Q1; I take the rest. · "
            "forecast: commit EUR 500,000, best case EUR 650,000") in top
    assert "• *Ada Lovelace*: :white_check_mark: signed off: commit EUR 500,000, best case EUR 650,000" in top
    assert json.loads(adjust["value"])["week"] == "2026-11-23"
    tim_btn = buttons(digest(coach, TIM))[Action.DIGEST_COMMENT]
    assert "Signing off the forecast is for region heads" in click(
        coach, {**tim_btn, "action_id": Action.DIGEST_SIGNOFF}, TIM)
    assert "Signing off the forecast is for region heads" in click(
        coach, {**tim_btn, "action_id": Action.DIGEST_ADJUST}, TIM)
