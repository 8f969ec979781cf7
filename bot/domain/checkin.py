"""What the Monday check-in asks about a deal, and how a check-in's status follows its answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.cadence import stale_bant
from bot.domain.deal import DealFacts
from bot.domain.gates import Kind, missing_for_next
from bot.domain.playbook import Item, Playbook, Stage


class Status(StrEnum):
    PENDING = "pending"
    PARTIAL = "partial"
    COMPLETE = "complete"
    AWAY = "away"


@dataclass(frozen=True)
class Questions:
    """The questions for one deal: quick where nothing is missing, thorough where it matters."""

    stage: Stage
    characteristics: tuple[Item, ...]  # the current stage's, as a checklist
    next_stage: Stage | None  # its marker is asked: "is this now true?"
    bant: tuple[str, ...]  # unanswered or stale
    roles: tuple[str, ...]  # not yet named, and needed by the next stage's gate


def questions_for(deal: DealFacts, playbook: Playbook, *, now: datetime, stale_weeks: int) -> Questions:
    stage = playbook.stage(deal.stage)
    confirmed = {k: (a.confirmed_at if a.answer.strip() else None) for k, a in deal.bant.items()}
    bant = stale_bant(confirmed, tuple(q.key for q in playbook.bant), now, stale_weeks)
    roles = tuple(m.key for m in missing_for_next(deal, playbook) if m.kind is Kind.ROLE)
    return Questions(stage, stage.characteristics, playbook.next_stage(deal.stage), bant, roles)


def status_of(answered: int, open_deals: int, *, away: bool) -> Status:
    """A check-in is complete once every open deal has been answered."""
    if away:
        return Status.AWAY
    if answered == 0:
        return Status.PENDING
    return Status.COMPLETE if answered >= open_deals else Status.PARTIAL
