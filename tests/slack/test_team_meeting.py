"""Monday's team meeting: the important deals one by one, an action plan each, followed up at the check-in."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import ActionPlan, Deal, Person
from bot.render.ids import Action, View
from tests.slack.harness import all_text, date_value, select, text_input, wait_call, wait_reply

TIM = "tim.bernerslee@example.com"  # first-line manager of the uk team
TOMMY = "tommy.flowers@example.com"  # a rep in it
WEEK = date(2026, 11, 23)


def command(coach, cmd: str, text: str, who: str) -> list[dict]:
    answer, url = coach.slack.command(cmd, text, user=coach.uid(who))
    assert answer.status == 200
    return wait_reply(coach.fake, url)["blocks"]


def opened(coach, before: int) -> dict:
    return wait_call(coach.fake, "views.open", lambda c: c in coach.fake.calls_to("views.open")[before:]).params["view"]


def test_the_team_meeting_lists_important_deals_and_agrees_plans_followed_up_at_the_check_in(coach):
    blocks = command(coach, "/pipeline", "review", TIM)
    text = all_text(blocks)
    assert text.startswith("Team meeting · Tim Berners-Lee")
    rows = [b for b in blocks if b["type"] == "section" and b.get("accessory")]
    assert rows and all(b["accessory"]["action_id"] == Action.MEETING_PLAN for b in rows)
    with transaction(coach.deps.sessions) as s:
        team = {d.ref: d.stage for d in s.scalars(sa.select(Deal).join(Person, Person.id == Deal.owner_id)
                                                   .where(Person.manager_id == coach.person(TIM).id))}
    refs = [json.loads(b["accessory"]["value"])["ref"] for b in rows]
    order = coach.deps.playbook.keys
    assert set(refs) <= set(team) and "won" not in {team[r] for r in refs}
    positions = [order.index(team[r]) for r in refs]
    assert positions == sorted(positions, reverse=True)  # late stage first
    assert "_Still missing:_" in text  # each with its open gaps

    tommys = [r for r in refs if coach.person(TOMMY).id == _owner(coach, r)]
    ref = tommys[0]
    button = next(b["accessory"] for b in rows if json.loads(b["accessory"]["value"])["ref"] == ref)
    n = len(coach.fake.calls_to("views.open"))
    coach.slack.click(button["action_id"], button["value"], user=coach.uid(TIM))
    view = opened(coach, n)
    assert view["callback_id"] == View.ACTION_PLAN
    bad = coach.slack.submit(view, {"plan_what": text_input("Book the CFO demo"), "plan_who": text_input("Tommy"),
                                    "plan_due": date_value("2026-11-01")}, user=coach.uid(TIM)).json()
    assert bad["errors"] == {"plan_due": "That date has passed: pick today or later."}
    ok = coach.slack.submit(view, {"plan_what": text_input("Book the CFO demo"), "plan_who": text_input("Tommy"),
                                   "plan_due": date_value("2026-11-27")}, user=coach.uid(TIM))
    assert ok.status == 200 and ok.body == ""

    # The rep sees it in the deal...
    card = all_text(command(coach, "/deal", f"show {ref}", TOMMY))
    assert ":dart: Book the CFO demo · Tommy · by 2026-11-27 _(agreed with Tim Berners-Lee" in card
    # ...and the next check-in asks whether it was done.
    n = len(coach.fake.calls_to("views.open"))
    coach.slack.click(Action.CHECKIN_UPDATE, json.dumps({"week": WEEK.isoformat(), "ref": ref}), user=coach.uid(TOMMY))
    view = opened(coach, n)
    plan_block = next(b for b in view["blocks"] if b.get("block_id", "").startswith("plan_done__"))
    assert "Book the CFO demo" in plan_block["label"]["text"] and "Done?" in plan_block["label"]["text"]
    answer = coach.slack.submit(view, {
        plan_block["block_id"]: select("yes"), "amount": text_input("1000"), "currency": select("USD"),
        "close_date": date_value("2027-03-01"), "forecast": select("pipeline"), "next_step": text_input("Demo"),
        "next_step_date": date_value(None), "note": text_input(""),
    }, user=coach.uid(TOMMY))
    assert answer.status == 200
    with transaction(coach.deps.sessions) as s:
        plan = s.scalar(sa.select(ActionPlan).join(Deal).where(Deal.ref == ref))
        assert (plan.what, plan.who, plan.due, plan.done) == ("Book the CFO demo", "Tommy", date(2026, 11, 27), True)
        assert plan.agreed_by.email == TIM and plan.followed_up_at is not None
    assert "_(agreed with Tim Berners-Lee" in all_text(command(coach, "/deal", f"show {ref}", TOMMY))
    assert "; done)_" in all_text(command(coach, "/deal", f"show {ref}", TOMMY))


def test_a_rep_has_no_team_meeting(coach):
    assert "managers" in all_text(command(coach, "/pipeline", "review", TOMMY)).lower()


def _owner(coach, ref: str) -> int:
    with transaction(coach.deps.sessions) as s:
        return s.scalar(sa.select(Deal.owner_id).where(Deal.ref == ref))
