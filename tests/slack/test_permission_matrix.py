"""Who may do what to a deal, as one table: every deal-scoped slash command, button and form ×
every relation of the person acting to the deal's owner, over signed HTTP against the running app.

An allowed cell does its work (a reply about the deal, a form opened, the deal moved). Every other
cell gets a clear answer, one of the refusals below, and changes nothing in the database.

The table must name every ``/deal`` subcommand, every ``/pipeline`` verb, every button (``Action``)
and every form (``View``): either as a row here or in ``ELSEWHERE``, with the test that covers its
permissions. A new one without either fails ``test_every_command_button_and_form_has_a_row``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import Base, Deal, Person
from bot.render.ids import Action, View
from bot.services.deals import NewDeal, create_deal
from handlers.deal.command import SUBCOMMANDS
from tests.slack.harness import text_input

OWNER = "tommy.flowers@example.com"  # a rep in Tim's team
RELATIONS = {
    "owner": OWNER,
    "another rep": "joan.clarke@example.com",  # same team, not the owner
    "own manager": "tim.bernerslee@example.com",
    "up the chain": "ada.lovelace@example.com",  # Tim's manager's manager
    "another branch's manager": "konrad.zuse@example.com",
    "admin": "admin@example.com",  # in COACH_ADMINS, outside the tree
    "not in the org": "stranger@example.com",
    "deactivated": "alan.turing@example.com",  # Tim's own manager, marked deactivated in Slack
}
SEE = {"owner", "own manager", "up the chain", "admin"}  # may see and work the deal
ABOVE = {"own manager", "up the chain", "admin"}  # may override its gate, agree its action plan
OWN = {"owner"}  # the owner's own check-in: nobody answers it for them
WEEK = "2026-11-23"

REFUSALS = (
    "isn't yours or in your team",  # deal_forbidden
    "not in Pipeline Coach's org",  # not_in_org
    "marked deactivated",  # deactivated
    "Only a manager of",  # cannot_override
    "Action plans are agreed with your manager",  # plan_for_managers
    "I found no deal matching",  # deal_not_found (what cannot be seen is not found by name)
)


@dataclass(frozen=True)
class Cell:
    kind: str  # "command", "button" or "form"
    name: str  # the subcommand, action id or callback id
    allowed: frozenset[str]
    does: str  # what an allowed cell shows: "reply", "modal" or "moved"


def _row(kind: str, name: str, allowed: set[str], does: str) -> Cell:
    return Cell(kind, name, frozenset(allowed), does)


MATRIX = [
    _row("command", "show", SEE, "reply"),
    _row("command", "update", SEE, "modal"),
    _row("command", "edit", SEE, "modal"),
    _row("command", "qualify", SEE, "modal"),
    _row("command", "advance", SEE, "reply"),  # the gate's coaching: what the next stage needs
    _row("command", "won", SEE, "reply"),
    _row("command", "lost", SEE, "moved"),
    _row("button", Action.UPDATE, SEE, "modal"),
    _row("button", Action.QUALIFY, SEE, "modal"),
    _row("button", Action.ADVANCE, SEE, "reply"),
    _row("button", Action.OVERRIDE, ABOVE, "modal"),
    _row("button", Action.MEETING_PLAN, ABOVE, "modal"),
    _row("button", Action.CHECKIN_NO_CHANGE, OWN, "moved"),
    _row("button", Action.CHECKIN_UPDATE, OWN, "modal"),
    _row("form", View.CHECKIN, OWN, "moved"),
    _row("form", View.UPDATE_DEAL, SEE, "moved"),
    _row("form", View.QUALIFY, SEE, "reply"),
    _row("form", View.GATE, SEE, "moved"),  # the answers are kept even while the gate stays shut
    _row("form", View.REASON, SEE, "moved"),  # a move back, with its reason
    _row("form", View.ACTION_PLAN, ABOVE, "moved"),
]

# Not about one deal: each is refused or scoped by person, and tested where named.
ELSEWHERE = {
    ("command", ""): "help: anyone (test_deal_commands)",
    ("command", "help"): "anyone (test_deal_commands.test_help_lists_every_subcommand)",
    ("command", "new"): "anyone in the org creates their own deal (test_deal_commands, test_hostile_values)",
    ("command", "list"): "own deals, or a report's (test_deal_commands.test_list_own_and_a_reports_deals)",
    ("command", "away"): "the person themselves (test_checkin, test_hostile_values)",
    ("command", "back"): "the person themselves (test_checkin)",
    ("command", "language"): "the person themselves (test_languages)",
    ("button", Action.PAGE): "a list page: person_by_id checks the viewer may see the owner (test_hostile_values)",
    ("button", Action.NEW_DEAL): "anyone: opens the new-deal form",
    ("button", Action.CHECKIN_WALK): "own check-in only (test_checkin)",
    ("button", Action.CHECKIN_PAGE): "own check-in only (test_checkin)",
    ("button", Action.ACTIVITY_REPORT): "own activity (test_checkin)",
    ("button", Action.ACTIVITY_SKIP): "own activity (test_checkin)",
    ("button", Action.DIGEST_COMMENT): "own digest (test_tier_digests, test_signoff)",
    ("button", Action.FORECAST_REVIEW): "own digest (test_forecast_review)",
    ("button", Action.DIGEST_SIGNOFF): "region heads, own digest (test_signoff)",
    ("button", Action.DIGEST_ADJUST): "region heads, own digest (test_signoff)",
    ("button", Action.SET_TARGETS): "managers, their own reports (test_numbers_commands)",
    ("form", View.NEW_DEAL): "anyone in the org, own deal (test_deal_commands, test_hostile_values)",
    ("form", View.NEW_DEAL_GATE): "anyone in the org, own deal (test_hostile_values)",
    ("form", View.DIGEST_COMMENT): "own digest (test_tier_digests)",
    ("form", View.ACTIVITY): "own activity (test_checkin)",
    ("form", View.FORECAST_REVIEW): "own digest (test_forecast_review)",
    ("form", View.TEAM_TARGETS): "managers, their own reports (test_numbers_commands)",
}
PIPELINE_VERBS = {
    "": "own pipeline, or a visible person's (test_numbers_commands)",
    "digest": "managers, own subtree (test_weekly_digests.test_pipeline_digest_on_demand)",
    "review": "first-line managers, own team (test_team_meeting)",
    "currency": "the person themselves (test_pipeline_currency, test_hostile_values)",
    "plan": "own or a visible person's (test_numbers_commands)",
    "target": "a manager above the person (test_numbers_commands.test_only_a_manager_above_sets_a_target...)",
}


def test_every_command_button_and_form_has_a_row():
    rows = {(c.kind, str(c.name)) for c in MATRIX} | {(k, str(n)) for k, n in ELSEWHERE}
    wanted = ({("command", v) for v in SUBCOMMANDS} | {("command", ""), ("command", "help")}
              | {("button", str(a)) for a in Action} | {("form", str(v)) for v in View})
    missing = sorted(wanted - rows)
    assert not missing, f"give these a row in MATRIX or ELSEWHERE: {missing}"
    import inspect

    from handlers import pipeline
    source = inspect.getsource(pipeline)
    verbs = {"plan", "target", "digest", "review", "currency"}
    assert all(f'"{v}"' in source for v in verbs) and verbs <= set(PIPELINE_VERBS)


def _snapshot(coach) -> dict[str, object]:
    with transaction(coach.deps.sessions) as s:
        counts = {t.name: s.scalar(sa.select(sa.func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
        deals = sorted(s.execute(sa.select(Deal.ref, Deal.stage, Deal.name, Deal.amount, Deal.updated_at)).all())
        return {"counts": counts, "deals": deals}


def _deal_for(coach, cell: Cell, relation: str) -> str:
    """A deal of the owner's of its own for this cell, so one cell's change never meets another's."""
    with transaction(coach.deps.sessions) as s:
        owner = s.scalar(sa.select(Person).where(Person.email == OWNER))
        deal = create_deal(s, NewDeal(f"Matrix {cell.name} {relation}", "Contoso", owner, Decimal(50_000), "GBP",
                                      "prospect", None, "Discovery call"), coach.deps.playbook, now=coach.clock.now())
        s.flush()
        return deal.ref


