"""Creating deals and moving them between stages through their gates, with history kept."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot import i18n
from bot.db import repo
from bot.db.models import Deal, DealSnapshot, Person, StageChange
from bot.domain.deal import DealFacts
from bot.domain.gates import Direction, GateResult, check_gate
from bot.domain.playbook import LOST, Playbook
from bot.services.access import Actor, find_deal
from bot.services.answers import Answers, record_answers
from bot.services.errors import UserError


class MoveRefused(ValueError):
    """The move cannot happen as asked; ``gate`` says what is missing, if that is why."""

    def __init__(self, message: str, gate: GateResult | None = None) -> None:
        super().__init__(message)
        self.gate = gate


@dataclass(frozen=True)
class NewDeal:
    name: str
    account: str
    owner: Person
    amount: Decimal
    currency: str
    stage: str
    close_date: date | None = None
    next_step: str = ""
    ref: str | None = None


def create_deal(
    session: so.Session, new: NewDeal, playbook: Playbook, *, now: datetime, by: Person | None = None
) -> Deal:
    """Add a deal in ``new.stage``; its history starts with that entry."""
    ref = new.ref or repo.next_ref_numbers(session, 1)[0]
    forecast = "closed" if playbook.is_closed(new.stage) else playbook.stage(new.stage).forecast.value
    deal = Deal(
        ref=ref,
        name=new.name,
        account=new.account,
        owner=new.owner,
        amount=new.amount,
        currency=new.currency,
        close_date=new.close_date,
        stage=new.stage,
        forecast=forecast,
        next_step=new.next_step,
        stage_entered_at=now,
        created_at=now,
        updated_at=now,
    )
    deal.history.append(StageChange(from_stage=None, to_stage=new.stage, changed_at=now, changed_by=by, reason=""))
    session.add(deal)
    return deal


def add_deal(session: so.Session, new: NewDeal, playbook: Playbook, *, now: datetime,
             by: Person | None = None, answers: Answers | None = None) -> DealFacts:
    """A deal a person created from the form (with what the customer has shown, for a deal
    created straight into a later stage), stored (its ref taken) and returned as facts."""
    deal = create_deal(session, new, playbook, now=now, by=by)
    if answers is not None:
        record_answers(deal, answers, playbook, now=now, by=by)
    session.flush()
    return repo.to_facts(deal)


def move_deal(
    session: so.Session,
    deal: Deal,
    to_stage: str,
    playbook: Playbook,
    *,
    now: datetime,
    by: Person | None,
    reason: str = "",
    override: bool = False,
) -> GateResult:
    """Move ``deal`` to ``to_stage`` through the gate.

    A forward move with unmet exit criteria needs ``override`` (the caller
    checks the person may override) and a reason; backward moves and ``lost``
    need a reason. Everything is recorded in the stage history.
    """
    gate = check_gate(repo.to_facts(deal), to_stage, playbook)
    _record_move(deal, gate, playbook, now=now, by=by, reason=reason, override=override)
    return gate


def _record_move(deal: Deal, gate: GateResult, playbook: Playbook, *, now: datetime, by: Person | None,
                 reason: str, override: bool) -> None:
    """Make the move ``gate`` describes, if it may happen; the history keeps it."""
    to_stage = gate.to_stage
    reason = reason.strip()
    if gate.direction.value == "same":
        raise MoveRefused(f"{deal.ref} is already in {playbook.stage_name(to_stage, i18n.current())}", gate)
    if gate.missing and not override:
        raise MoveRefused(f"{deal.ref} does not meet the exit criteria yet", gate)
    if (gate.needs_reason or gate.missing) and not reason:
        raise MoveRefused("a reason is required for this move", gate)
    deal.history.append(
        StageChange(
            from_stage=deal.stage,
            to_stage=to_stage,
            changed_at=now,
            changed_by=by,
            reason=reason,
            gate_overridden=bool(gate.missing),
        )
    )
    deal.stage = to_stage
    deal.stage_entered_at = now
    deal.updated_at = now
    if to_stage == LOST:
        deal.lost_reason = reason
        deal.forecast = "closed"
    else:
        deal.lost_reason = ""
        deal.forecast = "closed" if playbook.is_closed(to_stage) else playbook.stage(to_stage).forecast.value


def record_crm_move(deal: Deal, to_stage: str, playbook: Playbook, *, at: datetime, by: Person | None,
                    reason: str, lost_reason: str = "") -> None:
    """A move that happened in the CRM, as its export dates it: recorded in the history at ``at``, with
    no gate (the CRM is the source of truth for it) and no override flag."""
    deal.history.append(StageChange(from_stage=deal.stage, to_stage=to_stage, changed_at=at, changed_by=by,
                                    reason=reason, gate_overridden=False))
    deal.stage = to_stage
    deal.stage_entered_at = at
    deal.lost_reason = (lost_reason or reason) if to_stage == LOST else ""
    deal.forecast = "closed" if playbook.is_closed(to_stage) else playbook.stage(to_stage).forecast.value


# -- moves asked for by a person: one conversion to facts, one gate check ----------------------

@dataclass(frozen=True)
class Move:
    """What became of a move a person asked for.

    ``deal`` is the deal as it stands afterwards. When ``moved`` is false the gate
    stopped it: ``gate.needs_reason`` (backward, reopen) or ``gate.missing`` (forward
    with exit criteria unmet; ``may_override`` says whether this person may override).
    """

    deal: DealFacts
    gate: GateResult
    moved: bool
    may_override: bool = False
    reason: str = ""
    overridden: bool = False

    @property
    def from_stage(self) -> str:
        return self.gate.from_stage

    @property
    def to_stage(self) -> str:
        return self.gate.to_stage


def stage_from_text(playbook: Playbook, word: str) -> str:
    """A stage key from what a person typed: the key or the English name."""
    w = word.strip().lower()
    for s in playbook.stages:
        if w in (s.key, s.name.en.lower()):
            return s.key
    if w == LOST:
        return LOST
    raise UserError("unknown_stage", stage=word, stages=[*playbook.keys, LOST])


def advance_named(session: so.Session, actor: Actor, text: str, playbook: Playbook, *, now: datetime) -> Move:
    """``/deal advance REF [STAGE]``: the deal ``text`` names, to the stage its last word names, if it
    names one (else to the next stage)."""
    words = text.split()
    last = words[-1] if len(words) > 1 else None
    to_stage = _stage_or_none(playbook, last)
    query = " ".join(words[:-1]) if to_stage is not None else text  # no stage given: every word names the deal
    try:
        deal = find_deal(session, actor, query)
    except UserError:
        # "/deal advance D-17 closng": a known deal and a mistyped stage says so.
        if last is not None and to_stage is None and repo.deal_by_ref(session, words[0]) is not None:
            stage_from_text(playbook, last)
        raise
    return advance_deal(session, actor, deal, to_stage, playbook, now=now)


def _stage_or_none(playbook: Playbook, word: str | None) -> str | None:
    if word is None:
        return None
    try:
        return stage_from_text(playbook, word)
    except UserError:
        return None


def advance_deal(session: so.Session, actor: Actor, deal: Deal, to_stage: str | None, playbook: Playbook, *,
                 now: datetime) -> Move:
    """``/deal advance`` and the Advance button: move on (to the next stage when ``to_stage`` is None)
    if the gate is open; otherwise say what stops it."""
    if to_stage is None:
        if playbook.is_closed(deal.stage):
            raise UserError("already_closed", ref=deal.ref, stage=playbook.stage_name(deal.stage, i18n.current()))
        nxt = playbook.next_stage(deal.stage)
        assert nxt is not None
        to_stage = nxt.key
    if to_stage == LOST:
        raise UserError("lost_needs_reason", ref=deal.ref)
    facts = repo.to_facts(deal)
    gate = check_gate(facts, to_stage, playbook)
    if gate.direction is Direction.SAME:
        raise UserError("same_stage", ref=deal.ref, stage=playbook.stage_name(to_stage, i18n.current()))
    if gate.needs_reason:
        return Move(facts, gate, moved=False)
    if gate.missing:
        return Move(facts, gate, moved=False, may_override=actor.can_override(deal.owner))
    return _moved(deal, facts, gate, playbook, now=now, by=actor.person, reason="", override=False)


def move_with_reason(session: so.Session, actor: Actor, deal: Deal, to_stage: str, playbook: Playbook, *,
                     now: datetime, reason: str, override: bool = False) -> Move:
    """A move that carries a reason: backward, lost, reopened, or a gate override.

    The form that asked for it was made for the deal as it stood then: if the move no longer holds
    (the deal moved meanwhile, so "back" is now forward past its gate), the form is out of date."""
    facts = repo.to_facts(deal)
    try:
        return _moved(deal, facts, check_gate(facts, to_stage, playbook), playbook, now=now, by=actor.person,
                      reason=reason, override=override)
    except MoveRefused as e:
        raise UserError("stale_view") from e


def mark_lost(session: so.Session, actor: Actor, deal: Deal, reason: str, playbook: Playbook, *,
              now: datetime) -> Move:
    """``/deal lost REF REASON``."""
    if deal.stage == LOST:
        raise UserError("already_closed", ref=deal.ref, stage=playbook.stage_name(LOST, i18n.current()))
    if not reason.strip():
        raise UserError("lost_needs_reason", ref=deal.ref)
    return move_with_reason(session, actor, deal, LOST, playbook, now=now, reason=reason.strip())


def answer_gate(session: so.Session, actor: Actor, deal: Deal, to_stage: str, answers: Answers, playbook: Playbook,
                *, now: datetime) -> Move:
    """Store a gate form's answers (kept even when the gate stays closed: nothing typed is lost),
    then move the deal if they open the gate."""
    if not playbook.has_stage(to_stage) or to_stage == LOST:
        raise UserError("stale_view")
    record_answers(deal, answers, playbook, now=now, by=actor.person)
    session.flush()
    facts = repo.to_facts(deal)
    gate = check_gate(facts, to_stage, playbook)
    if gate.missing or deal.stage == to_stage:
        return Move(facts, gate, moved=False)
    return _moved(deal, facts, gate, playbook, now=now, by=actor.person, reason="", override=False)


def _moved(deal: Deal, facts: DealFacts, gate: GateResult, playbook: Playbook, *, now: datetime,
           by: Person | None, reason: str, override: bool) -> Move:
    _record_move(deal, gate, playbook, now=now, by=by, reason=reason, override=override)
    after = replace(facts, stage=deal.stage, stage_entered_at=deal.stage_entered_at, forecast=deal.forecast,
                    lost_reason=deal.lost_reason, updated_at=deal.updated_at)
    return Move(after, gate, moved=True, reason=reason, overridden=override)


def default_currency(session: so.Session, person: Person) -> str:
    """The currency a new deal or a forecast starts in: that of the person's latest deal, else the one
    most of their direct reports' deals are in, else USD."""
    own = session.scalar(sa.select(Deal.currency).where(Deal.owner_id == person.id).order_by(Deal.id.desc()).limit(1))
    if own:
        return own
    team = sa.select(Person.id).where(Person.manager_id == person.id)
    found = session.scalar(sa.select(Deal.currency).where(Deal.owner_id.in_(team))
                           .group_by(Deal.currency).order_by(sa.func.count().desc()).limit(1))
    return found or "USD"


def take_snapshots(session: so.Session, week: date, *, now: datetime) -> int:
    """Record every deal's key fields for ``week`` (its Monday); idempotent per week."""
    existing = {s.deal_id: s for s in session.scalars(sa.select(DealSnapshot).where(DealSnapshot.week == week))}
    count = 0
    for deal in session.scalars(sa.select(Deal)):
        snap = existing.get(deal.id) or DealSnapshot(deal_id=deal.id, week=week)
        snap.stage, snap.amount, snap.currency = deal.stage, deal.amount, deal.currency
        snap.close_date, snap.forecast, snap.taken_at = deal.close_date, deal.forecast, now
        session.add(snap)
        count += 1
    return count


def facts_of(deal: Deal) -> DealFacts:
    """``deal`` as the forms show it."""
    return repo.to_facts(deal)

