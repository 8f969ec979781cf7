"""Who may do what, as one table: every slash command, button and form × every relation of the
person acting to a rep (the owner of the deals), over signed HTTP against the running app.

A row acts on the owner's deal, on the owner (``/pipeline @owner``, ``/deal list @owner``), or on
the person acting themselves (their digest, their currency, their new deal): there the relation
decides who acts, a rep, a manager, a region head, the admin, someone outside the org.

An allowed cell does its work (a reply, a form opened, a message redrawn, a change stored). Every
other cell gets a clear answer, one of the refusals below, and changes nothing in the database
(every row of every table compared before and after).

The table must name every ``/deal`` subcommand, every ``/pipeline`` verb, every button (``Action``)
and every form (``View``): either as a row here or in ``ELSEWHERE``, with the test that covers its
permissions. A new one without either fails ``test_every_command_button_and_form_has_a_row``.
"""

from __future__ import annotations

import ast
import inspect
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import Base, Person
from bot.imports.rates_csv import import_rates
from bot.render.ids import Action, View
from bot.services.deals import NewDeal, create_deal
from bot.services.digests import save_comment
from handlers.deal.command import SUBCOMMANDS
from tests.slack.harness import date_value, select, text_input

OWNER = "tommy.flowers@example.com"  # a rep in Tim's team
RELATIONS = {
    "owner": OWNER,
    "another rep": "joan.clarke@example.com",  # same team, not the owner
    "own manager": "tim.bernerslee@example.com",  # first-line manager (tier 1)
    "up the chain": "ada.lovelace@example.com",  # Tim's manager's manager, a region head (tier 3)
    "another branch's manager": "konrad.zuse@example.com",  # first-line manager elsewhere
    "admin": "admin@example.com",  # in COACH_ADMINS, outside the tree (nobody reports to them)
    "not in the org": "stranger@example.com",
    "deactivated": "alan.turing@example.com",  # Tim's own manager, marked deactivated in Slack
}
SEE = {"owner", "own manager", "up the chain", "admin"}  # may see and work the owner's deals
ABOVE = {"own manager", "up the chain", "admin"}  # may override its gate, agree its plan, set its target
OWN = {"owner"}  # the owner's own check-in: nobody answers it for them
ANYONE = {"owner", "another rep", "own manager", "up the chain", "another branch's manager", "admin"}  # in the org
MANAGERS = {"own manager", "up the chain", "another branch's manager"}  # somebody reports to them
REGION_HEADS = {"up the chain"}  # managers of the sign-off tier (3) and above
DIRECT_MANAGER = {"own manager"}  # the team-targets form sets the manager's direct reports' targets
WEEK = "2026-11-23"
LAST_WEEK = "2026-11-16"

REFUSALS = (
    "isn't yours or in your team",  # deal_forbidden
    "not in Pipeline Coach's org",  # not_in_org
    "marked deactivated",  # deactivated
    "Only a manager of",  # cannot_override
    "Action plans are agreed with your manager",  # plan_for_managers
    "I found no deal matching",  # deal_not_found (what cannot be seen is not found by name)
    "isn't in your team",  # person_forbidden
    "Only managers can list someone else's deals",  # list_not_manager
    "Only managers have a digest",  # not_a_manager
    "can set their target",  # target_forbidden
    "Signing off the forecast is for region heads",  # not_a_region_head
    "This form is out of date",  # stale_view: the team-targets form names someone not in the actor's team
)


def _rates(coach) -> None:
    """The region's forecast is in EUR and GBP: a sign-off totals it in one currency."""
    with tempfile.TemporaryDirectory() as d:
        rates = Path(d) / "rates.csv"
        rates.write_text("date,from,to,rate\n2026-01-01,EUR,USD,1.08\n2026-01-01,GBP,USD,1.27\n")
        with transaction(coach.deps.sessions) as s:
            import_rates(s, rates, now=datetime(2026, 11, 1, tzinfo=UTC))


