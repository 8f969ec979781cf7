"""The Monday check-in's buttons and its per-deal modal (walk-through included)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block as SlackBlock

from bot.deps import Deps
from bot.domain.checkin import questions_for
from bot.domain.deal import DealFacts
from bot.domain.playbook import Playbook
from bot.render import checkin as render_checkin
from bot.render.ids import Action, Block, View
from bot.services import checkins, deals, targets
from bot.slack.payload import button_value, metadata_of, week_value
from bot.slack.work import Redraw, Work, work_for
from handlers.base import acked, guarded
from handlers.forms import Form, read_answers, read_deal_fields, shown_options

MARKER_YES = "yes"


def _refresh_prompt(work: Work, week: date) -> None:
    """Redraw the check-in DM after an answer, once the answer is committed."""
    where = checkins.prompt_message_at(work.session, work.actor.person, week)
    if where is not None:
        work.update_message(*where, _prompt_renderer(work, week))


def _prompt_renderer(work: Work, week: date, page: int = 1) -> Redraw:
    person_id, playbook, lang, now = work.actor.person.id, work.playbook, work.lang, work.now
    return lambda session: _prompt_blocks(checkins.prompt_for(session, playbook, person_id, week, now=now),
                                          playbook, page, lang)


def _prompt_blocks(p: checkins.Prompt, playbook: Playbook, page: int, lang: str) -> list[SlackBlock]:
    return render_checkin.prompt_blocks(p.first_name, p.week, p.deals, p.outcomes, playbook, page=page, lang=lang,
                                        activity=p.activity, scores=p.scores, ask_activity=True)


def _modal(work: Work, deal: DealFacts, week: date, *, walk: bool, position: int = 0,
           count: int = 0) -> dict[str, Any]:
    q = questions_for(deal, work.playbook, now=work.now, stale_weeks=work.deps.settings.cadence.bant_stale_weeks)
    meta = {"ref": deal.ref, "week": week.isoformat(), "walk": walk}
    return render_checkin.checkin_modal(deal, q, work.playbook, metadata=meta, position=position, count=count,
                                        lang=work.lang)


def register(app: App, deps: Deps) -> None:
    @app.action(Action.CHECKIN_NO_CHANGE)
    @acked
    def no_change(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        value = button_value(body)
        week = week_value(value.get("week"))
        with work_for(deps, client, body) as work:
            checkins.no_change(work.session, work.actor.person, str(value.get("ref", "")), week, work.playbook,
                               deps.settings.cadence, now=work.now)
            _refresh_prompt(work, week)

    @app.action(Action.CHECKIN_UPDATE)
    @acked
    def update(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        value = button_value(body)
        week = week_value(value.get("week"))
        with work_for(deps, client, body) as work:
            deal = checkins.own_deal(work.session, work.actor.person, str(value.get("ref", "")))
            client.views_open(trigger_id=body["trigger_id"], view=_modal(work, deals.facts_of(deal), week, walk=False))

    @app.action(Action.CHECKIN_WALK)
    @acked
    def walk(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        week = week_value(button_value(body).get("week"))
        with work_for(deps, client, body) as work:
            deal, position, count = checkins.next_unanswered(work.session, work.actor.person, week, work.playbook,
                                                              now=work.now)
            view = (render_checkin.done_view(count) if deal is None
                    else _modal(work, deals.facts_of(deal), week, walk=True, position=position, count=count))
            client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(re.compile(f"^{Action.CHECKIN_PAGE}_"))
    @acked
    def page(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        value = button_value(body)
        week = week_value(value.get("week"))
        container = body.get("container") or {}
        with work_for(deps, client, body) as work:
            work.update_message(container.get("channel_id", ""), container.get("message_ts", ""),
                                _prompt_renderer(work, week, int(value.get("page", 1) or 1)))

    @app.action(Action.ACTIVITY_REPORT)
    @acked
    def activity(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        week = week_value(button_value(body).get("week"))
        with work_for(deps, client, body) as work:
            done = targets.activity_for(work.session, work.actor.person, week - timedelta(days=7))
            client.views_open(trigger_id=body["trigger_id"], view=render_checkin.activity_modal(week, done))

    @app.action(Action.ACTIVITY_SKIP)
    @acked
    def activity_skipped(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        week = week_value(button_value(body).get("week"))
        with work_for(deps, client, body) as work:
            targets.record_activity(work.session, work.actor.person, week - timedelta(days=7), visits=None,
                                    calls=None, proposals=None, skipped=True, now=work.now)
            _refresh_prompt(work, week)

    @app.view(View.ACTIVITY)
    @guarded
    def activity_submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        week = week_value(metadata_of(body).get("week"))
        form = Form(body["view"])
        counts = {b: form.count(b) for b in (Block.VISITS, Block.CALLS, Block.PROPOSALS)}
        if form.errors:
            ack(response_action="errors", errors=form.errors)
            return
        ack()
        with work_for(deps, client, body) as work:
            targets.record_activity(work.session, work.actor.person, week - timedelta(days=7),
                                    visits=counts[Block.VISITS], calls=counts[Block.CALLS],
                                    proposals=counts[Block.PROPOSALS], now=work.now)
            _refresh_prompt(work, week)

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
            deal = checkins.own_deal(work.session, work.actor.person, str(meta["ref"]))
            edits = read_deal_fields(form, today=work.now.date(), is_open=not work.playbook.is_closed(deal.stage))
            if not form.text(Block.NEXT_STEP):
                form.error(Block.NEXT_STEP, "required")
            if form.errors:
                response = {"response_action": "errors", "errors": form.errors}
            else:
                answers = read_answers(form, work.playbook)
                checklist = f"{Block.CHARACTERISTICS}__now"
                answers.unconfirmed = shown_options(view, checklist) - form.checked(checklist)
                done = {"yes": True, "no": False}
                plans_done = {int(b.removeprefix(Block.PLAN_DONE_PREFIX)): done.get(form.selected(b) or "")
                              for b in form.blocks_starting(Block.PLAN_DONE_PREFIX)
                              if b.removeprefix(Block.PLAN_DONE_PREFIX).isdigit()}
                saved = checkins.save_answer(work.session, work.actor.person, deal, week, answers, edits,
                                             work.playbook, deps.settings.cadence, now=work.now,
                                             note=form.text(Block.NOTE),
                                             marker_seen=MARKER_YES in form.checked(Block.NEXT_MARKER),
                                             plans_done=plans_done)
                _coach(work, saved, form)
                _refresh_prompt(work, week)
                if meta.get("walk"):
                    nxt, position, count = checkins.next_unanswered(work.session, work.actor.person, week,
                                                                    work.playbook, now=work.now, after=deal)
                    new_view = (render_checkin.done_view(count) if nxt is None
                                else _modal(work, deals.facts_of(nxt), week, walk=True, position=position,
                                            count=count))
                    response = {"response_action": "update", "view": new_view}
        ack(**response)


def _coach(work: Work, saved: checkins.Saved, form: Form) -> None:
    """After an answer: offer the advance its answers allow, or say what the next stage still needs."""
    if saved.next_stage is None:
        return
    if saved.gate_open:
        work.reply(render_checkin.advance_offer(saved.deal, work.playbook, saved.next_stage, work.lang))
    elif MARKER_YES in form.checked(Block.NEXT_MARKER):
        work.reply(render_checkin.marker_but_missing(saved.deal, work.playbook, saved.next_stage, work.lang))
