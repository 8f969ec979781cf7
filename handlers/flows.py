"""Deal flows shared by commands, buttons and forms: show, list, advance, move."""

from __future__ import annotations

import sqlalchemy as sa

from bot.db import repo
from bot.db.models import Deal, Person, StageChange
from bot.domain.deal import DealFacts
from bot.domain.gates import Direction, check_gate
from bot.domain.org import reports_of, subtree
from bot.domain.playbook import LOST
from bot.domain.rollup import TeamRollup, team_rollup
from bot.render import deal_blocks, modals
from bot.render.blocks import macro, section
from bot.render.deal_blocks import HistoryLine
from bot.render.pipeline_blocks import pipeline_blocks
from bot.services.deals import move_deal
from bot.services.errors import UserError
from bot.services.numbers import scores_by_ref
from bot.services.workspace import find_deal, visible_deals
from handlers.base import Work


def history_of(work: Work, deal: Deal) -> list[HistoryLine]:
    rows = work.session.execute(
        sa.select(StageChange, Person.name)
        .outerjoin(Person, Person.id == StageChange.changed_by_id)
        .where(StageChange.deal_id == deal.id)
        .order_by(StageChange.changed_at, StageChange.id)
    ).all()
    return [HistoryLine(c.changed_at, c.from_stage, c.to_stage, name or "", c.reason, c.gate_overridden)
            for c, name in rows]


def show(work: Work, query: str) -> None:
    deal = find_deal(work.session, work.actor, query)
    facts = repo.to_facts(deal)
    work.reply(deal_blocks.deal_card(facts, work.playbook, owner=deal.owner.name, history=history_of(work, deal),
                                     lang=work.lang))


def list_deals(work: Work, owner: Person, page: int = 1, *, replace: bool = False, by_score: bool = False) -> None:
    ids = [int(k) for k in _subtree_ids(work, owner)]
    facts = [repo.to_facts(d) for d in visible_deals(work.session, work.actor, ids)]
    whose = ("you" if owner.id == work.actor.person.id else owner.name) + (" and team" if owner.tier > 0 else "")
    value = {"cmd": "list", "owner": owner.id, **({"sort": "score"} if by_score else {})}
    blocks = deal_blocks.deal_list_page(facts, work.playbook, whose=whose, page=page, page_value=value,
                                        lang=work.lang, scores=scores_by_ref(facts, work.playbook, now=work.now),
                                        by_score=by_score)
    work.reply(blocks, replace=replace)


def _subtree_ids(work: Work, person: Person) -> list[str]:
    return subtree(work.actor.managers, str(person.id))


def team_rollup_for(work: Work, person: Person) -> tuple[TeamRollup, list[tuple[str, str, bool]]]:
    """``person``'s subtree roll-up, and (key, name, is manager) for each direct report."""
    deals = visible_deals(work.session, work.actor, [int(i) for i in _subtree_ids(work, person)])
    by_owner: dict[str, list[DealFacts]] = {}
    for d in deals:
        by_owner.setdefault(str(d.owner_id), []).append(repo.to_facts(d))
    rollup = team_rollup(by_owner, reports_of(work.actor.managers), str(person.id), work.playbook)
    direct = work.session.scalars(sa.select(Person).where(Person.manager_id == person.id).order_by(Person.name))
    return rollup, [(str(p.id), p.name, p.tier > 0) for p in direct]


def pipeline(work: Work, person: Person) -> None:
    rollup, direct = team_rollup_for(work, person)
    whose = person.name + (" and team" if direct else "")
    work.reply(pipeline_blocks(whose, rollup, work.playbook, reports=direct, lang=work.lang))


def resolve_stage(work: Work, word: str) -> str:
    """A stage key from what a person typed: the key or the English name."""
    w = word.strip().lower()
    for s in work.playbook.stages:
        if w in (s.key, s.name.en.lower()):
            return s.key
    if w == LOST:
        return LOST
    raise UserError("unknown_stage", stage=word, stages=[*work.playbook.keys, LOST])


def advance(work: Work, deal: Deal, to_stage: str | None, *, trigger_id: str | None,
            channel: str | None) -> None:
    """Move ``deal`` on, coaching through the gate when exit criteria are missing."""
    pb = work.playbook
    if to_stage is None:
        if pb.is_closed(deal.stage):
            raise UserError("already_closed", ref=deal.ref, stage=pb.stage_name(deal.stage))
        nxt = pb.next_stage(deal.stage)
        assert nxt is not None
        to_stage = nxt.key
    if to_stage == LOST:
        raise UserError("lost_needs_reason", ref=deal.ref)
    facts = repo.to_facts(deal)
    gate = check_gate(facts, to_stage, pb)
    metadata = {"ref": deal.ref, "to": to_stage, "channel": channel or ""}
    if gate.direction is Direction.SAME:
        raise UserError("same_stage", ref=deal.ref, stage=pb.stage_name(to_stage))
    if gate.needs_reason:
        if trigger_id:
            work.client.views_open(trigger_id=trigger_id, view=modals.reason_modal(
                facts, pb.stage_name(deal.stage), pb.stage_name(to_stage), "backward", metadata=metadata))
        return
    if gate.missing:
        may_override = work.actor.can_override(deal.owner)
        coaching = deal_blocks.gate_message(facts, gate, pb, can_override=may_override, lang=work.lang)
        if trigger_id:
            work.client.views_open(trigger_id=trigger_id, view=modals.gate_modal(
                facts, to_stage, gate.missing, pb, metadata=metadata, coaching=coaching[1:-2], lang=work.lang))
        work.reply(coaching)
        return
    moved(work, deal, to_stage, reason="", override=False)


def moved(work: Work, deal: Deal, to_stage: str, *, reason: str, override: bool) -> None:
    from_stage = deal.stage
    move_deal(work.session, deal, to_stage, work.playbook, now=work.now, by=work.actor.person, reason=reason,
              override=override)
    work.reply([section(macro("deal.j2", "moved", d=repo.to_facts(deal), pb=work.playbook,
                                   from_stage=from_stage, lang=work.lang, overridden=override, reason=reason))])


def mark_lost(work: Work, deal: Deal, reason: str) -> None:
    if deal.stage == LOST:
        raise UserError("already_closed", ref=deal.ref, stage=work.playbook.stage_name(LOST))
    if not reason.strip():
        raise UserError("lost_needs_reason", ref=deal.ref)
    moved(work, deal, LOST, reason=reason.strip(), override=False)