def _missed_forecasts(coach) -> None:
    """Every manager forecast last week far more than was won: each is asked why."""
    with transaction(coach.deps.sessions) as s:
        for email in RELATIONS.values():
            p = s.scalar(sa.select(Person).where(Person.email == email))
            if p is not None:
                save_comment(s, p, date.fromisoformat(LAST_WEEK), text="", commit=Decimal(50_000_000),
                             best_case=None, currency="GBP", now=datetime(2026, 11, 17, 9, tzinfo=UTC))


def _own_currency(coach) -> None:
    with transaction(coach.deps.sessions) as s:
        s.execute(sa.update(Person).where(Person.email.in_(RELATIONS.values())).values(reporting_currency="EUR"))


def _away(coach) -> None:
    with transaction(coach.deps.sessions) as s:
        s.execute(sa.update(Person).where(Person.email.in_(RELATIONS.values())).values(away_until=date(2026, 12, 4)))


@dataclass(frozen=True)
class Cell:
    kind: str  # "deal" (a /deal subcommand), "pipeline" (a /pipeline verb), "button" or "form"
    name: str  # the subcommand, verb, action id or callback id
    allowed: frozenset[str]
    does: str  # what an allowed cell does: "reply", "modal", "moved" (a change stored) or "redrawn"
    send: Any  # the command's text, the button's value, or the form's {"meta": ..., "values": ...}
    label: str  # the test's id
    action: str  # the action id a button sends (a page button's id carries a suffix)
    shows: str | None  # what an allowed reply contains ({ref}: the deal's, {actor}: the actor's name)
    setup: Callable[[Any], None] | None

    @property
    def about_a_deal(self) -> bool:
        return "{ref}" in json.dumps(self.send)


def _row(kind: str, name: str, allowed: set[str], does: str, send: Any = None, *, label: str = "",
         action: str = "", shows: str | None = "{ref}", setup: Callable[[Any], None] | None = None) -> Cell:
    if send is None:
        send = f"{name} {{ref}}" if kind == "deal" else {"ref": "{ref}"}
    return Cell(kind, str(name), frozenset(allowed), does, send, label or f"{kind} {name}".strip(),
                str(action or name), shows, setup)


