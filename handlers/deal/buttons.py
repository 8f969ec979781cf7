"""Buttons: advance, override, update, new deal, paging."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.render import modals
from bot.render.ids import Action
from bot.render.meeting import plan_modal
from bot.render.qualify import qualify_modal
from bot.services import deals, meeting
from bot.services.access import find_deal, person_by_id
from bot.services.errors import UserError
from bot.services.pipeline import deal_list
from bot.slack.payload import button_value, channel_of
from bot.slack.work import work_for
from handlers.base import acked
from handlers.deal.replies import show_list, show_move


def register(app: App, deps: Deps) -> None:
    @app.action(Action.ADVANCE)
    @acked
    def advance_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        value = button_value(body)
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, value.get("ref", ""))
            to = value.get("to")
            move = deals.advance_deal(work.session, work.actor, deal, to if isinstance(to, str) else None,
                                      work.playbook, now=work.now)
            show_move(work, move, trigger_id=body.get("trigger_id"), channel=channel_of(body))

    @app.action(Action.OVERRIDE)
    @acked
    def override_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        value = button_value(body)
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, value.get("ref", ""))
            if not work.actor.can_override(deal.owner):
                raise UserError("cannot_override", ref=deal.ref)
            to = deals.stage_from_text(work.playbook, str(value.get("to", "")))
            pb = work.playbook
            meta = {"ref": deal.ref, "to": to, "kind": "override", "channel": channel_of(body)}
            client.views_open(trigger_id=body["trigger_id"], view=modals.reason_modal(
                deals.facts_of(deal), pb.stage_name(deal.stage, work.lang), pb.stage_name(to, work.lang), "override",
                metadata=meta))

    @app.action(Action.UPDATE)
    @acked
    def update_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, button_value(body).get("ref", ""))
            client.views_open(trigger_id=body["trigger_id"], view=modals.update_deal_modal(
                deals.facts_of(deal), work.playbook, metadata={"ref": deal.ref, "channel": channel_of(body)}))

    @app.action(Action.QUALIFY)
    @acked
    def qualify_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, button_value(body).get("ref", ""))
            client.views_open(trigger_id=body["trigger_id"], view=qualify_modal(
                deals.facts_of(deal), work.playbook, metadata={"ref": deal.ref, "channel": channel_of(body)},
                lang=work.lang))

    @app.action(Action.MEETING_PLAN)
    @acked
    def plan_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, button_value(body).get("ref", ""))
            meeting.check_may_plan(work.actor, deal)
            client.views_open(trigger_id=body["trigger_id"], view=plan_modal(
                deals.facts_of(deal), deal.owner.name, metadata={"ref": deal.ref, "channel": channel_of(body)}))

    @app.action(Action.NEW_DEAL)
    @acked
    def new_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        with work_for(deps, client, body) as work:
            currency = deals.default_currency(work.session, work.actor.person)
            client.views_open(trigger_id=body["trigger_id"], view=modals.new_deal_modal(
                work.playbook, currency=currency, metadata={"channel": channel_of(body)}, lang=work.lang))

    @app.action(re.compile(f"^{Action.PAGE}_"))
    @acked
    def page_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        value = button_value(body)
        with work_for(deps, client, body) as work:
            owner = person_by_id(work.session, work.actor, value.get("owner"))
            show_list(work, deal_list(work.session, work.actor, owner, work.playbook, now=work.now), owner.id,
                      _page(value.get("page")), replace=True, by_score=value.get("sort") == "score")


def _page(raw: object) -> int:
    """The page a "more" button asks for; anything else than a small whole number is the first."""
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 10_000:
        return raw
    return 1
