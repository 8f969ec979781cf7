"""The lead score: 0 to 100 for how likely an open deal is to buy, from what is known about it.

Six parts, each a fraction from 0 to 1 times its weight (the weights come from
the playbook's ``scoring:`` section and add up to 100): BANT answered and fresh,
the funnel's exit criteria met (every open stage's, so a deal further along with
the same answers never scores lower), buying roles named, evaluations passed,
how far along the funnel it is, and how recently it moved or was updated. Each
score comes with the one thing that would raise it most, found by trying every
single step a rep could take and scoring the deal again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain.deal import BantAnswer, DealFacts
from bot.domain.gates import Kind, missing_to_leave
from bot.domain.playbook import Playbook, ScoreWeights

__all__ = ["Improvement", "Score", "ScoreWeights", "lead_score", "lead_score_value"]


@dataclass(frozen=True)
class Improvement:
    """One step and the points it would add: ``kind`` is bant, role, evaluation,
    characteristic or update; ``key`` names the item (empty for update)."""

    kind: str
    key: str
    gain: int


@dataclass(frozen=True)
class Score:
    value: int  # 0..100
    parts: dict[str, float]  # part -> points earned
    best: Improvement | None  # what would raise it most (None when nothing would)


def _fresh(answer: BantAnswer, now: datetime, days: int) -> bool:
    return now - answer.confirmed_at <= timedelta(days=days)


def _criteria(deal: DealFacts, pb: Playbook) -> tuple[int, int]:
    """How many exit criteria the whole open funnel has, and how many of them the deal lacks.

    Counted over every open stage, not the current one: a later stage has more to show, so
    measuring only its own criteria made a Shortlisted deal score below a Target one.
    """
    items: set[tuple[Kind, str]] = set()
    lacking: set[tuple[Kind, str]] = set()
    for stage in pb.stages:
        if pb.is_closed(stage.key):
            continue
        e = stage.exit
        items |= {(Kind.CHARACTERISTIC, k) for k in e.characteristics} | {(Kind.BANT, k) for k in e.bant}
        items |= {(Kind.ROLE, k) for k in e.roles} | {(Kind.EVALUATION, k) for k in e.evaluations}
        lacking |= {(m.kind, m.key) for m in missing_to_leave(deal, stage.key, pb)}
    return len(items), len(lacking)


def _fractions(deal: DealFacts, pb: Playbook, w: ScoreWeights, now: datetime) -> dict[str, float]:
    bant = [(1.0 if _fresh(deal.bant[q.key], now, w.bant_fresh_days) else 0.5) if deal.has_bant(q.key) else 0.0
            for q in pb.bant]
    need, missing = _criteria(deal, pb)
    roles = [1.0 if deal.has_role(r.key) else 0.0 for r in pb.roles]
    evals = [1.0 if e.passed(deal.evaluations.get(e.key, {})) else 0.0 for e in pb.evaluations]
    last = max((t for t in (deal.stage_entered_at, deal.updated_at) if t is not None), default=None)
    if last is None:
        recency = 0.0
    else:
        age = (now - last).total_seconds() / 86400
        span = max(1, w.stale_days - w.fresh_days)
        recency = 1.0 if age <= w.fresh_days else max(0.0, 1 - (age - w.fresh_days) / span)
    return {
        "bant": sum(bant) / len(bant) if bant else 1.0,
        "exit": (need - missing) / need if need else 1.0,
        "roles": sum(roles) / len(roles) if roles else 1.0,
        "evaluations": sum(evals) / len(evals) if evals else 1.0,
        "stage": pb.index(deal.stage) / (len(pb.stages) - 1),
        "recency": recency,
    }


def _points(deal: DealFacts, pb: Playbook, w: ScoreWeights, now: datetime) -> tuple[int, dict[str, float]]:
    parts = {k: f * w.weight(k) for k, f in _fractions(deal, pb, w, now).items()}
    return max(0, min(100, round(sum(parts.values())))), parts


def _steps(deal: DealFacts, pb: Playbook, now: datetime, w: ScoreWeights) -> Iterator[tuple[str, str, DealFacts]]:
    """Every single step a rep could take, and the deal as it would be after it."""
    for q in pb.bant:
        a = deal.bant.get(q.key)
        if a is None or not deal.has_bant(q.key) or not _fresh(a, now, w.bant_fresh_days):
            yield Kind.BANT.value, q.key, replace(deal, bant={**deal.bant, q.key: BantAnswer("answered", now)})
    for r in pb.roles:
        if not deal.has_role(r.key):
            yield Kind.ROLE.value, r.key, replace(deal, roles={**deal.roles, r.key: ("named",)})
    for e in pb.evaluations:
        if not e.passed(deal.evaluations.get(e.key, {})):
            yes = {i.key: True for i in e.items}
            yield Kind.EVALUATION.value, e.key, replace(deal, evaluations={**deal.evaluations, e.key: yes})
    for m in missing_to_leave(deal, deal.stage, pb):
        if m.kind is Kind.CHARACTERISTIC:
            yield m.kind.value, m.key, replace(deal, characteristics=deal.characteristics | {m.key})
    yield "update", "", replace(deal, updated_at=now)


def lead_score_value(deal: DealFacts, playbook: Playbook, *, now: datetime,
                     weights: ScoreWeights | None = None) -> int:
    """Just the score, without looking for what would raise it (twenty times cheaper)."""
    return _points(deal, playbook, weights or ScoreWeights(), now)[0]


def lead_score(deal: DealFacts, playbook: Playbook, *, now: datetime, weights: ScoreWeights | None = None) -> Score:
    """The deal's score and the one step that would raise it most.

    Closed deals are not scored (ValueError): a score ranks what to work on next.
    """
    if playbook.is_closed(deal.stage):
        raise ValueError(f"{deal.ref} is closed; only open deals are scored")
    w = weights or ScoreWeights()
    value, parts = _points(deal, playbook, w, now)
    best: Improvement | None = None
    for kind, key, after in _steps(deal, playbook, now, w):
        gain = _points(after, playbook, w, now)[0] - value
        if gain > 0 and (best is None or gain > best.gain):
            best = Improvement(kind, key, gain)
    return Score(value, parts, best)
