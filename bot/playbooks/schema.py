"""The playbook file's shape, checked by pydantic (types, required and unknown fields)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TextIn(_Strict):
    en: str = Field(min_length=1)
    zh: str | None = None


class ItemIn(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: TextIn


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


class LostIn(_Strict):
    name: TextIn
    reasons: list[TextIn] = []


class WeightsIn(_Strict):
    bant: int = 25
    exit: int = 20
    roles: int = 15
    evaluations: int = 15
    stage: int = 15
    recency: int = 10


class ScoringIn(_Strict):
    weights: WeightsIn = WeightsIn()
    fresh_days: int = 14
    stale_days: int = 60
    bant_fresh_days: int = 56


class ActivityIn(_Strict):
    customers_per_deal: float = 3
    proposals_per_customer: float = 2
    visits_per_proposal: float = 2
    calls_per_visit: float = 2


class NumbersIn(_Strict):
    activity_ratios: ActivityIn = ActivityIn()
    stage_ratio: float = 2
    min_sample: int = 5
    window_days: int = 182


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
