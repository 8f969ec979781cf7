"""/deal and /pipeline end to end: signed HTTP requests in, Web API calls to the fake Slack out."""

from __future__ import annotations

import json

import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import BantAnswer, Deal, Person, StageChange
from bot.render.ids import Action, View
from tests.slack.harness import all_text, checks, date_value, select, text_input, wait_call, wait_reply

TOMMY = "tommy.flowers@example.com"  # rep, uk team, owns D-3 (prospect)
TIM = "tim.bernerslee@example.com"  # tommy's first-line manager
KONRAD = "konrad.zuse@example.com"  # first-line manager of a sibling team
LISE = "lise.meitner@example.com"  # rep in konrad's team
ADA = "ada.lovelace@example.com"  # region head above both


def deal(coach, ref: str) -> Deal:
    with transaction(coach.deps.sessions) as s:
        d = s.scalar(sa.select(Deal).where(Deal.ref == ref))
        assert d is not None
        return d


def history(coach, ref: str) -> list[StageChange]:
    with transaction(coach.deps.sessions) as s:
        return list(s.scalars(sa.select(StageChange).join(Deal).where(Deal.ref == ref).order_by(StageChange.id)))


def run(coach, text: str, who: str, command: str = "/deal") -> str:
    answer, url = coach.slack.command(command, text, user=coach.uid(who))
    assert answer.status == 200 and answer.body == ""  # acknowledged at once; the work follows
    return all_text(wait_reply(coach.fake, url)["blocks"])


def test_help_lists_every_subcommand(coach):
    text = run(coach, "help", TOMMY)
    for sub in ("/deal new", "/deal list", "/deal show", "/deal update", "/deal advance", "/deal won", "/deal lost",
                "/pipeline"):
        assert sub in text


def test_show_matches_person_by_email_and_stores_slack_id(coach):
    assert coach.person(TOMMY).slack_user_id is None
    text = run(coach, "show D-3", TOMMY)
    assert "*D-3* Woodgrove Bank Data platform" in text
    assert "Stage: Prospect" in text and "*BANT*" in text and "*Buying roles*" in text
    assert "What to do now" in text
    assert coach.person(TOMMY).slack_user_id == coach.uid(TOMMY)


def test_show_by_part_of_name_and_ambiguity(coach):
    assert "*D-3*" in run(coach, "show woodgrove bank data", TOMMY)
    text = run(coach, "show bank", ADA)
    assert "matches several deals" in text and "`D-" in text


def test_rep_cannot_see_another_reps_deal(coach):
    text = run(coach, "show D-3", LISE)
    assert "isn't yours or in your team" in text
    assert "Woodgrove" not in text


def test_manager_sees_own_subtree_but_not_a_sibling_branch(coach):
    assert "*D-3*" in run(coach, "show D-3", TIM)
    assert "isn't yours or in your team" in run(coach, "show D-3", KONRAD)
    assert "*D-3*" in run(coach, "show D-3", ADA)
    assert "*D-3*" in run(coach, "show D-3", "admin@example.com")


def test_someone_outside_the_org_is_told_what_to_do(coach):
    assert "not in Pipeline Coach's org" in run(coach, "list", "stranger@example.com")


def test_unknown_subcommand_and_unknown_deal(coach):
    assert "I don't know `/deal frobnicate`" in run(coach, "frobnicate", TOMMY)
    assert "I found no deal matching “zzz”" in run(coach, "show zzz", TOMMY)
    assert "“closng” isn't a stage" in run(coach, "advance D-3 closng", TOMMY)


