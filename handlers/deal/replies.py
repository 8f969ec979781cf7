"""What the person sees after a deal command, button or form: the answers shared by them."""

from __future__ import annotations

from bot.render import deal_blocks, modals
from bot.render.blocks import macro, section
from bot.services.deals import Move
from bot.services.pipeline import DealList
from bot.slack.work import Work


def show_move(work: Work, move: Move, *, trigger_id: str | None, channel: str | None) -> None:
    """The deal moved; or the reason form; or the gate's coaching, with a form asking for what is missing."""
    if move.moved:
        show_moved(work, move)
        return
    pb, facts = work.playbook, move.deal
    metadata = {"ref": facts.ref, "to": move.to_stage, "channel": channel or ""}
    if move.gate.needs_reason:
        if trigger_id:
            work.client.views_open(trigger_id=trigger_id, view=modals.reason_modal(
                facts, pb.stage_name(move.from_stage, work.lang), pb.stage_name(move.to_stage, work.lang), "backward",
                metadata=metadata))
        return
    coaching = deal_blocks.gate_message(facts, move.gate, pb, can_override=move.may_override, lang=work.lang)
    if trigger_id:
        work.client.views_open(trigger_id=trigger_id, view=modals.gate_modal(
            facts, move.to_stage, move.gate.missing, pb, metadata=metadata, coaching=coaching[1:-2], lang=work.lang))
    work.reply(coaching)


def show_moved(work: Work, move: Move) -> None:
    work.reply([section(macro("deal.j2", "moved", d=move.deal, pb=work.playbook, from_stage=move.from_stage,
                              lang=work.lang, overridden=move.overridden, reason=move.reason))])


def show_list(work: Work, listing: DealList, owner_id: int, page: int = 1, *, replace: bool = False,
              by_score: bool = False) -> None:
    value = {"cmd": "list", "owner": owner_id, **({"sort": "score"} if by_score else {})}
    blocks = deal_blocks.deal_list_page(listing.deals, work.playbook, whose=listing.whose, page=page,
                                        page_value=value, lang=work.lang, scores=listing.scores, by_score=by_score)
    work.reply(blocks, replace=replace)