def _act(coach, cell: Cell, ref: str, user: str) -> tuple[int, int]:
    n_calls, n_views = len(coach.fake.calls), len(coach.fake.calls_to("views.open"))
    if cell.kind == "command":
        text = {"lost": f"lost {ref} Budget cut", "advance": f"advance {ref}"}.get(cell.name, f"{cell.name} {ref}")
        answer, _ = coach.slack.command("/deal", text, user=user)
    elif cell.kind == "button":
        value: dict[str, str] = {"ref": ref}
        if cell.name in (Action.ADVANCE, Action.OVERRIDE):
            value["to"] = "interested"
        elif cell.name in (Action.CHECKIN_NO_CHANGE, Action.CHECKIN_UPDATE):
            value["week"] = WEEK
        answer, _ = coach.slack.click(cell.name, json.dumps(value), user=user)
    else:
        meta: dict[str, str] = {"ref": ref}
        values: dict[str, dict] = {}
        if cell.name == View.UPDATE_DEAL:
            values = {"name": text_input(f"Renamed {ref}"), "account": text_input("Contoso")}
        elif cell.name == View.REASON:
            meta |= {"to": "target", "kind": "backward"}
            values = {"reason": text_input("Not a real opportunity yet")}
        elif cell.name == View.GATE:
            meta |= {"to": "interested"}
            values = {"bant__budget": text_input("Approved: GBP 50k this year")}
        elif cell.name == View.CHECKIN:
            meta |= {"week": WEEK}
            values = {"amount": text_input("60000"), "currency": {"type": "static_select",
                                                                 "selected_option": {"value": "GBP"}},
                      "close_date": {"type": "datepicker", "selected_date": "2027-03-01"},
                      "forecast": {"type": "static_select", "selected_option": {"value": "pipeline"}},
                      "next_step": text_input("Demo"), "next_step_date": {"type": "datepicker", "selected_date": None},
                      "note": text_input("")}
        elif cell.name == View.ACTION_PLAN:
            values = {"plan_what": text_input("Book the CFO demo"), "plan_who": text_input("Tommy"),
                      "plan_due": {"type": "datepicker", "selected_date": "2026-12-20"}}
        view = {"type": "modal", "callback_id": cell.name, "private_metadata": json.dumps(meta), "blocks": []}
        answer = coach.slack.submit(view, values, user=user)
    assert answer.status == 200, (cell, user, answer)
    coach.wait_idle(10)
    return n_calls, n_views


