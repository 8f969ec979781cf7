"""Messages about deals: the card, paged lists, and gate coaching."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block

from bot import i18n
from bot.domain import money
from bot.domain.coaching import label
from bot.domain.deal import DealFacts, HistoryLine
from bot.domain.gates import GateResult, missing_for_next
from bot.domain.playbook import LOST, Playbook
from bot.domain.rollup import totals
from bot.domain.score import Score
from bot.i18n import _
from bot.render import text
from bot.render.blocks import MAX_MESSAGE_BLOCKS, actions, button, context, divider, macro, pack, page_nav, section
from bot.render.ids import Action

PAGE_SIZE = 25  # deals per list page: with stage headers this stays far below 50 blocks
HISTORY_LINES = 10


def _d(name: str, /, **ctx: Any) -> str:
    return macro("deal.j2", name, **ctx)


def missing_labels(d: DealFacts, playbook: Playbook, lang: str) -> list[str]:
    return [label(m, playbook, lang) for m in missing_for_next(d, playbook)]


def deal_card(d: DealFacts, playbook: Playbook, *, owner: str, history: Sequence[HistoryLine] = (),
              lang: str | None = None, can_advance: bool = True) -> list[Block]:
    """Everything about one deal: stage with marker and characteristics, coaching, BANT, roles, history."""
    lang = lang or i18n.current()  # the language in force unless told
    blocks: list[Block] = [section(_d("headline", d=d, pb=playbook, owner=owner))]
    if d.stage == LOST:
        blocks.append(section(f"*{playbook.stage_name(LOST, lang)}*{i18n.colon(lang)}{d.lost_reason}"))
    else:
        stage = playbook.stage(d.stage)
        blocks.append(section(_d("stage_section", d=d, pb=playbook, stage=stage, lang=lang)))
        blocks.append(section(_d("actions_section", stage=stage, lang=lang)))
        missing = missing_labels(d, playbook, lang)
        if missing:
            nxt = playbook.next_stage(d.stage)
            assert nxt is not None
            reach = _("To reach %(stage)s:") % {"stage": nxt.name.in_(lang)}
            blocks.append(section(f"*{reach}* " + i18n.items(missing, lang)))
    blocks.append(divider())
    blocks.append(section(_d("bant_section", d=d, pb=playbook, lang=lang)))
    blocks.append(section(_d("roles_section", d=d, pb=playbook, lang=lang)))
    blocks.append(section(_d("evaluations_heading")))
    for ev in playbook.evaluations:
        blocks.append(section(_d("evaluation_items", d=d, e=ev, lang=lang)))
    blocks.append(section(_d("next_step", d=d)))
    if d.plans:
        blocks.append(section(_d("plans_section", plans=list(d.plans)[-5:])))
    if history:
        blocks.append(context(_d("history_section", changes=list(history)[-HISTORY_LINES:], pb=playbook, lang=lang)))
    buttons = [button(_("Update"), Action.UPDATE, {"ref": d.ref}),
               button(_("Roles & evaluations"), Action.QUALIFY, {"ref": d.ref})]
    if can_advance and not playbook.is_closed(d.stage):
        buttons.insert(0, button(_("Advance"), Action.ADVANCE, {"ref": d.ref}, style="primary"))
    blocks.append(actions(*buttons))
    return blocks


def deal_list_page(deals: Sequence[DealFacts], playbook: Playbook, *, whose: str, page: int,
                   page_value: dict[str, Any], lang: str | None = None, scores: Mapping[str, Score] | None = None,
                   by_score: bool = False) -> list[Block]:
    """One page of open deals grouped by stage, each with what it needs next (and its lead
    score, when ``scores`` has them); ``by_score`` lists them highest score first instead,
    each with what would raise it most.

    Pages keep every message under Slack's 50-block limit, whatever the count.
    """
    lang = lang or i18n.current()  # the language in force unless told
    open_deals = [d for d in deals if not playbook.is_closed(d.stage)]
    if not open_deals:
        return [section(_d("empty_list", whose=text.whose(whose)))]
    scores = scores or {}
    order = {k: i for i, k in enumerate(playbook.keys)}
    open_deals.sort(key=lambda d: (order[d.stage], d.close_date or datetime.max.date(), d.ref))
    if by_score and scores:
        return _by_score_page(open_deals, playbook, scores, whose=whose, page=page, page_value=page_value, lang=lang)
    pages = (len(open_deals) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 1), pages)
    chunk = open_deals[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    t = totals(open_deals, playbook)
    blocks: list[Block] = [section(_d("list_header", whose=text.whose(whose), count=t.open_count, total=t.open_amount,
                                      weighted=t.weighted))]
    for key in playbook.keys:
        in_stage = [d for d in chunk if d.stage == key]
        if not in_stage:
            continue
        all_in_stage = [d for d in open_deals if d.stage == key]
        blocks.append(divider())
        lines = [_d("stage_header", pb=playbook, key=key, count=len(all_in_stage), lang=lang,
                    total=money.total((d.currency, d.amount) for d in all_in_stage))]
        lines += [_d("list_line", d=d, pb=playbook, missing=missing_labels(d, playbook, lang), lang=lang,
                     score=scores.get(d.ref)) for d in in_stage]
        blocks.extend(pack(lines))
    if pages > 1:
        blocks.append(context(_d("page_note", page=page, pages=pages)))
        blocks.append(page_nav(Action.PAGE, page_value, page, pages))
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    return blocks


def _by_score_page(open_deals: list[DealFacts], playbook: Playbook, scores: Mapping[str, Score], *, whose: str,
                   page: int, page_value: dict[str, Any], lang: str) -> list[Block]:
    ranked = sorted(open_deals, key=lambda d: (-(scores[d.ref].value if d.ref in scores else -1), d.ref))
    pages = (len(ranked) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 1), pages)
    t = totals(ranked, playbook)
    blocks: list[Block] = [section(_d("list_header", whose=text.whose(whose), count=t.open_count, total=t.open_amount,
                                      weighted=t.weighted)), context(_d("by_score_note"))]
    lines = [_d("list_line", d=d, pb=playbook, missing=missing_labels(d, playbook, lang), lang=lang,
                score=scores.get(d.ref), hint=True)
             for d in ranked[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]]
    blocks.extend(pack(lines))
    if pages > 1:
        blocks.append(context(_d("page_note", page=page, pages=pages)))
        blocks.append(page_nav(Action.PAGE, page_value, page, pages))
    return blocks[:MAX_MESSAGE_BLOCKS]


def gate_message(d: DealFacts, gate: GateResult, playbook: Playbook, *, can_override: bool,
                 lang: str | None = None) -> list[Block]:
    """Coaching for a gated move: each stage left, what it still needs, and what to do."""
    lang = lang or i18n.current()  # the language in force unless told
    blocks: list[Block] = [section(macro("gate.j2", "intro", d=d, pb=playbook, to_stage=gate.to_stage, lang=lang))]
    for stage in playbook.stages:
        for entering in (True, False):
            items = [label(m, playbook, lang) for m in gate.missing if m.stage == stage.key and m.entering == entering]
            if items:
                blocks.append(section(macro("gate.j2", "stage_block", stage=stage, items=items, lang=lang,
                                            entering=entering)))
    blocks.append(context(macro("gate.j2", "ask")))
    value = {"ref": d.ref, "to": gate.to_stage}
    buttons = [button(macro("gate.j2", "ask_button"), Action.ADVANCE, value, style="primary")]
    if can_override:
        blocks.append(context(macro("gate.j2", "override_note")))
        buttons.append(button(_("Override…"), Action.OVERRIDE, value, style="danger"))
    blocks.append(actions(*buttons))
    return blocks[:MAX_MESSAGE_BLOCKS]


def text_message(template: str, name: str, /, **ctx: Any) -> list[Block]:
    return [section(macro(template, name, **ctx))]
