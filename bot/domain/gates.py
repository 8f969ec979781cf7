"""Stage gates: what a deal still lacks before it may move to a stage.

Moving forward must satisfy the exit criteria of every stage being left and
the entry criteria (the marker, 标志, and what the source says the customer
must have shown) of every stage entered, including the ones skipped over; the
answer lists each missing item with the stage that asks for it, so the bot can
coach instead of just refusing. Creating a deal in a later stage passes the
same gates as moving it there from the first stage.
Moving backward and to ``lost`` are never gated, but need a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.deal import DealFacts
from bot.domain.playbook import LOST, Playbook, marker_key


class Kind(StrEnum):
    CHARACTERISTIC = "characteristic"
    BANT = "bant"
    ROLE = "role"
    EVALUATION = "evaluation"


class Direction(StrEnum):
    FORWARD = "forward"
    BACKWARD = "backward"
    SAME = "same"
    LOST = "lost"
    REOPEN = "reopen"  # from lost back into the funnel


@dataclass(frozen=True)
class Missing:
    """One unmet exit criterion: ``kind``/``key`` required to leave ``stage``."""

    stage: str
    kind: Kind
    key: str
    entering: bool = False  # asked to enter ``stage`` (else: to leave it)


@dataclass(frozen=True)
class GateResult:
    from_stage: str
    to_stage: str
    direction: Direction
    missing: tuple[Missing, ...]

    @property
    def open(self) -> bool:
        """True when the move may happen without an override."""
        return self.direction is not Direction.SAME and not self.missing

    @property
    def needs_reason(self) -> bool:
        return self.direction in (Direction.BACKWARD, Direction.LOST, Direction.REOPEN)

    def of_kind(self, kind: Kind) -> tuple[Missing, ...]:
        return tuple(m for m in self.missing if m.kind is kind)


class UnknownStage(ValueError):
    def __init__(self, stage: str, playbook: Playbook) -> None:
        known = ", ".join((*playbook.keys, LOST))
        super().__init__(f"unknown stage '{stage}' (stages: {known})")
        self.stage = stage


def missing_to_leave(deal: DealFacts, stage_key: str, playbook: Playbook) -> tuple[Missing, ...]:
    """The exit criteria of one stage that ``deal`` does not meet yet."""
    stage = playbook.stage(stage_key)
    crit = stage.exit
    out: list[Missing] = []
    out += [Missing(stage.key, Kind.CHARACTERISTIC, k) for k in crit.characteristics if k not in deal.characteristics]
    out += [Missing(stage.key, Kind.BANT, k) for k in crit.bant if not deal.has_bant(k)]
    out += [Missing(stage.key, Kind.ROLE, k) for k in crit.roles if not deal.has_role(k)]
    out += [
        Missing(stage.key, Kind.EVALUATION, k)
        for k in crit.evaluations
        if not playbook.evaluation(k).passed(deal.evaluations.get(k, {}))
    ]
    return tuple(out)


def missing_to_enter(deal: DealFacts, stage_key: str, playbook: Playbook) -> tuple[Missing, ...]:
    """The entry criteria of one stage that ``deal`` does not meet yet."""
    stage = playbook.stage(stage_key)
    crit = stage.entry
    keys = ((marker_key(stage.key),) if crit.marker else ()) + crit.characteristics
    out: list[Missing] = []
    out += [Missing(stage.key, Kind.CHARACTERISTIC, k, True) for k in keys if k not in deal.characteristics]
    out += [Missing(stage.key, Kind.BANT, k, True) for k in crit.bant if not deal.has_bant(k)]
    out += [Missing(stage.key, Kind.ROLE, k, True) for k in crit.roles if not deal.has_role(k)]
    out += [
        Missing(stage.key, Kind.EVALUATION, k, True)
        for k in crit.evaluations
        if not playbook.evaluation(k).passed(deal.evaluations.get(k, {}))
    ]
    return tuple(out)


def _forward(deal: DealFacts, here: int, there: int, playbook: Playbook) -> tuple[Missing, ...]:
    """Exit criteria of stages ``here..there-1`` and entry criteria of ``here+1..there``, each item once."""
    seen: set[tuple[Kind, str]] = set()
    missing: list[Missing] = []
    for i in range(here, there):
        for m in (*missing_to_leave(deal, playbook.stages[i].key, playbook),
                  *missing_to_enter(deal, playbook.stages[i + 1].key, playbook)):
            if (m.kind, m.key) not in seen:
                seen.add((m.kind, m.key))
                missing.append(m)
    return tuple(missing)


def check_new(deal: DealFacts, playbook: Playbook) -> GateResult:
    """The gate for creating ``deal`` straight into its stage: as if moved there from the first stage."""
    if not playbook.has_stage(deal.stage) or deal.stage == LOST:
        raise UnknownStage(deal.stage, playbook)
    first = playbook.first.key
    there = playbook.index(deal.stage)
    return GateResult(first, deal.stage, Direction.FORWARD, _forward(deal, 0, there, playbook))


def check_gate(deal: DealFacts, to_stage: str, playbook: Playbook) -> GateResult:
    """Say whether ``deal`` may move to ``to_stage`` and, if not, what is missing.

    An item asked for by several stages passed at once is listed once, under
    the earliest stage that asks for it.
    """
    for key in (deal.stage, to_stage):
        if not playbook.has_stage(key):
            raise UnknownStage(key, playbook)
    if to_stage == deal.stage:
        return GateResult(deal.stage, to_stage, Direction.SAME, ())
    if to_stage == LOST:
        return GateResult(deal.stage, to_stage, Direction.LOST, ())
    if deal.stage == LOST:
        return GateResult(deal.stage, to_stage, Direction.REOPEN, ())
    here, there = playbook.index(deal.stage), playbook.index(to_stage)
    if there < here:
        return GateResult(deal.stage, to_stage, Direction.BACKWARD, ())
    return GateResult(deal.stage, to_stage, Direction.FORWARD, _forward(deal, here, there, playbook))


def missing_for_next(deal: DealFacts, playbook: Playbook) -> tuple[Missing, ...]:
    """What an open deal lacks to reach the next stage (empty for closed deals)."""
    if playbook.is_closed(deal.stage):
        return ()
    nxt = playbook.next_stage(deal.stage)
    return check_gate(deal, nxt.key, playbook).missing if nxt else ()
