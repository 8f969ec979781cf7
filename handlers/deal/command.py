"""``/deal``: help, new, list, show, update, advance, won, lost, away, back, language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot import i18n
from bot.deps import Deps
from bot.domain.values import parse_date
from bot.render import deal_blocks, modals
from bot.render.blocks import macro, section
from bot.render.qualify import qualify_modal
from bot.services import checkins, deals, people
from bot.services.access import find_deal, person_for_mention
from bot.services.errors import UserError
from bot.services.pipeline import deal_card, deal_list
from bot.slack.reply import Replier
from bot.slack.work import Work, language_for, work_for
from handlers.base import acked
from handlers.deal.replies import show_list, show_move
from handlers.parse import Command, mentioned_user, parse, strip_sort


def register(app: App, deps: Deps) -> None:
    @app.command("/deal")
    @acked
    def deal_command(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        cmd = parse(body.get("text", ""))
        handler = SUBCOMMANDS.get(cmd.verb)
        if handler is None:
            with i18n.language(language_for(deps, client, body)) as lang:
                if cmd.verb in ("", "help"):
                    Replier(client, body).ephemeral([section(macro("help.j2", "deal_help"))])
                    return
                raise i18n.speaking(UserError("unknown_subcommand", word=cmd.verb), lang)
        with work_for(deps, client, body) as work:
            handler(work, cmd, body)


def _new(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    currency = deals.default_currency(work.session, work.actor.person)
    work.client.views_open(trigger_id=body["trigger_id"], view=modals.new_deal_modal(
        work.playbook, currency=currency, metadata={"channel": body.get("channel_id", "")}, lang=work.lang))


def _list(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    rest, by_score = strip_sort(cmd.rest)
    user = mentioned_user(rest)
    if rest and not user:
        raise UserError("usage", command="/deal list [@person] [by score]", example="/deal list @maria by score")
    owner = work.actor.person
    if user is not None:
        owner = person_for_mention(work.session, work.actor, user, work.directory)
    listing = deal_list(work.session, work.actor, owner, work.playbook, now=work.now)
    show_list(work, listing, owner.id, by_score=by_score)


def _show(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    card = deal_card(work.session, work.actor, cmd.rest)
    work.reply(deal_blocks.deal_card(card.deal, work.playbook, owner=card.owner, history=card.history,
                                     lang=work.lang))


def _update(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    deal = find_deal(work.session, work.actor, cmd.rest)
    work.client.views_open(trigger_id=body["trigger_id"], view=modals.update_deal_modal(
        deals.facts_of(deal), work.playbook, metadata={"ref": deal.ref, "channel": body.get("channel_id", "")}))


def _qualify(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    deal = find_deal(work.session, work.actor, cmd.rest)
    work.client.views_open(trigger_id=body["trigger_id"], view=qualify_modal(
        deals.facts_of(deal), work.playbook, metadata={"ref": deal.ref, "channel": body.get("channel_id", "")},
        lang=work.lang))


def _advance(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    if not cmd.rest:
        raise UserError("usage", command="/deal advance REF [STAGE]", example="/deal advance D-17 negotiation")
    move = deals.advance_named(work.session, work.actor, cmd.rest, work.playbook, now=work.now)
    show_move(work, move, trigger_id=body.get("trigger_id"), channel=body.get("channel_id"))


def _won(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    deal = find_deal(work.session, work.actor, cmd.rest)
    move = deals.advance_deal(work.session, work.actor, deal, work.playbook.won.key, work.playbook, now=work.now)
    show_move(work, move, trigger_id=body.get("trigger_id"), channel=body.get("channel_id"))


def _lost(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    if not cmd.words:
        raise UserError("usage", command="/deal lost REF REASON", example="/deal lost D-17 chose a competitor")
    deal = find_deal(work.session, work.actor, cmd.words[0])
    move = deals.mark_lost(work.session, work.actor, deal, cmd.rest[len(cmd.words[0]):], work.playbook,
                           now=work.now)
    show_move(work, move, trigger_id=None, channel=None)


MAX_AWAY = timedelta(days=366)


def _away(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    words = [w for w in cmd.words if w.lower() != "until"]
    until = parse_date(words[0]) if len(words) == 1 else None
    if until is None:
        raise UserError("usage", command="/deal away until YYYY-MM-DD", example="/deal away until 2026-12-04")
    if until < work.now.date():
        raise UserError("away_in_past", until=until.isoformat())
    if until > work.now.date() + MAX_AWAY:  # a typo like 9999-12-31 would silence the rep for good
        raise UserError("away_too_far", until=until.isoformat())
    checkins.set_away(work.session, work.actor.person, until, work.playbook, now=work.now)
    work.reply([section(macro("checkin.j2", "away_set", until=until))])


def _language(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    if len(cmd.words) != 1 or i18n.normalize(cmd.words[0]) is None:
        raise UserError("usage", command="/deal language zh|en", example="/deal language zh")
    work.lang = people.set_language(work.actor.person, cmd.words[0])
    with i18n.language(work.lang):
        work.reply([section(macro("help.j2", "language_set", name=i18n.NAMES[work.lang]))])


def _back(work: Work, cmd: Command, body: dict[str, Any]) -> None:
    checkins.set_away(work.session, work.actor.person, None, work.playbook, now=work.now)
    work.reply([section(macro("checkin.j2", "back"))])


SUBCOMMANDS = {
    "away": _away,
    "back": _back,
    "language": _language,
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
