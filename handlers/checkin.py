"""The Monday check-in's buttons and its per-deal modal (walk-through included)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block as SlackBlock

from bot.db import repo
from bot.db.models import CheckIn, Deal, Person
from bot.deps import Deps
from bot.domain.checkin import questions_for
from bot.domain.gates import check_gate
from bot.domain.playbook import marker_key
from bot.render import checkin as render
from bot.render.ids import Action, Block, View
from bot.services import checkins, meeting
from bot.services.errors import UserError
from bot.services.workspace import apply_edits, record_answers
from handlers.base import Work, button_value, guarded, metadata_of, week_value, work_for
from handlers.forms import Form, read_answers, read_deal_fields, shown_options

MARKER_YES = "yes"


def _own_deal(work: Work, ref: str) -> Deal:
    deal = repo.deal_by_ref(work.session, ref)
    if deal is None or deal.owner_id != work.actor.person.id:
        raise UserError("deal_not_found", query=ref)
    return deal


def _refresh_prompt(work: Work, week: date) -> None:
    """Redraw the check-in DM after an answer, once the answer is committed."""
    checkin = work.session.scalar(sa.select(CheckIn).where(CheckIn.person_id == work.actor.person.id,
                                                           CheckIn.week == week))
    if checkin is None or not checkin.prompt_channel or not checkin.prompt_ts:
        return
    work.update_message(checkin.prompt_channel, checkin.prompt_ts, _prompt_renderer(work, week))


def _prompt_renderer(work: Work, week: date, page: int = 1) -> Callable[[so.Session], list[SlackBlock]]:
    person_id, playbook, lang = work.actor.person.id, work.playbook, work.lang

    def render(session: so.Session) -> list[SlackBlock]:
        person = session.get(Person, person_id)
        assert person is not None
        return checkins.prompt_message(session, playbook, person, week, page=page, lang=lang)

    return render


def _next_unanswered(work: Work, week: date, after: Deal | None = None) -> tuple[Deal | None, int, int]:
    """The next deal without an answer this week, its position and the number of open deals."""
    person = work.actor.person
    deals = checkins.open_deals(work.session, person, work.playbook)
    checkin = checkins.get_checkin(work.session, person, week, now=work.now)
    done = {r.deal_id for r in checkin.reviews}
    for i, d in enumerate(deals, start=1):
        if d.id not in done and (after is None or d.id != after.id):
            return d, i, len(deals)
    return None, len(deals), len(deals)


def _modal(work: Work, deal: Deal, week: date, *, walk: bool, position: int = 0, count: int = 0) -> dict[str, Any]:
    facts = repo.to_facts(deal)
    q = questions_for(facts, work.playbook, now=work.now, stale_weeks=work.deps.settings.cadence.bant_stale_weeks)
    meta = {"ref": deal.ref, "week": week.isoformat(), "walk": walk}
    return render.checkin_modal(facts, q, work.playbook, metadata=meta, position=position, count=count,
                                lang=work.lang)


def register(app: App, deps: Deps) -> None:
    @app.action(Action.CHECKIN_NO_CHANGE)
    @guarded
    def no_change(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        value = button_value(body)
        week = week_value(value.get("week"))
        with work_for(deps, client, body) as work:
            deal = _own_deal(work, str(value.get("ref", "")))
            checkin = checkins.get_checkin(work.session, work.actor.person, week, now=work.now)
            checkins.record_review(work.session, checkin, deal, "no_change", work.playbook, deps.settings.cadence,
                                   now=work.now)
            _refresh_prompt(work, week)

    @app.action(Action.CHECKIN_UPDATE)
    @guarded
    def update(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        value = button_value(body)
        week = week_value(value.get("week"))
        with work_for(deps, client, body) as work:
            deal = _own_deal(work, str(value.get("ref", "")))
            client.views_open(trigger_id=body["trigger_id"], view=_modal(work, deal, week, walk=False))

    @app.action(Action.CHECKIN_WALK)
    @guarded
    def walk(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        week = week_value(button_value(body).get("week"))
        with work_for(deps, client, body) as work:
            deal, position, count = _next_unanswered(work, week)
            view = (render.done_view(count) if deal is None
                    else _modal(work, deal, week, walk=True, position=position, count=count))
            client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(re.compile(f"^{Action.CHECKIN_PAGE}_"))
    @guarded
    def page(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        value = button_value(body)
        week = week_value(value.get("week"))
        container = body.get("container") or {}
        with work_for(deps, client, body) as work:
            work.update_message(container.get("channel_id", ""), container.get("message_ts", ""),
                                _prompt_renderer(work, week, int(value.get("page", 1) or 1)))

    @app.view(View.CHECKIN)
    @guarded
    def submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        meta = metadata_of(body)
        if not meta.get("ref"):  # the closing "done" view has nothing to save
            ack()
            return
        week = week_value(meta.get("week"))
        view = body["view"]
        form = Form(view)
        response: dict[str, Any] = {}
        with work_for(deps, client, body) as work:
            deal = _own_deal(work, str(meta["ref"]))
            edits = read_deal_fields(form, today=work.now.date(), is_open=not work.playbook.is_closed(deal.stage))
            if not form.text(Block.NEXT_STEP):
                form.error(Block.NEXT_STEP, "required")
            if form.errors:
                response = {"response_action": "errors", "errors": form.errors}
            else:
                _save(work, deal, form, view, edits, week)
                if meta.get("walk"):
                    nxt, position, count = _next_unanswered(work, week, after=deal)
                    new_view = (render.done_view(count) if nxt is None
                                else _modal(work, nxt, week, walk=True, position=position, count=count))
                    response = {"response_action": "update", "view": new_view}
        ack(**response)


def _save(work: Work, deal: Deal, form: Form, view: dict[str, Any], edits: Any, week: date) -> None:
    """Store every answer, mark the deal reviewed, and coach on what the answers now allow."""
    answers = read_answers(form, work.playbook)
    checklist = f"{Block.CHARACTERISTICS}__now"
    answers.unconfirmed = shown_options(view, checklist) - form.checked(checklist)
    nxt = work.playbook.next_stage(deal.stage)
    if nxt is not None and MARKER_YES in form.checked(Block.NEXT_MARKER):
        answers.characteristics.add(marker_key(nxt.key))  # the customer shows the next stage's marker
    record_answers(deal, answers, work.playbook, now=work.now, by=work.actor.person)
    done = {"yes": True, "no": False}
    meeting.follow_up(deal, {int(b.removeprefix(Block.PLAN_DONE_PREFIX)): done.get(form.selected(b) or "")
                             for b in form.blocks_starting(Block.PLAN_DONE_PREFIX)
                             if b.removeprefix(Block.PLAN_DONE_PREFIX).isdigit()}, now=work.now)
    apply_edits(deal, edits, now=work.now)
    checkin = checkins.get_checkin(work.session, work.actor.person, week, now=work.now)
    checkins.record_review(work.session, checkin, deal, "updated", work.playbook, work.deps.settings.cadence,
                           now=work.now, note=form.text(Block.NOTE))
    if nxt is not None:
        facts = repo.to_facts(deal)
        if check_gate(facts, nxt.key, work.playbook).open:
            work.reply(render.advance_offer(facts, work.playbook, nxt.key, work.lang))
        elif MARKER_YES in form.checked(Block.NEXT_MARKER):
            work.reply(render.marker_but_missing(facts, work.playbook, nxt.key, work.lang))
    _refresh_prompt(work, week)
