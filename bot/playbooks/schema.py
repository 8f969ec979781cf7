"""The playbook file's shape, checked by pydantic (types, required and unknown fields)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.playbook import NumbersSettings, ScoreWeights


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TextIn(_Strict):
    en: str = Field(min_length=1)
    zh: str | None = None


class ItemIn(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: TextIn
    question: TextIn | None = None  # what to ask to judge the item (an evaluation item's 评语 question)


class BantIn(_Strict):
    key: str
    name: TextIn
    question: TextIn


class RoleIn(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: TextIn
    description: TextIn
    multiple: bool = False


class EvaluationIn(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: TextIn
    pass_mark: int
    items: list[ItemIn] = Field(min_length=1)


class ExitIn(_Strict):
    characteristics: list[str] = []
    bant: list[str] = []
    roles: list[str] = []
    evaluations: list[str] = []


class EntryIn(_Strict):
    marker: bool = False
    characteristics: list[str] = []
    bant: list[str] = []
    roles: list[str] = []
    evaluations: list[str] = []


class StageIn(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: TextIn
    marker: TextIn
    characteristics: list[ItemIn] = []
    actions: list[TextIn] = []
    probability: int
    forecast: str
    stall_days: int | None = None  # none: stalled after the team's 80th percentile
    exit: ExitIn = ExitIn()
    entry: EntryIn = EntryIn()
    conditions: list[ItemIn] = []
    buyer_stage: TextIn | None = None


class LostIn(_Strict):
    name: TextIn
    reasons: list[TextIn] = []


_W, _N = ScoreWeights(), NumbersSettings()  # the defaults live in the domain, once


class WeightsIn(_Strict):
    bant: int = _W.bant
    exit: int = _W.exit
    roles: int = _W.roles
    evaluations: int = _W.evaluations
    stage: int = _W.stage
    recency: int = _W.recency


class ScoringIn(_Strict):
    weights: WeightsIn = WeightsIn()
    fresh_days: int = _W.fresh_days
    stale_days: int = _W.stale_days
    bant_fresh_days: int = _W.bant_fresh_days


class ActivityIn(_Strict):
    customers_per_deal: float = _N.activity.customers_per_deal
    proposals_per_customer: float = _N.activity.proposals_per_customer
    visits_per_proposal: float = _N.activity.visits_per_proposal
    calls_per_visit: float = _N.activity.calls_per_visit


class NumbersIn(_Strict):
    activity_ratios: ActivityIn = ActivityIn()
    stage_ratio: float = _N.stage_ratio
    min_sample: int = _N.min_sample
    window_days: int = _N.window_days


class PlaybookIn(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    name: TextIn
    bant: list[BantIn]
    roles: list[RoleIn]
    evaluations: list[EvaluationIn] = []
    stages: list[StageIn]
    lost: LostIn
    scoring: ScoringIn = ScoringIn()
    numbers: NumbersIn = NumbersIn()
