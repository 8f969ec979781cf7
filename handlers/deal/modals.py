"""Modal submissions: new deal, update deal, the gate's questions, a reason."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot import i18n
from bot.deps import Deps
from bot.domain.gates import Kind, Missing
from bot.domain.playbook import LOST, Playbook
from bot.render import modals
from bot.render.blocks import macro, section
from bot.render.ids import FIELD, Block, View
from bot.render.meeting import plan_saved
from bot.services import deals, meeting
from bot.services.access import find_deal
from bot.services.answers import Answers, apply_edits
from bot.services.deals import NewDeal
from bot.services.errors import UserError
from bot.services.qualification import new_deal_gate, record_qualification
from bot.slack.payload import metadata_of
from bot.slack.work import Work, work_for
from handlers.base import guarded
from handlers.deal.replies import show_moved
from handlers.forms import Form, read_answers, read_deal_fields, read_qualification


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
        if fields.amount is None or fields.currency is None:  # not the form the app made: it asks for both
            raise UserError("stale_view")
        gate_view: dict[str, Any] | None = None
        with work_for(deps, client, body) as work:
            new = NewDeal(fields.name or "", fields.account or "", work.actor.person, fields.amount, fields.currency,
                          stage, fields.close_date, fields.next_step or "")
            if not work.playbook.has_stage(stage) or stage == LOST:
                raise UserError("stale_view")
            # Straight into a later stage: the customer must have shown what that stage needs.
            gate = new_deal_gate(new, Answers(), work.playbook, now=work.now)
            if gate.missing:
                gate_view = modals.new_deal_gate_modal(new.name, stage, gate.missing, work.playbook,
                                                       metadata=_new_deal_metadata(new, body), lang=work.lang)
            else:
                _create(work, new, Answers())
        if gate_view is not None:
            ack(response_action="update", view=gate_view)
            return
        ack()

    @app.view(View.NEW_DEAL_GATE)
    @guarded
    def new_deal_gate_submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        meta = metadata_of(body)
        form = Form(body["view"])
        errors: dict[str, str] = {}
        with work_for(deps, client, body) as work:
            new = _new_deal_from(meta, work)
            answers = read_answers(form, work.playbook)
            gate = new_deal_gate(new, answers, work.playbook, now=work.now)
            if gate.missing:
                errors = _errors_for(form, gate.missing, work.playbook)
            else:
                _create(work, new, answers)
        _ack_form(ack, errors)

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

    @app.view(View.QUALIFY)
    @guarded
    def qualify_submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        form = Form(body["view"])
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, metadata_of(body).get("ref", ""))
            changed = record_qualification(deal, read_qualification(form, work.playbook), work.playbook,
                                           now=work.now, by=work.actor.person)
            work.reply([section(macro("qualify.j2", "saved", d=deals.facts_of(deal), changed=changed))])
        ack()

    @app.view(View.ACTION_PLAN)
    @guarded
    def plan_submitted(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        form = Form(body["view"])
        what, who = form.required_text(Block.PLAN_WHAT), form.required_text(Block.PLAN_WHO)
        due = form.date(Block.PLAN_DUE)
        if due is None:
            form.error(Block.PLAN_DUE, "required")
        elif due < deps.clock.now().date():
            form.error(Block.PLAN_DUE, "plan_due_past")
        if form.errors:
            ack(response_action="errors", errors=form.errors)
            return
        assert due is not None
        with work_for(deps, client, body) as work:
            deal = find_deal(work.session, work.actor, metadata_of(body).get("ref", ""))
            meeting.check_may_plan(work.actor, deal)  # the form, like its button: a rep's plan is agreed with them
            meeting.save_plan(deal, what=what, who=who, due=due, by=work.actor.person, now=work.now)
            work.reply(plan_saved(deals.facts_of(deal), what, who, due, within=work.now.date()))
        ack()

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


def _create(work: Work, new: NewDeal, answers: Answers) -> None:
    created = deals.add_deal(work.session, new, work.playbook, now=work.now, by=work.actor.person, answers=answers)
    work.reply([section(macro("deal.j2", "created", d=created, pb=work.playbook, lang=work.lang))])


def _new_deal_metadata(new: NewDeal, body: dict[str, Any]) -> dict[str, Any]:
    """The first page's fields, carried to the second (Slack keeps private_metadata up to 3,000 characters)."""
    return {"name": new.name, "account": new.account, "amount": f"{new.amount:f}", "currency": new.currency,
            "close_date": new.close_date.isoformat() if new.close_date else "", "stage": new.stage,
            "next_step": new.next_step, "channel": metadata_of(body).get("channel", "")}


def _new_deal_from(meta: dict[str, Any], work: Work) -> NewDeal:
    """The first page's fields, checked again exactly as that page checked them: the metadata comes
    back from Slack with the second page, and a forged one must not store what the first refuses."""
    def text(key: str) -> str:
        value = meta.get(key, "")
        return value if isinstance(value, str) else ""

    def field(**value: Any) -> dict[str, Any]:
        return {FIELD: value}

    form = Form({"state": {"values": {
        Block.NAME: field(value=text("name")), Block.ACCOUNT: field(value=text("account")),
        Block.AMOUNT: field(value=text("amount")),
        Block.CURRENCY: field(selected_option={"value": text("currency")}),
        Block.CLOSE_DATE: field(selected_date=text("close_date") or None),
        Block.NEXT_STEP: field(value=text("next_step"))}}})
    fields = read_deal_fields(form, today=work.now.date(), is_open=True)
    stage = text("stage")
    if form.errors or not work.playbook.has_stage(stage) or stage == LOST:
        raise UserError("stale_view")
    assert fields.amount is not None and fields.currency is not None
    return NewDeal(fields.name or "", fields.account or "", work.actor.person, fields.amount, fields.currency,
                   stage, fields.close_date, fields.next_step or "")


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
            errors.setdefault(block, macro("errors.j2", "still_missing", stage=stage, entering=m.entering))
    return errors
