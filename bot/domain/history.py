"""Coaching numbers from the team's own stage history.

Conversion is counted on how far each deal has ever got, from the stage it
entered: a deal that jumped from prospect to project passed through interested
on the way, but a deal created straight into project (or imported there from a
CRM) never was a prospect, so it counts from project on. Time in stage is
measured per stint (entering a stage until leaving it, or ``now``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from bot.domain.playbook import LOST, Playbook


@dataclass(frozen=True)
class Transition:
    deal: str
    from_stage: str | None  # None when the deal was created
    to_stage: str
    at: datetime


@dataclass(frozen=True)
class Stint:
    deal: str
    stage: str
    entered: datetime
    left: datetime | None  # None while the deal is still there

    def days(self, now: datetime) -> float:
        return ((self.left or now) - self.entered).total_seconds() / 86400


@dataclass(frozen=True)
class Conversion:
    from_stage: str
    to_stage: str
    reached_from: int
    reached_to: int

    @property
    def rate(self) -> float | None:
        return self.reached_to / self.reached_from if self.reached_from else None

    @property
    def one_in(self) -> float | None:
        """The "1 : X" ratio of the sales platform: X deals here per one that moves on."""
        return self.reached_from / self.reached_to if self.reached_to else None


def _by_deal(transitions: Iterable[Transition]) -> dict[str, list[Transition]]:
    out: dict[str, list[Transition]] = defaultdict(list)
    for t in transitions:
        out[t.deal].append(t)
    for ts in out.values():
        ts.sort(key=lambda t: t.at)
    return out


def stints(transitions: Iterable[Transition]) -> list[Stint]:
    """Each period a deal spent in one stage, in time order per deal."""
    out: list[Stint] = []
    for deal, ts in _by_deal(transitions).items():
        for cur, nxt in zip(ts, [*ts[1:], None], strict=True):
            out.append(Stint(deal, cur.to_stage, cur.at, nxt.at if nxt else None))
    return out


def time_in_stage(transitions: Iterable[Transition], deal: str, now: datetime) -> float:
    """Days the deal has spent in its current stage (0 if it has no history)."""
    mine = [s for s in stints(transitions) if s.deal == deal]
    return mine[-1].days(now) if mine else 0.0


def median_days_in_stage(
    transitions: Sequence[Transition], playbook: Playbook, now: datetime, *, finished_only: bool = True
) -> dict[str, float | None]:
    """Median days per stage; by default over stints that have ended."""
    days: dict[str, list[float]] = defaultdict(list)
    for s in stints(transitions):
        if s.left is not None or not finished_only:
            days[s.stage].append(s.days(now))
    return {k: (median(days[k]) if days[k] else None) for k in playbook.keys}


def furthest_reached(transitions: Iterable[Transition], playbook: Playbook) -> dict[str, int]:
    """Per deal, the index of the furthest stage it ever entered (lost excluded)."""
    out: dict[str, int] = {}
    for t in transitions:
        if t.to_stage == LOST or not playbook.has_stage(t.to_stage):
            continue
        i = playbook.index(t.to_stage)
        out[t.deal] = max(out.get(t.deal, -1), i)
    return out


def entered_at(transitions: Iterable[Transition], playbook: Playbook) -> dict[str, int]:
    """Per deal, the index of the stage it entered the funnel at: where its first move (in time)
    came from, or the stage it was created in. Deals that only ever were lost are left out."""
    first: dict[str, Transition] = {}
    for t in transitions:
        seen = first.get(t.deal)
        if seen is None or t.at < seen.at:
            first[t.deal] = t
    out: dict[str, int] = {}
    for deal, t in first.items():
        for stage in (t.from_stage, t.to_stage):
            if stage is not None and stage != LOST and playbook.has_stage(stage):
                out[deal] = playbook.index(stage)
                break
    return out


def conversions(transitions: Iterable[Transition], playbook: Playbook) -> list[Conversion]:
    """Stage-to-next-stage conversion over every deal in the history: of the deals that were in a
    stage (entered the funnel there or before, and got that far), how many went on."""
    ts = list(transitions)
    reached = furthest_reached(ts, playbook)
    entry = entered_at(ts, playbook)
    out = []
    for i, (a, b) in enumerate(zip(playbook.stages, playbook.stages[1:], strict=False)):
        were = [r for d, r in reached.items() if entry.get(d, r) <= i <= r]
        out.append(Conversion(a.key, b.key, len(were), sum(1 for r in were if r > i)))
    return out