def _form(meta: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    return {"meta": meta, "values": values}


CHECKIN_ANSWERS = {"amount": text_input("60000"), "currency": select("GBP"), "close_date": date_value("2027-03-01"),
                   "forecast": select("pipeline"), "next_step": text_input("Demo"),
                   "next_step_date": date_value(None), "note": text_input("")}
NEW_DEAL_FIELDS = {"name": "Matrix new deal", "account": "Contoso", "amount": "25000", "currency": "GBP",
                   "close_date": "2027-03-31", "stage": "target", "next_step": "Discovery call"}

MATRIX = [
    # Help: anyone, even someone outside the org or deactivated, is told what the commands are.
    _row("deal", "", set(RELATIONS), "reply", "", label="deal (no words)", shows="/deal new"),
    _row("deal", "help", set(RELATIONS), "reply", "help", shows="/deal new"),
    # About one deal of the owner's.
    _row("deal", "show", SEE, "reply"),
    _row("deal", "update", SEE, "modal"),
    _row("deal", "edit", SEE, "modal"),
    _row("deal", "qualify", SEE, "modal"),
    _row("deal", "advance", SEE, "reply"),  # the gate's coaching: what the next stage needs
    _row("deal", "won", SEE, "reply"),
    _row("deal", "lost", SEE, "moved", "lost {ref} Budget cut"),
    _row("button", Action.UPDATE, SEE, "modal"),
    _row("button", Action.QUALIFY, SEE, "modal"),
    _row("button", Action.ADVANCE, SEE, "reply", {"ref": "{ref}", "to": "interested"}),
    _row("button", Action.OVERRIDE, ABOVE, "modal", {"ref": "{ref}", "to": "interested"}),
    _row("button", Action.MEETING_PLAN, ABOVE, "modal"),
    _row("button", Action.CHECKIN_NO_CHANGE, OWN, "moved", {"ref": "{ref}", "week": WEEK}),
    _row("button", Action.CHECKIN_UPDATE, OWN, "modal", {"ref": "{ref}", "week": WEEK}),
    _row("form", View.CHECKIN, OWN, "moved", _form({"ref": "{ref}", "week": WEEK}, CHECKIN_ANSWERS)),
    _row("form", View.UPDATE_DEAL, SEE, "moved",
         _form({"ref": "{ref}"}, {"name": text_input("Renamed {ref}"), "account": text_input("Contoso")})),
    _row("form", View.QUALIFY, SEE, "reply", _form({"ref": "{ref}"}, {})),
    _row("form", View.GATE, SEE, "moved",  # the answers are kept even while the gate stays shut
         _form({"ref": "{ref}", "to": "interested"}, {"bant__budget": text_input("Approved: GBP 50k this year")})),
    _row("form", View.REASON, SEE, "moved",  # a move back, with its reason
         _form({"ref": "{ref}", "to": "target", "kind": "backward"},
               {"reason": text_input("Not a real opportunity yet")})),
    _row("form", View.ACTION_PLAN, ABOVE, "moved",
         _form({"ref": "{ref}"}, {"plan_what": text_input("Book the CFO demo"), "plan_who": text_input("Tommy"),
                                  "plan_due": date_value("2026-12-20")})),
    # About the owner.
    _row("pipeline", "", SEE, "reply", "<@{owner}>", label="pipeline @owner", shows="Pipeline: Tommy Flowers"),
    _row("pipeline", "plan", SEE, "reply", "plan <@{owner}>", shows="Tommy Flowers"),
    _row("pipeline", "target", ABOVE, "moved", "target <@{owner}> 120000", label="pipeline target @owner"),
    _row("deal", "list", SEE, "reply", "list <@{owner}>", label="deal list @owner", shows="{ref}"),
    _row("button", Action.PAGE, SEE, "reply", {"owner": "{owner_id}", "page": 1}, action=f"{Action.PAGE}_next",
         shows="{ref}"),
    # The actor's own: the relation decides who acts.
    _row("pipeline", "", ANYONE, "reply", "", label="pipeline (own)", shows="Pipeline: {actor}"),
    _row("pipeline", "digest", MANAGERS, "reply", "digest", shows="{actor}"),
    _row("pipeline", "review", MANAGERS, "reply", "review", shows="{actor}"),
    _row("pipeline", "target", MANAGERS, "reply", "target", label="pipeline target (own team)", shows=None),
    _row("pipeline", "currency", ANYONE, "moved", "currency EUR"),
    _row("pipeline", "default", ANYONE, "moved", "currency default", label="pipeline currency default",
         setup=_own_currency),  # the word `currency` takes besides a code
    _row("deal", "new", ANYONE, "modal", "new"),
    _row("deal", "list", ANYONE, "reply", "list", label="deal list (own)", shows=None),
    _row("deal", "away", ANYONE, "moved", "away until 2026-12-04"),
    _row("deal", "back", ANYONE, "moved", "back", setup=_away),
    _row("deal", "language", ANYONE, "moved", "language zh"),
    _row("button", Action.NEW_DEAL, ANYONE, "modal", {}),
    _row("form", View.NEW_DEAL, ANYONE, "moved", _form({"channel": ""}, {
        "name": text_input(NEW_DEAL_FIELDS["name"]), "account": text_input("Contoso"), "amount": text_input("25000"),
        "currency": select("GBP"), "close_date": date_value("2027-03-31"), "stage": select("target"),
        "next_step": text_input("Discovery call")})),
    _row("form", View.NEW_DEAL_GATE, ANYONE, "moved", _form(NEW_DEAL_FIELDS, {})),
    _row("button", Action.CHECKIN_WALK, ANYONE, "modal", {"week": WEEK}),
    _row("button", Action.CHECKIN_PAGE, ANYONE, "redrawn", {"week": WEEK, "page": 1},
         action=f"{Action.CHECKIN_PAGE}_next"),
    _row("button", Action.ACTIVITY_REPORT, ANYONE, "modal", {"week": WEEK}),
    _row("button", Action.ACTIVITY_SKIP, ANYONE, "moved", {"week": WEEK}),
    _row("form", View.ACTIVITY, ANYONE, "moved",
         _form({"week": WEEK}, {"visits": text_input("3"), "calls": text_input("12"), "proposals": text_input("1")})),
    _row("button", Action.DIGEST_COMMENT, MANAGERS, "modal", {"week": WEEK}),
    _row("form", View.DIGEST_COMMENT, MANAGERS, "moved",
         _form({"week": WEEK}, {"comment": text_input("Two renewals slip to Q1"), "commit": text_input("100000"),
                                "best_case": text_input("150000"), "currency": select("GBP")})),
    _row("button", Action.DIGEST_SIGNOFF, REGION_HEADS, "moved", {"week": WEEK}, setup=_rates),
    _row("button", Action.DIGEST_ADJUST, REGION_HEADS, "modal", {"week": WEEK}),
    _row("button", Action.FORECAST_REVIEW, MANAGERS, "modal", {"week": LAST_WEEK}, setup=_missed_forecasts),
    _row("form", View.FORECAST_REVIEW, MANAGERS, "moved",
         _form({"week": LAST_WEEK}, {"review__wrong": text_input("We counted renewals still in legal")}),
         setup=_missed_forecasts),
    _row("button", Action.SET_TARGETS, MANAGERS, "modal", {"period": "2026-12"}),
    _row("form", View.TEAM_TARGETS, DIRECT_MANAGER, "moved",
         _form({}, {"period": text_input("2026-12"), "currency": select("GBP"),
                    "target__{owner_id}": text_input("90000")})),
]

# Where a row cannot say it, the test that covers it: (kind, name) -> "test_file.test_name". None today.
ELSEWHERE: dict[tuple[str, str], str] = {}


def _pipeline_verbs() -> set[str]:
    """The words ``/pipeline`` tells apart: every string its command handler compares the text with."""
    from handlers import pipeline
    tree = ast.parse(inspect.getsource(pipeline))
    handler = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "pipeline_command")
    verbs = {""}
    for node in ast.walk(handler):
        if isinstance(node, ast.Compare):
            for side in node.comparators:
                parts = side.elts if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side]
                verbs |= {p.value for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str)}
    return verbs


