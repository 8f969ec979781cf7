"""/pipeline plan, /pipeline target and /deal list by score, over signed HTTP against the fake Slack."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import Target
from tests.slack.test_deal_commands import ADA, KONRAD, TIM, TOMMY, run


def targets(coach) -> dict[tuple[str, str], tuple[Decimal, str]]:
    with transaction(coach.deps.sessions) as s:
        return {(t.person.email, t.period): (t.amount, t.currency) for t in s.scalars(sa.select(Target))}


def test_a_manager_sets_a_reports_target_and_the_plan_works_back_from_it(coach):
    text = run(coach, f"target <@{coach.uid(TOMMY)}> 240,000", TIM, "/pipeline")
    assert "Tommy Flowers's target for 2026-11 is now *GBP 240,000*" in text
    assert targets(coach) == {(TOMMY, "2026-11"): (Decimal(240_000), "GBP")}
    text = run(coach, "target", TIM, "/pipeline")
    assert "• Tommy Flowers: GBP 240,000 for 2026-11" in text
    text = run(coach, "plan", TOMMY, "/pipeline")
    assert "Plan: Tommy Flowers · 2026-11" in text
    assert "*Target* 2026-11: GBP 240,000 · won GBP 0 · left GBP 240,000" in text
    assert "*Coverage*: open GBP 180,000 (0.8×) · weighted GBP 36,000 (0.1×) of what is left" in text
    # 204,000 left at GBP 60,000 a deal (his open deals' average: nothing won yet) = 4 deals.
    assert "that is *4 deals*" in text and "Over 5 working days" in text
    assert "*Last week (from 2026-11-16)*: no activity reported" in text
    # a manager asks for a report's plan with a target of their own choosing
    text = run(coach, f"plan <@{coach.uid(TOMMY)}> 30000", TIM, "/pipeline")
    assert "*Target* 2026-11: GBP 30,000" in text and "*On track:* what is won and the weighted pipeline" in text


def test_only_a_manager_above_sets_a_target_and_bad_input_says_how(coach):
    text = run(coach, f"target <@{coach.uid(TIM)}> 1000", TOMMY, "/pipeline")
    assert "isn't in your team" in text
    text = run(coach, f"target <@{coach.uid(TOMMY)}> 1000", KONRAD, "/pipeline")
    assert "isn't in your team" in text
    text = run(coach, f"target <@{coach.uid(TIM)}> 1000", TIM, "/pipeline")
    assert "Only Tim Berners-Lee's manager" in text
    text = run(coach, f"target <@{coach.uid(TOMMY)}> lots", TIM, "/pipeline")
    assert "Usage: `/pipeline target @person AMOUNT [PERIOD] [CURRENCY]`" in text
    for huge in ("1e400", "1E+30", "NaN", "-5", "1000000000000000"):  # 1e400 was stored as infinity
        text = run(coach, f"target <@{coach.uid(TOMMY)}> {huge}", TIM, "/pipeline")
        assert "Usage: `/pipeline target @person AMOUNT [PERIOD] [CURRENCY]`" in text, huge
    text = run(coach, f"plan <@{coach.uid(TOMMY)}> 1e400", TIM, "/pipeline")
    assert "Usage: `/pipeline plan [@person] [TARGET]`" in text and "went wrong" not in text
    text = run(coach, "plan next-month", TOMMY, "/pipeline")
    assert "Usage: `/pipeline plan [@person] [TARGET]`" in text
    assert targets(coach) == {}
    text = run(coach, f"target <@{coach.uid(TOMMY)}> 5000 2026-Q4 eur", ADA, "/pipeline")
    assert "for 2026-Q4 is now *EUR 5,000*" in text


def test_plan_without_a_target_says_how_to_get_one(coach):
    text = run(coach, "plan", TOMMY, "/pipeline")
    assert "No target for this period, so no plan" in text and "/pipeline target" in text


def test_deal_list_shows_lead_scores_and_sorts_by_them(coach):
    text = run(coach, "list", TIM)
    assert "score *" in text
    text = run(coach, "list by score", TIM)
    assert "Highest lead score first" in text and "_to raise it:_" in text
    scores = [int(line.split("score *")[1].split("*")[0]) for line in text.splitlines() if "score *" in line]
    assert len(scores) > 3 and scores == sorted(scores, reverse=True)


def test_the_digest_shows_coverage_against_the_teams_targets(coach):
    run(coach, f"target <@{coach.uid(TOMMY)}> 240,000", TIM, "/pipeline")
    text = run(coach, "digest", TIM, "/pipeline")
    # The team won GBP 90,000 this month (the example's won deals, imported today): 150,000 left, against
    # the team's open GBP 890,000 and weighted 287,000.
    assert ("*Sales plan 2026-11* (the team's targets added up): target GBP 240,000 · won GBP 90,000 · "
            "left GBP 150,000") in text
    assert ":white_check_mark: The weighted pipeline, GBP 287,000, covers what is left (1.9×): now close it." in text
    assert "*Tommy Flowers*: 3 open" in text and "coverage 0.1× of GBP 240,000 left" in text
    assert "(Dorothy Hodgkin) · score " in text  # the attention list shows each deal's lead score


def test_home_shows_the_most_promising_deals_with_their_scores(coach):
    from tests.slack.harness import all_text, wait_call

    uid = coach.uid(TOMMY)
    event = {"type": "app_home_opened", "user": uid, "channel": "D0HOME", "tab": "home", "event_ts": "1"}
    assert coach.slack.event(event, event_id="EvScore").status == 200
    text = all_text(wait_call(coach.fake, "views.publish").params["view"]["blocks"])
    assert "*Most likely to buy*" in text
    top = [line for line in text.splitlines() if line.startswith("• *") and " — " in line]
    assert len(top) == 3 and all(": +" in line for line in top)  # each says what would raise it, and by how much
    assert "*D-66* Lucerne Publishing Data platform · GBP 60,000 · 2027-02-02 · score *" in text


def test_pipeline_and_plan_share_their_charts_in_the_askers_dm(coach):
    from datetime import date

    from bot.services.deals import take_snapshots

    with transaction(coach.deps.sessions) as s:
        take_snapshots(s, date(2026, 11, 23), now=coach.clock.now())
    run(coach, "", TIM, "/pipeline")
    coach.fake.wait_for(lambda c: c.method == "files.completeUploadExternal")
    shared = coach.fake.files(coach.uid(TIM))
    assert sorted(f.filename.split("-")[0] for f in shared) == ["funnel", "waterfall"]
    assert all(f.data.startswith(b"\x89PNG") for f in shared)
    funnel = next(f for f in shared if f.filename.startswith("funnel"))
    # Drawn from Tim's team's open GBP deals by stage (the example data).
    assert funnel.alt_txt == ("Open deals by stage: Target 0, Prospect 2, Interested 4, Project approved 3, "
                              "Shortlisted 1, Negotiation 1")
    assert funnel.title == "Funnel · Tim Berners-Lee's team"
    run(coach, f"target <@{coach.uid(TOMMY)}> 240,000", TIM, "/pipeline")
    run(coach, "plan", TOMMY, "/pipeline")
    coach.fake.wait_for(lambda c: c.method == "files.completeUploadExternal" and coach.fake.files(coach.uid(TOMMY)))
    (activity,) = coach.fake.files(coach.uid(TOMMY))
    assert activity.filename.startswith("activity-") and activity.title == "Plan vs last week · Tommy Flowers"
    # The example deals are created straight into their stages: each counts from the stage it entered.
    assert activity.alt_txt == ("Plan vs done last week: Visits 48 planned, none done, Calls 96 planned, none done, "
                                "Proposals 24 planned, none done")


def test_a_manager_sets_the_teams_targets_in_a_form(coach):
    import json

    from bot.render.ids import Action, View
    from tests.slack.harness import select, text_input, wait_call

    answer, url = coach.slack.command("/pipeline", "target", user=coach.uid(TIM))
    assert answer.status == 200
    reply = wait_reply_blocks(coach, url)
    button = next(e for b in reply if b["type"] == "actions" for e in b["elements"])
    assert button["action_id"] == Action.SET_TARGETS and json.loads(button["value"]) == {"period": "2026-11"}
    coach.slack.click(Action.SET_TARGETS, button["value"], user=coach.uid(TIM), channel="D" + coach.uid(TIM))
    view = wait_call(coach.fake, "views.open").params["view"]
    assert view["callback_id"] == View.TEAM_TARGETS
    inputs = {b["block_id"]: b["label"]["text"] for b in view["blocks"] if b["type"] == "input"}
    people = {label: bid for bid, label in inputs.items() if bid.startswith("target__")}
    assert set(people) == {"Dorothy Hodgkin", "Joan Clarke", "Rosalind Franklin", "Tommy Flowers"}
    values = {"period": text_input("2026-13"), "currency": select("GBP"),
              people["Tommy Flowers"]: text_input("lots"), people["Joan Clarke"]: text_input("90,000")}
    bad = coach.slack.submit(view, values, user=coach.uid(TIM)).json()
    assert set(bad["errors"]) == {"period", people["Tommy Flowers"]} and targets(coach) == {}
    values |= {"period": text_input("2026-Q4"), people["Tommy Flowers"]: text_input("120000")}
    assert coach.slack.submit(view, values, user=coach.uid(TIM)).status == 200
    wait_call(coach.fake, "chat.postMessage", lambda c: "2 targets set for 2026-Q4" in str(c.params.get("blocks")))
    assert targets(coach) == {(TOMMY, "2026-Q4"): (Decimal(120_000), "GBP"),
                              ("joan.clarke@example.com", "2026-Q4"): (Decimal(90_000), "GBP")}


def wait_reply_blocks(coach, url):
    from tests.slack.harness import wait_reply

    return wait_reply(coach.fake, url)["blocks"]
