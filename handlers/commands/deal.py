"""``/deal``: help, new, list, show, update, advance, won, lost."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.db import repo
from bot.deps import Deps
from bot.imports.deals_csv import parse_date
from bot.render import modals
from bot.render.blocks import macro, section
from bot.render.qualify import qualify_modal
from bot.services import checkins
from bot.services.errors import UserError
from bot.services.workspace import find_deal, person_for_mention
from handlers import flows
from handlers.base import Replier, SlackDirectory, Work, guarded, work_for
from handlers.commands.parse import Command, mentioned_user, parse, split_last


def register(app: App, deps: Deps) -> None:
    @app.command("/deal")
    @guarded
    def deal_command(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        cmd = parse(body.get("text", ""))
        if cmd.verb in ("", "help"):
            Replier(client, body).ephemeral([section(macro("help.j2", "deal_help"))])
            return
        handler = SUBCOMMANDS.get(cmd.verb)
        if handler is None:
            raise UserError("unknown_subcommand", word=cmd.verb)
        with work_for(deps, client, body) as work:
            handler(work, cmd, body)


def _new(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    currency = _usual_currency(work)
    work.client.views_open(trigger_id=body["trigger_id"], view=modals.new_deal_modal(
        work.playbook, currency=currency, metadata={"channel": body.get("channel_id", "")}, lang=work.lang))


def _usual_currency(work: Work) -> str:
    from sqlalchemy import select

    from bot.db.models import Deal

    last = work.session.scalar(select(Deal.currency).where(Deal.owner_id == work.actor.person.id)
                               .order_by(Deal.id.desc()).limit(1))
    return last or "USD"


def _list(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    user = mentioned_user(cmd.rest)
    if cmd.rest and not user:
        raise UserError("usage", command="/deal list [@person]", example="/deal list @maria")
    owner = work.actor.person
    if user is not None:
        owner = person_for_mention(work.session, work.actor, user, SlackDirectory(work.client))
    flows.list_deals(work, owner)


def _show(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    flows.show(work, cmd.rest)


def _update(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    deal = find_deal(work.session, work.actor, cmd.rest)
    work.client.views_open(trigger_id=body["trigger_id"], view=modals.update_deal_modal(
        repo.to_facts(deal), work.playbook, metadata={"ref": deal.ref, "channel": body.get("channel_id", "")}))


def _qualify(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    deal = find_deal(work.session, work.actor, cmd.rest)
    work.client.views_open(trigger_id=body["trigger_id"], view=qualify_modal(
        repo.to_facts(deal), work.playbook, metadata={"ref": deal.ref, "channel": body.get("channel_id", "")},
        lang=work.lang))


def _advance(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    if not cmd.rest:
        raise UserError("usage", command="/deal advance REF [STAGE]", example="/deal advance D-17 negotiation")
    query, last = split_last(cmd.rest)
    to_stage = _stage_or_none(work, last)
    if to_stage is None:
        query = cmd.rest  # no stage given: every word names the deal
    try:
        deal = find_deal(work.session, work.actor, query)
    except UserError:
        # "/deal advance D-17 closng": a known deal and a mistyped stage says so.
        if last is not None and to_stage is None and repo.deal_by_ref(work.session, cmd.words[0]):
            flows.resolve_stage(work, last)
        raise
    flows.advance(work, deal, to_stage, trigger_id=body.get("trigger_id"), channel=body.get("channel_id"))


def _stage_or_none(work: Work, word: str | None) -> str | None:
    if word is None:
        return None
    try:
        return flows.resolve_stage(work, word)
    except UserError:
        return None


def _won(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    deal = find_deal(work.session, work.actor, cmd.rest)
    flows.advance(work, deal, work.playbook.won.key, trigger_id=body.get("trigger_id"),
                  channel=body.get("channel_id"))


def _lost(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    if not cmd.words:
        raise UserError("usage", command="/deal lost REF REASON", example="/deal lost D-17 chose a competitor")
    deal = find_deal(work.session, work.actor, cmd.words[0])
    flows.mark_lost(work, deal, cmd.rest[len(cmd.words[0]):])


def _away(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    words = [w for w in cmd.words if w.lower() != "until"]
    until = parse_date(words[0]) if len(words) == 1 else None
    if until is None:
        raise UserError("usage", command="/deal away until YYYY-MM-DD", example="/deal away until 2026-12-04")
    if until < work.now.date():
        raise UserError("away_in_past", until=until.isoformat())
    checkins.set_away(work.session, work.actor.person, until, work.playbook, now=work.now)
    work.reply([section(macro("checkin.j2", "away_set", until=until))])


def _back(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    checkins.set_away(work.session, work.actor.person, None, work.playbook, now=work.now)
    work.reply([section(macro("checkin.j2", "back"))])


SUBCOMMANDS = {
    "away": _away,
    "back": _back,
    "new": _new,
    "list": _list,
    "show": _show,
    "update": _update,
    "edit": _update,
    "qualify": _qualify,
    "advance": _advance,
    "won": _won,
    "lost": _lost,
}
