"""Creating deals and moving them between stages, with history kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import Deal, DealSnapshot, Person, StageChange
from bot.domain.gates import GateResult, check_gate
from bot.domain.playbook import LOST, Playbook


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
    reason = reason.strip()
    if gate.direction.value == "same":
        raise MoveRefused(f"{deal.ref} is already in {playbook.stage_name(to_stage)}", gate)
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
    return gate


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