def test_advance_with_missing_criteria_coaches_and_asks_then_completes(coach):
    text = run(coach, "advance D-3", TOMMY)
    assert "can't move to *Interested* yet" in text
    assert "To leave Prospect" in text and "Do now:" in text
    # Entering Interested needs its marker (标志) shown by the customer, not only Prospect's criteria.
    assert "To enter Interested" in text and "marker: Fits the product's application profile; has a need" in text
    assert "Override" not in text  # a rep cannot override their own gate
    opened = wait_call(coach.fake, "views.open")
    view = opened.params["view"]
    assert view["callback_id"] == View.GATE
    assert json.loads(view["private_metadata"])["to"] == "interested"
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert inputs, "the gate modal asks for the missing items"
    assert deal(coach, "D-3").stage == "prospect"

    # Answer only part: the modal shows errors on what is still missing, and keeps what was given.
    bant_need = next(b["block_id"] for b in inputs if b["block_id"].startswith("bant__"))
    answer = coach.slack.submit(view, {bant_need: text_input("Replace spreadsheets")}, user=coach.uid(TOMMY))
    assert answer.status == 200
    body = answer.json()
    assert body["response_action"] == "errors" and body["errors"]
    assert deal(coach, "D-3").stage == "prospect"
    with transaction(coach.deps.sessions) as s:
        kept = s.scalar(sa.select(BantAnswer).join(Deal).where(Deal.ref == "D-3"))
        assert kept is not None and kept.answer == "Replace spreadsheets"

    # Answer everything: the move completes.
    values = {}
    for b in inputs:
        el = b["element"]
        if el["type"] == "checkboxes":
            values[b["block_id"]] = checks(*[o["value"] for o in el["options"]])
        else:
            values[b["block_id"]] = text_input("Confirmed on the call")
    answer = coach.slack.submit(view, values, user=coach.uid(TOMMY))
    assert answer.status == 200 and answer.body == ""
    assert deal(coach, "D-3").stage == "interested"
    last = history(coach, "D-3")[-1]
    assert (last.from_stage, last.to_stage, last.gate_overridden) == ("prospect", "interested", False)
    msg = wait_call(coach.fake, "chat.postEphemeral", lambda c: "moved from" in all_text(c.params.get("blocks")))
    assert msg.params["user"] == coach.uid(TOMMY)


def test_manager_overrides_with_a_reason_kept_in_history(coach):
    text = run(coach, "advance D-3 shortlisted", TIM)
    assert "Override" in text and "To leave Prospect" in text and "To leave Project approved" in text
    coach.fake.clear()
    coach.slack.click(Action.OVERRIDE, json.dumps({"ref": "D-3", "to": "shortlisted"}), user=coach.uid(TIM))
    view = wait_call(coach.fake, "views.open").params["view"]
    assert view["callback_id"] == View.REASON
    empty = coach.slack.submit(view, {"reason": text_input("  ")}, user=coach.uid(TIM))
    assert empty.json()["response_action"] == "errors"
    coach.slack.submit(view, {"reason": text_input("Customer CEO committed on the phone")}, user=coach.uid(TIM))
    assert deal(coach, "D-3").stage == "shortlisted"
    last = history(coach, "D-3")[-1]
    assert last.gate_overridden and last.reason == "Customer CEO committed on the phone"
    assert "gate overridden" in run(coach, "show D-3", TOMMY)


def test_rep_cannot_override(coach):
    _, url = coach.slack.click(Action.OVERRIDE, json.dumps({"ref": "D-3", "to": "won"}), user=coach.uid(TOMMY))
    assert "Only a manager" in all_text(wait_reply(coach.fake, url)["blocks"])
    assert not coach.fake.calls_to("views.open")


def test_moving_back_asks_for_a_reason(coach):
    run_ok = coach.slack.command("/deal", "advance D-3 target", user=coach.uid(TOMMY))
    assert run_ok[0].status == 200
    view = wait_call(coach.fake, "views.open").params["view"]
    assert view["callback_id"] == View.REASON
    coach.slack.submit(view, {"reason": text_input("No budget this year after all")}, user=coach.uid(TOMMY))
    assert deal(coach, "D-3").stage == "target"
    assert history(coach, "D-3")[-1].reason == "No budget this year after all"


def test_lost_needs_a_reason(coach):
    assert "Say why D-3 was lost" in run(coach, "lost D-3", TOMMY)
    assert deal(coach, "D-3").stage == "prospect"
    assert "moved from Prospect to *Lost*" in run(coach, "lost D-3 chose a cheaper competitor", TOMMY)
    d = deal(coach, "D-3")
    assert (d.stage, d.lost_reason) == ("lost", "chose a cheaper competitor")