@pytest.mark.parametrize("cell", MATRIX, ids=[f"{c.kind} {c.name}" for c in MATRIX])
def test_the_permission_matrix(coach, cell):
    with transaction(coach.deps.sessions) as s:
        s.execute(sa.update(Person).where(Person.email == RELATIONS["deactivated"]).values(deactivated=True))
    refs = {relation: _deal_for(coach, cell, relation) for relation in RELATIONS}
    for relation, email in RELATIONS.items():
        ref = refs[relation]
        before = _snapshot(coach)
        n_calls, n_views = _act(coach, cell, ref, coach.uid(email))
        said = json.dumps([c.params for c in coach.fake.calls[n_calls:]], ensure_ascii=False, default=str)
        opened = len(coach.fake.calls_to("views.open")) > n_views
        assert "went wrong" not in said, (cell, relation, said[:400])
        if relation in cell.allowed:
            assert not any(r in said for r in REFUSALS), (cell, relation, said[:400])
            if cell.does == "modal":
                assert opened, (cell, relation)
            elif cell.does == "moved":
                assert _snapshot(coach) != before, (cell, relation, "nothing changed")
            else:
                assert ref in said, (cell, relation, said[:400])
        else:
            assert any(r in said for r in REFUSALS), (cell, relation, said[:400])
            assert not opened, (cell, relation, "a form opened")
            assert _snapshot(coach) == before, (cell, relation, "something changed")