def test_every_command_button_and_form_has_a_row():
    rows = {(c.kind, c.name) for c in MATRIX} | set(ELSEWHERE)
    verbs = _pipeline_verbs()
    assert {"digest", "review", "plan", "target", "currency"} <= verbs  # the scan still finds them
    wanted = ({("deal", v) for v in SUBCOMMANDS} | {("deal", ""), ("deal", "help")}
              | {("pipeline", v) for v in verbs}
              | {("button", str(a)) for a in Action} | {("form", str(v)) for v in View})
    missing = sorted(wanted - rows)
    assert not missing, f"give these a row in MATRIX or ELSEWHERE: {missing}"
    assert len({c.label for c in MATRIX}) == len(MATRIX)


def _snapshot(coach) -> dict[str, list[tuple]]:
    """Every row of every table."""
    with transaction(coach.deps.sessions) as s:
        return {t.name: sorted(map(tuple, s.execute(sa.select(t)).all()), key=repr)
                for t in Base.metadata.sorted_tables}


def _deal_for(coach, cell: Cell, relation: str) -> str:
    """A deal of the owner's of its own for this cell, so one cell's change never meets another's."""
    with transaction(coach.deps.sessions) as s:
        owner = s.scalar(sa.select(Person).where(Person.email == OWNER))
        assert owner is not None
        deal = create_deal(s, NewDeal(f"Matrix {cell.label} {relation}", "Contoso", owner, Decimal(50_000), "GBP",
                                      "prospect", None, "Discovery call"), coach.deps.playbook, now=coach.clock.now())
        s.flush()
        return deal.ref