def test_new_deal_modal_validates_inline_then_creates(coach):
    coach.slack.command("/deal", "new", user=coach.uid(TOMMY))
    view = wait_call(coach.fake, "views.open").params["view"]
    assert view["callback_id"] == View.NEW_DEAL
    bad = coach.slack.submit(view, {
        "name": text_input("Acme CRM"), "account": text_input("Acme"), "amount": text_input("lots"),
        "currency": select("GBP"), "close_date": date_value("2020-01-01"), "stage": select("prospect"),
        "next_step": text_input(""),
    }, user=coach.uid(TOMMY))
    errors = bad.json()["errors"]
    assert "isn't an amount" in errors["amount"] and "past" in errors["close_date"]
    ok = coach.slack.submit(view, {
        "name": text_input("Acme CRM"), "account": text_input("Acme"), "amount": text_input("12,500"),
        "currency": select("GBP"), "close_date": date_value("2027-03-31"), "stage": select("prospect"),
        "next_step": text_input("Discovery call"),
    }, user=coach.uid(TOMMY))
    # Prospect is past the first stage: the form asks for its marker before the deal exists.
    page = ok.json()
    assert page["response_action"] == "update" and page["view"]["callback_id"] == View.NEW_DEAL_GATE
    box = next(b for b in page["view"]["blocks"] if b["type"] == "input")
    assert [o["text"]["text"] for o in box["element"]["options"]] == ["There is a sales opportunity"]
    with transaction(coach.deps.sessions) as s:
        assert s.scalar(sa.select(Deal).where(Deal.ref == "D-91")) is None
    ok = coach.slack.submit(page["view"], {box["block_id"]: checks("marker_prospect")}, user=coach.uid(TOMMY))
    assert ok.status == 200 and ok.body == ""
    d = deal(coach, "D-91")
    assert (d.name, str(d.amount), d.currency, d.stage) == ("Acme CRM", "12500.00", "GBP", "prospect")
    assert coach.person(TOMMY).id == d.owner_id


def test_update_modal_edits_fields(coach):
    coach.slack.command("/deal", "update D-3", user=coach.uid(TOMMY))
    view = wait_call(coach.fake, "views.open").params["view"]
    assert view["callback_id"] == View.UPDATE_DEAL
    coach.slack.submit(view, {
        "name": text_input("Woodgrove data platform"), "account": text_input("Woodgrove Bank"),
        "amount": text_input("75000"), "currency": select("GBP"), "close_date": date_value("2027-02-28"),
        "forecast": select("best_case"), "next_step": text_input("Workshop"), "next_step_date": date_value(None),
    }, user=coach.uid(TOMMY))
    d = deal(coach, "D-3")
    assert (d.name, str(d.amount), d.forecast, d.close_date.isoformat()) == (
        "Woodgrove data platform", "75000.00", "best_case", "2027-02-28")


def test_list_own_and_a_reports_deals(coach):
    text = run(coach, "list", "donald.knuth@example.com")
    assert "Open deals for you" in text and "to reach" in text
    mine = run(coach, f"list <@{coach.uid(TOMMY)}|tommy>", TIM)
    assert "D-3" in mine
    refused = run(coach, f"list <@{coach.uid(TOMMY)}|tommy>", LISE)
    assert "isn't in your team" in refused


def test_pipeline_rolls_up_the_subtree(coach):
    text = run(coach, "", ADA, command="/pipeline")
    assert "Pipeline: Ada Lovelace and team" in text
    assert "*By stage*" in text and "*By forecast category*" in text and "*By direct report*" in text
    assert "Alan Turing* (team)" in text and "Emmy Noether* (team)" in text
    assert "Dorothy Vaughan" not in text  # another region
    rep = run(coach, "", TOMMY, command="/pipeline")
    assert "Pipeline: Tommy Flowers" in rep and "By direct report" not in rep
    assert "isn't in your team" in run(coach, f"<@{coach.uid(ADA)}>", TOMMY, command="/pipeline")


def test_person_matched_by_email_gets_timezone_from_slack(coach):
    with transaction(coach.deps.sessions) as s:
        p = s.scalar(sa.select(Person).where(Person.email == "jack.ryan@example.com"))
        assert p is not None and p.timezone is None  # empty in the org file
    run(coach, "list", "jack.ryan@example.com")
    assert coach.person("jack.ryan@example.com").timezone == "Europe/Paris"


