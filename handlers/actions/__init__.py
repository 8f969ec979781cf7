"""Buttons: advance, override, update, paging."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.db import repo
from bot.db.models import Person
from bot.deps import Deps
from bot.render import modals
from bot.render.ids import Action
from bot.render.meeting import plan_modal
from bot.render.qualify import qualify_modal
from bot.services.errors import UserError
from bot.services.workspace import find_deal
from handlers import flows
from handlers.base import button_value, guarded, work_for


def _channel(body: dict[str, Any]) -> str:
    return (body.get("channel") or {}).get("id") or ""


def register(app: App, deps: Deps) -> None:
    @app.action(Action.ADVANCE)
    @guarded
    def advance_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        value = button_value(body)
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, value.get("ref", ""))
            to = value.get("to")
            flows.advance(work, deal, to if isinstance(to, str) else None,
                          trigger_id=body.get("trigger_id"), channel=_channel(body))

    @app.action(Action.OVERRIDE)
    @guarded
    def override_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        value = button_value(body)
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, value.get("ref", ""))
            if not work.actor.can_override(deal.owner):
                raise UserError("cannot_override", ref=deal.ref)
            to = flows.resolve_stage(work, str(value.get("to", "")))
            pb = work.playbook
            meta = {"ref": deal.ref, "to": to, "kind": "override", "channel": _channel(body)}
            client.views_open(trigger_id=body["trigger_id"], view=modals.reason_modal(
                repo.to_facts(deal), pb.stage_name(deal.stage), pb.stage_name(to), "override", metadata=meta))

    @app.action(Action.UPDATE)
    @guarded
    def update_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, button_value(body).get("ref", ""))
            client.views_open(trigger_id=body["trigger_id"], view=modals.update_deal_modal(
                repo.to_facts(deal), work.playbook, metadata={"ref": deal.ref, "channel": _channel(body)}))

    @app.action(Action.QUALIFY)
    @guarded
    def qualify_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, button_value(body).get("ref", ""))
            client.views_open(trigger_id=body["trigger_id"], view=qualify_modal(
                repo.to_facts(deal), work.playbook, metadata={"ref": deal.ref, "channel": _channel(body)},
                lang=work.lang))

    @app.action(Action.MEETING_PLAN)
    @guarded
    def plan_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, button_value(body).get("ref", ""))
            if deal.owner_id == work.actor.person.id and not work.actor.is_manager:
                raise UserError("plan_for_managers")
            client.views_open(trigger_id=body["trigger_id"], view=plan_modal(
                repo.to_facts(deal), deal.owner.name, metadata={"ref": deal.ref, "channel": _channel(body)}))

    @app.action(Action.NEW_DEAL)
    @guarded
    def new_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with work_for(deps, client, body) as work:
            client.views_open(trigger_id=body["trigger_id"], view=modals.new_deal_modal(
                work.playbook, currency="USD", metadata={"channel": _channel(body)}, lang=work.lang))

    @app.action(re.compile(f"^{Action.PAGE}_"))
    @guarded
    def page_clicked(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        value = button_value(body)
        with work_for(deps, client, body) as work:
            owner = work.session.get(Person, int(value.get("owner", 0) or 0))
            if owner is None or not work.actor.can_see(owner):
                raise UserError("list_not_manager")
            flows.list_deals(work, owner, int(value.get("page", 1) or 1), replace=True)
