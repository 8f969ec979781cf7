"""Modal submissions: new deal, update deal, the gate's questions, a reason."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot import i18n
from bot.deps import Deps
from bot.domain.gates import Kind, Missing
from bot.domain.playbook import Playbook
from bot.render.blocks import macro, section
from bot.render.ids import Block, View
from bot.services import deals
from bot.services.access import find_deal
from bot.services.answers import apply_edits
from bot.services.errors import UserError
from bot.slack.payload import metadata_of
from bot.slack.work import work_for
from handlers.base import guarded
from handlers.deal.replies import show_moved
from handlers.forms import Form, read_answers, read_deal_fields


def register(app: App, deps: Deps) -> None:
    # Each form does its work in one transaction and acknowledges after the
    # commit, so Slack closes the modal only once the change is stored.

    @app.view(View.NEW_DEAL)
    @guarded
    def new_deal_submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        form = Form(body["view"])
        fields = read_deal_fields(form, today=deps.clock.now().date(), is_open=True)
        stage = form.selected(Block.STAGE) or deps.playbook.first.key
        if form.errors:
            ack(response_action="errors", errors=form.errors)
            return
        with work_for(deps, client, body) as work:
            assert fields.amount is not None and fields.currency is not None
            new = deals.NewDeal(fields.name or "", fields.account or "", work.actor.person, fields.amount,
                                fields.currency, stage, fields.close_date, fields.next_step or "")
            created = deals.add_deal(work.session, new, work.playbook, now=work.now, by=work.actor.person)
            work.reply([section(macro("deal.j2", "created", d=created, pb=work.playbook, lang=work.lang))])
        ack()

    @app.view(View.UPDATE_DEAL)
    @guarded
    def update_deal_submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        form = Form(body["view"])
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, metadata_of(body).get("ref", ""))
            edits = read_deal_fields(form, today=work.now.date(), is_open=not work.playbook.is_closed(deal.stage))
            if not form.errors:
                changed = apply_edits(deal, edits, now=work.now)
                work.reply([section(macro("deal.j2", "updated" if changed else "unchanged",
                                          d=deals.facts_of(deal)))])
        _ack_form(ack, form.errors)

    @app.view(View.GATE)
    @guarded
    def gate_submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        meta = metadata_of(body)
        form = Form(body["view"])
        errors: dict[str, str] = {}
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, meta.get("ref", ""))
            move = deals.answer_gate(work.session, work.actor, deal, meta.get("to") or "",
                                     read_answers(form, work.playbook), work.playbook, now=work.now)
            if move.gate.missing:
                errors = _errors_for(form, move.gate.missing, work.playbook)
            elif move.moved:
                show_moved(work, move)
        _ack_form(ack, errors)

    @app.view(View.REASON)
    @guarded
    def reason_submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        meta = metadata_of(body)
        form = Form(body["view"])
        reason = form.required_text(Block.REASON)
        if form.errors:
            ack(response_action="errors", errors=form.errors)
            return
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, meta.get("ref", ""))
            to_stage = meta.get("to") or ""
            if not work.playbook.has_stage(to_stage) or deal.stage == to_stage:
                raise UserError("stale_view")
            override = meta.get("kind") == "override"
            if override and not work.actor.can_override(deal.owner):
                raise UserError("cannot_override", ref=deal.ref)
            show_moved(work, deals.move_with_reason(work.session, work.actor, deal, to_stage, work.playbook,
                                                    now=work.now, reason=reason, override=override))
        ack()


def _ack_form(ack: Any, errors: dict[str, str]) -> None:
    if errors:
        ack(response_action="errors", errors=errors)
    else:
        ack()


def _errors_for(form: Form, missing: tuple[Missing, ...], playbook: Playbook) -> dict[str, str]:
    """Put each still-missing item's message on the field that asks for it."""
    errors: dict[str, str] = {}
    char_blocks = form.blocks_starting(f"{Block.CHARACTERISTICS}__")
    for m in missing:
        stage = playbook.stage_name(m.stage, i18n.current())
        if m.kind is Kind.CHARACTERISTIC:
            block = next((b for b in char_blocks if b.split("__")[1] == m.stage), None)
        else:
            prefix = {Kind.BANT: Block.BANT_PREFIX, Kind.ROLE: Block.ROLE_PREFIX, Kind.EVALUATION: Block.EVAL_PREFIX}
            block = f"{prefix[m.kind]}{m.key}"
        if block is None or not form.has(block):
            block = next(iter(form.values), None)
        if block is not None:
            errors.setdefault(block, macro("errors.j2", "still_missing", stage=stage))
    return errors