def test_won_goes_through_the_gate(coach):
    # D-6 is in negotiation; leaving it needs the schedule fixed, and Won needs what the source
    # marks it by: contract signed, first payment confirmed by finance, order placed and shipped.
    owner = "radia.perlman@example.com"
    text = run(coach, "won D-6", owner)
    assert "can't move to *Won* yet" in text and "To leave Negotiation" in text and "To enter Won" in text
    view = wait_call(coach.fake, "views.open").params["view"]
    boxes = {b["block_id"]: {o["value"] for o in b["element"]["options"]} for b in view["blocks"]
             if b["type"] == "input" and b["element"]["type"] == "checkboxes"}
    assert sorted(boxes.values(), key=len) == [{"schedule_fixed"}, {"contract_signed", "first_payment", "order_shipped"}]
    leave, enter = sorted(boxes, key=lambda k: len(boxes[k]))
    # Signed and shipped, but finance has not confirmed the first payment: still not won.
    answer = coach.slack.submit(view, {leave: checks("schedule_fixed"), enter: checks("contract_signed", "order_shipped")},
                                user=coach.uid(owner))
    assert answer.json()["errors"] == {enter: "Still needed to enter Won."}
    assert deal(coach, "D-6").stage == "negotiation"
    answer = coach.slack.submit(view, {leave: checks("schedule_fixed"),
                                       enter: checks("contract_signed", "first_payment", "order_shipped")},
                                user=coach.uid(owner))
    assert answer.status == 200 and answer.body == ""
    d = deal(coach, "D-6")
    assert (d.stage, d.forecast) == ("won", "closed")
    msg = wait_call(coach.fake, "chat.postEphemeral", lambda c: "Won!" in all_text(c.params.get("blocks")))
    assert msg.params["channel"] == "C0GENERAL"
    assert "D-6 is already in *Won*" in run(coach, "won D-6", owner)


def test_a_new_deal_cannot_start_in_negotiation_unqualified(coach):
    coach.slack.command("/deal", "new", user=coach.uid(TOMMY))
    view = wait_call(coach.fake, "views.open").params["view"]
    page = coach.slack.submit(view, {
        "name": text_input("Globex ERP"), "account": text_input("Globex"), "amount": text_input("90000"),
        "currency": select("EUR"), "close_date": date_value("2027-03-31"), "stage": select("negotiation"),
        "next_step": text_input("Contract review"),
    }, user=coach.uid(TOMMY)).json()
    gate = page["view"]
    inputs = {b["block_id"]: b for b in gate["blocks"] if b["type"] == "input"}
    offered = {o["value"] for b in inputs.values() if b["element"]["type"] == "checkboxes"
               for o in b["element"]["options"]}
    # Every marker on the way, Shortlisted's 90-day likelihood and the source's conditions for negotiation.
    assert {"marker_prospect", "marker_interested", "marker_project", "marker_shortlisted", "marker_negotiation",
            "likely_in_90_days", "met_top_executive", "selection_reported", "contract_template"} <= offered
    assert {"bant__need", "role__economic_buyer", "role__coach", "eval__is_real", "eval__can_win"} <= set(inputs)
    # Ticking only some of it: errors on the form, and no deal.
    first_box = next(k for k, b in inputs.items() if b["element"]["type"] == "checkboxes")
    answer = coach.slack.submit(gate, {first_box: checks("marker_prospect")}, user=coach.uid(TOMMY)).json()
    assert answer["response_action"] == "errors" and answer["errors"]
    with transaction(coach.deps.sessions) as s:
        assert s.scalar(sa.select(Deal).where(Deal.name == "Globex ERP")) is None
    # Everything answered: created in Negotiation, with what was confirmed kept on the deal.
    values = {}
    for k, b in inputs.items():
        el = b["element"]
        values[k] = (checks(*[o["value"] for o in el["options"]]) if el["type"] == "checkboxes"
                     else text_input("Confirmed with the CFO"))
    answer = coach.slack.submit(gate, values, user=coach.uid(TOMMY))
    assert answer.status == 200 and answer.body == ""
    with transaction(coach.deps.sessions) as s:
        d = s.scalar(sa.select(Deal).where(Deal.name == "Globex ERP"))
        assert (d.stage, str(d.amount), d.currency) == ("negotiation", "90000.00", "EUR")
        assert {"marker_negotiation", "likely_in_90_days", "contract_template"} <= {c.key for c in d.characteristics}
    assert "Stage: Negotiation" in run(coach, f"show {d.ref}", TOMMY)
