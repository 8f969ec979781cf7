"""The team's own numbers: conversion ratios, time in stage, win rate, deal size, cycle length.

Everything is computed from plain history (stage transitions and closed deals)
over a trailing window the caller chooses; nothing here reads the clock.
Each number carries its sample size, so a reader can tell a trend from noise,
and a ratio with too little history falls back to the team's, then to the
playbook's default, saying which one it used.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from statistics import median

from bot.domain.history import Conversion, Transition, stints
from bot.domain.playbook import Playbook

MIN_SAMPLE = 5  # deals that reached a stage before its ratio is trusted


class Source(StrEnum):
    """Where a ratio came from."""

    REP = "rep"  # the person's own history
    TEAM = "team"  # their team's (a manager's subtree)
    PLAYBOOK = "playbook"  # the playbook's default: too little history


@dataclass(frozen=True)
class Ratio:
    """A "1 : X" ratio as used, with its sample and where it came from."""

    value: float
    sample: int
    source: Source


def in_window(transitions: Iterable[Transition], since: datetime, until: datetime) -> list[Transition]:
    return [t for t in transitions if since <= t.at <= until]


def choose_ratio(candidates: Sequence[tuple[Source, float | None, int]], default: float,
                 *, min_sample: int = MIN_SAMPLE) -> Ratio:
    """The first candidate (rep, then team) with a value and at least ``min_sample``
    behind it; else the playbook's ``default``."""
    for source, value, sample in candidates:
        if value is not None and sample >= min_sample and value > 0:
            return Ratio(value, sample, source)
    # The sample beside a default says how much history there was; none when no candidate had a value.
    best_sample = max((s for _, v, s in candidates if v is not None), default=0)
    return Ratio(default, best_sample, Source.PLAYBOOK)


def conversion_ratios(rep: Sequence[Conversion], team: Sequence[Conversion],
                      defaults: Sequence[float], *, min_sample: int = MIN_SAMPLE) -> list[Ratio]:
    """Per pair of consecutive stages, the rep's "1 : X", else the team's, else the default."""
    out = []
    for i, d in enumerate(defaults):
        cands = [(Source.REP, rep[i].one_in, rep[i].reached_from) if i < len(rep) else (Source.REP, None, 0),
                 (Source.TEAM, team[i].one_in, team[i].reached_from) if i < len(team) else (Source.TEAM, None, 0)]
        out.append(choose_ratio(cands, d, min_sample=min_sample))
    return out


# --- time in stage -------------------------------------------------------------


@dataclass(frozen=True)
class StageTime:
    stage: str
    median: float | None  # days
    p80: float | None
    sample: int


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def time_in_stage(transitions: Iterable[Transition], playbook: Playbook, *, since: datetime,
                  now: datetime) -> list[StageTime]:
    """Median and 80th percentile of days spent per stage, over stints that ended in the window.

    The won stage is where deals rest, so it is left out.
    """
    days: dict[str, list[float]] = defaultdict(list)
    for s in stints(transitions):
        if s.left is not None and since <= s.left <= now:
            days[s.stage].append(s.days(now))
    return [StageTime(k, median(days[k]) if days[k] else None, percentile(days[k], 0.8), len(days[k]))
            for k in playbook.keys[:-1]]


def stall_limits(playbook: Playbook, times: Sequence[StageTime]) -> dict[str, float]:
    """Days after which a deal is stalled, per stage: the playbook's ``stall_days``,
    or where it gives none, the team's 80th percentile (stages with neither are never stalled)."""
    p80 = {t.stage: t.p80 for t in times}
    out: dict[str, float] = {}
    for s in playbook.stages:
        team = p80.get(s.key)
        if s.stall_days is not None:
            out[s.key] = float(s.stall_days)
        elif team is not None:
            out[s.key] = team
    return out


def is_stalled(days_in_stage: float, stage: str, limits: Mapping[str, float]) -> bool:
    limit = limits.get(stage)
    return limit is not None and days_in_stage > limit


# --- closed deals --------------------------------------------------------------


@dataclass(frozen=True)
class ClosedDeal:
    ref: str
    owner: str
    won: bool
    amount: Decimal
    currency: str
    created_at: datetime
    closed_at: datetime


@dataclass(frozen=True)
class Outcomes:
    """Win rate, average won deal and sales cycle over closed deals."""

    won: int
    lost: int
    average_deal: dict[str, Decimal]  # by currency, won deals only
    cycle_days: float | None  # median days from creation to won

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        return self.won / self.closed if self.closed else None


def outcomes(closed: Iterable[ClosedDeal], *, since: datetime, until: datetime) -> Outcomes:
    """Over deals closed in ``[since, until]``."""
    won = lost = 0
    sums: dict[str, list[Decimal]] = defaultdict(list)
    cycles: list[float] = []
    for d in closed:
        if not since <= d.closed_at <= until:
            continue
        if d.won:
            won += 1
            sums[d.currency].append(d.amount)
            cycles.append((d.closed_at - d.created_at).total_seconds() / 86400)
        else:
            lost += 1
    avg = {c: (sum(v, Decimal(0)) / len(v)).quantize(Decimal("0.01")) for c, v in sums.items()}
    return Outcomes(won, lost, avg, median(cycles) if cycles else None)