def _filled(template: Any, fill: dict[str, str]) -> Any:
    if isinstance(template, str):
        return template.format_map(fill)
    if isinstance(template, dict):
        return {_filled(k, fill): _filled(v, fill) for k, v in template.items()}
    if isinstance(template, list):
        return [_filled(v, fill) for v in template]
    return template


def _act(coach, cell: Cell, fill: dict[str, str], user: str) -> None:
    send = _filled(cell.send, fill)
    if cell.kind in ("deal", "pipeline"):
        answer, _ = coach.slack.command(f"/{cell.kind}", send, user=user)
    elif cell.kind == "button":
        answer, _ = coach.slack.click(cell.action, json.dumps(send), user=user, channel="D0PROMPT",
                                      message_ts="1700000000.000100")
    else:
        view = {"type": "modal", "callback_id": cell.name, "private_metadata": json.dumps(send["meta"]),
                "blocks": []}
        answer = coach.slack.submit(view, send["values"], user=user)
    assert answer.status == 200, (cell.label, user, answer)
    coach.wait_idle(10)


def _names(coach) -> dict[str, str]:
    with transaction(coach.deps.sessions) as s:
        return {p.email: p.name for p in s.scalars(sa.select(Person).where(Person.email.in_(RELATIONS.values())))}


@pytest.mark.parametrize("cell", MATRIX, ids=[c.label for c in MATRIX])
def test_the_permission_matrix(coach, cell):
    with transaction(coach.deps.sessions) as s:
        s.execute(sa.update(Person).where(Person.email == RELATIONS["deactivated"]).values(deactivated=True))
    for email in RELATIONS.values():  # each known to the bot by their Slack id first: matching them is a change
        coach.slack.command("/deal", "help", user=coach.uid(email))
    coach.wait_idle(10)
    if cell.setup:
        cell.setup(coach)
    refs = {relation: _deal_for(coach, cell, relation) for relation in RELATIONS} if cell.about_a_deal else {}
    names, owner = _names(coach), coach.person(OWNER)
    for relation, email in RELATIONS.items():
        fill = {"ref": refs.get(relation, ""), "owner": coach.uid(OWNER), "owner_id": str(owner.id),
                "actor": names.get(email, "")}
        before = _snapshot(coach)
        n_calls, n_views = len(coach.fake.calls), len(coach.fake.calls_to("views.open"))
        n_updates = len(coach.fake.calls_to("chat.update"))
        _act(coach, cell, fill, coach.uid(email))
        said = json.dumps([c.params for c in coach.fake.calls[n_calls:] if c.method != "views.open"],
                          ensure_ascii=False, default=str)
        opened = len(coach.fake.calls_to("views.open")) > n_views
        assert "went wrong" not in said, (cell.label, relation, said[:400])
        if relation in cell.allowed:
            assert not any(r in said for r in REFUSALS), (cell.label, relation, said[:400])
            if cell.does == "modal":
                assert opened, (cell.label, relation)
            elif cell.does == "moved":
                assert _snapshot(coach) != before, (cell.label, relation, "nothing changed")
            elif cell.does == "redrawn":
                assert len(coach.fake.calls_to("chat.update")) > n_updates, (cell.label, relation)
            else:
                shows = cell.shows.format_map(fill) if cell.shows else ""
                assert said != "[]" and shows in said, (cell.label, relation, shows, said[:400])
        else:
            assert any(r in said for r in REFUSALS), (cell.label, relation, said[:400])
            assert not opened, (cell.label, relation, "a form opened")
            assert len(coach.fake.calls_to("chat.update")) == n_updates, (cell.label, relation, "a redraw")
            assert _snapshot(coach) == before, (cell.label, relation, "something changed")

