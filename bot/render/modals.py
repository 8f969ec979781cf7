"""The forms: new deal, update deal, the gate's questions, a reason for a move."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import i18n
from bot.domain.deal import DealFacts
from bot.domain.gates import Kind, Missing
from bot.domain.playbook import Playbook
from bot.i18n import _
from bot.render.blocks import MAX_VIEW_BLOCKS, context, macro, section
from bot.render.ids import FIELD
from bot.render.ids import Block as B
from bot.render.ids import View as V
from bot.render.text import clip

CURRENCIES = ("USD", "EUR", "GBP", "CNY", "JPY", "AUD", "CAD", "CHF", "INR", "SGD", "HKD", "SEK", "BRL")
OPTION_TEXT = 75
TITLE = 24


def _m(name: str, /, **ctx: Any) -> str:
    return macro("modals.j2", name, **ctx)


def option(value: str, text: str) -> Option:
    # Option text is capped at 75 characters; the rest goes to the description.
    if len(text) <= OPTION_TEXT:
        return Option(value=value, text=PlainTextObject(text=text))
    return Option(value=value, text=PlainTextObject(text=clip(text, OPTION_TEXT)),
                  description=PlainTextObject(text=clip(text[OPTION_TEXT - 1:], OPTION_TEXT)))


def text_input(block_id: str, label: str, *, initial: str | None = None, optional: bool = False,
               multiline: bool = False, max_length: int = 200, hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=clip(label, 2000)),
        element=PlainTextInputElement(action_id=FIELD, initial_value=initial or None, multiline=multiline or None,
                                      max_length=max_length),
        optional=optional or None,
        hint=PlainTextObject(text=clip(hint, 2000)) if hint else None,
    )


def date_input(block_id: str, label: str, *, initial: date | None, optional: bool = True) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=DatePickerElement(action_id=FIELD, initial_date=initial.isoformat() if initial else None),
        optional=optional or None,
    )


def select_input(block_id: str, label: str, options: Sequence[tuple[str, str]], *, initial: str | None,
                 optional: bool = False, hint: str | None = None) -> InputBlock:
    opts = [option(v, t) for v, t in options]
    init = next((o for o in opts if o.value == initial), None)
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=StaticSelectElement(action_id=FIELD, options=opts, initial_option=init),
        optional=optional or None,
        hint=PlainTextObject(text=clip(hint, 2000)) if hint else None,
    )


def checkbox_input(block_id: str, label: str, options: Sequence[tuple[str, str]], *, checked: set[str]) -> InputBlock:
    opts = [option(v, t) for v, t in options]
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=clip(label, 2000)),
        element=CheckboxesElement(action_id=FIELD, options=opts,
                                  initial_options=[o for o in opts if o.value in checked] or None),
        optional=True,
    )


def modal_view(callback_id: str, title: str, blocks: list[Block], metadata: dict[str, Any],
               submit: str) -> dict[str, Any]:
    """A modal with a submit and a cancel button; ``metadata`` travels in ``private_metadata``."""
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=clip(title, TITLE)),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text=_m("cancel")),
        blocks=blocks[:MAX_VIEW_BLOCKS],
        private_metadata=json.dumps(metadata, separators=(",", ":")),
    )
    return view.to_dict()


def currency_options(current: str) -> list[tuple[str, str]]:
    codes = list(CURRENCIES) if current in CURRENCIES else [current, *CURRENCIES]
    return [(c, c) for c in codes]


def new_deal_modal(playbook: Playbook, *, currency: str, metadata: dict[str, Any],
                   lang: str | None = None) -> dict[str, Any]:
    lang = lang or i18n.current()  # the language in force unless told
    open_stages = [(s.key, s.name.in_(lang)) for s in playbook.stages[:-1]]
    blocks: list[Block] = [
        text_input(B.NAME, _m("name")),
        text_input(B.ACCOUNT, _m("account")),
        text_input(B.AMOUNT, _m("amount"), max_length=30),
        select_input(B.CURRENCY, _m("currency"), currency_options(currency), initial=currency),
        date_input(B.CLOSE_DATE, _m("close_date"), initial=None),
        select_input(B.STAGE, _m("stage"), open_stages, initial=playbook.first.key),
        text_input(B.NEXT_STEP, _m("next_step"), optional=True, max_length=500),
    ]
    return modal_view(V.NEW_DEAL, _m("new_title"), blocks, metadata, _m("submit"))


def update_deal_modal(d: DealFacts, playbook: Playbook, *, metadata: dict[str, Any]) -> dict[str, Any]:
    forecasts = [("pipeline", _("Pipeline")), ("best_case", _("Best case")), ("commit", _("Commit"))]
    blocks: list[Block] = [
        text_input(B.NAME, _m("name"), initial=d.name),
        text_input(B.ACCOUNT, _m("account"), initial=d.account),
        text_input(B.AMOUNT, _m("amount"), initial=f"{d.amount:f}", max_length=30),
        select_input(B.CURRENCY, _m("currency"), currency_options(d.currency), initial=d.currency),
        date_input(B.CLOSE_DATE, _m("close_date"), initial=d.close_date),
        select_input(B.FORECAST, _m("forecast"), forecasts, initial=d.forecast),
        text_input(B.NEXT_STEP, _m("next_step"), initial=d.next_step, optional=True, max_length=500),
        date_input(B.NEXT_STEP_DATE, _m("next_step_date"), initial=d.next_step_date),
    ]
    return modal_view(V.UPDATE_DEAL, _m("update_title", ref=d.ref), blocks, metadata, _m("submit"))


def gate_blocks(d: DealFacts, missing: Sequence[Missing], playbook: Playbook, lang: str | None = None) -> list[Block]:
    """Input blocks asking for exactly the ``missing`` items, grouped as the playbook groups them."""
    lang = lang or i18n.current()  # the language in force unless told
    blocks: list[Block] = []
    chars_by_stage: dict[str, list[str]] = {}
    for m in missing:
        if m.kind is Kind.CHARACTERISTIC:
            chars_by_stage.setdefault(m.stage, []).append(m.key)
    for stage_key, keys in chars_by_stage.items():
        stage = playbook.stage(stage_key)
        # Checkbox elements take at most 10 options.
        for i in range(0, len(keys), 10):
            chunk = keys[i:i + 10]
            blocks.append(checkbox_input(
                f"{B.CHARACTERISTICS}__{stage_key}__{i // 10}",
                _m("characteristics", stage=stage.name.in_(lang)),
                [(k, playbook.characteristic(k)[1].text.in_(lang)) for k in chunk],
                checked=set(),
            ))
    for m in missing:
        if m.kind is Kind.BANT:
            q = playbook.bant_question(m.key)
            label = f"{q.name.in_(lang)}{i18n.colon(lang)}{q.question.in_(lang)}"
            blocks.append(text_input(f"{B.BANT_PREFIX}{m.key}", label,
                                     optional=True, max_length=500,
                                     initial=d.bant[m.key].answer if m.key in d.bant else None))
        elif m.kind is Kind.ROLE:
            role = playbook.role(m.key)
            blocks.append(text_input(f"{B.ROLE_PREFIX}{m.key}", role.name.in_(lang), optional=True,
                                     multiline=role.multiple, max_length=500,
                                     hint=role.description.in_(lang)
                                     + i18n.aside(_m("role_hint", multiple=role.multiple), lang)))
        elif m.kind is Kind.EVALUATION:
            ev = playbook.evaluation(m.key)
            answers = d.evaluations.get(m.key, {})
            blocks.append(checkbox_input(
                f"{B.EVAL_PREFIX}{m.key}",
                _m("evaluation", name=ev.name.in_(lang), need=ev.pass_mark, of=len(ev.items)),
                [(i.key, i.text.in_(lang)) for i in ev.items],
                checked={k for k, v in answers.items() if v},
            ))
    return blocks


def gate_modal(d: DealFacts, to_stage: str, missing: Sequence[Missing], playbook: Playbook, *,
               metadata: dict[str, Any], coaching: Sequence[Block] = (), lang: str | None = None) -> dict[str, Any]:
    lang = lang or i18n.current()  # the language in force unless told
    head: list[Block] = [section(_m("gate_context", d=d, to_stage=playbook.stage_name(to_stage, lang)))]
    inputs = gate_blocks(d, missing, playbook, lang)
    room = MAX_VIEW_BLOCKS - len(head) - len(inputs)
    blocks = head + list(coaching)[:max(room, 0)] + inputs
    return modal_view(V.GATE, _m("gate_title", ref=d.ref), blocks, metadata, _m("submit_gate"))


def new_deal_gate_modal(name: str, stage: str, missing: Sequence[Missing], playbook: Playbook, *,
                        metadata: dict[str, Any], lang: str | None = None) -> dict[str, Any]:
    """The second page of ``/deal new`` into a later stage: what the customer must have shown to be there."""
    lang = lang or i18n.current()  # the language in force unless told
    d = DealFacts(ref="", name=name, stage=playbook.first.key)
    head: list[Block] = [section(_m("new_gate_context", name=name, stage=playbook.stage_name(stage, lang)))]
    return modal_view(V.NEW_DEAL_GATE, _m("new_title"), head + gate_blocks(d, missing, playbook, lang), metadata,
                      _m("submit"))


def reason_modal(
    d: DealFacts, from_stage: str, to_stage: str, kind: str, *, metadata: dict[str, Any]
) -> dict[str, Any]:
    blocks: list[Block] = [
        context(_m("reason_context", d=d, from_stage=from_stage, to_stage=to_stage)),
        text_input(B.REASON, _m("reason_label", kind=kind), multiline=True, max_length=1000),
    ]
    return modal_view(V.REASON, _m("reason_title", ref=d.ref), blocks, metadata, _m("submit"))
