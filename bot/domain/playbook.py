"""The sales playbook: stages in order, their markers, criteria and coaching.

A playbook is data (loaded from YAML by ``bot.playbooks``); these frozen
dataclasses are what the rest of the code reasons about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from bot.domain.plan import ActivityRatios

LOST = "lost"


class Forecast(StrEnum):
    """Forecast categories, from least to most certain."""

    PIPELINE = "pipeline"
    BEST_CASE = "best_case"
    COMMIT = "commit"
    CLOSED = "closed"


@dataclass(frozen=True)
class Text:
    """A phrase in English with an optional Simplified Chinese rendering."""

    en: str
    zh: str | None = None

    def in_(self, lang: str) -> str:
        return self.zh if lang == "zh" and self.zh else self.en


@dataclass(frozen=True)
class Item:
    """A keyed, displayable thing: a characteristic, an evaluation item, a role."""

    key: str
    text: Text
    question: Text | None = None  # what the source asks to judge it, where the bar alone misleads


@dataclass(frozen=True)
class BantQuestion:
    key: str  # budget | authority | need | timeline
    name: Text
    question: Text


@dataclass(frozen=True)
class BuyingRole:
    key: str  # economic_buyer | technical_buyer | user | coach
    name: Text
    description: Text
    multiple: bool  # several people may hold it (technical buyers, users)


@dataclass(frozen=True)
class Evaluation:
    key: str  # is_real | worth_winning | can_compete | can_win
    name: Text
    items: tuple[Item, ...]
    pass_mark: int  # how many items must be "yes" for the evaluation to pass

    def passed(self, answers: dict[str, bool]) -> bool:
        return sum(1 for item in self.items if answers.get(item.key)) >= self.pass_mark


@dataclass(frozen=True)
class ExitCriteria:
    """What must be true of a deal before it may leave a stage."""

    characteristics: tuple[str, ...] = ()  # keys of this stage's characteristics
    bant: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    evaluations: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.characteristics or self.bant or self.roles or self.evaluations)


@dataclass(frozen=True)
class EntryCriteria:
    """What the customer must have shown before a deal may enter a stage.

    ``marker`` asks for the stage's marker (标志) itself to be confirmed;
    ``characteristics`` are keys of this stage's characteristics or of its
    entry ``conditions`` (e.g. Negotiation's 进入商务谈判阶段的条件).
    """

    marker: bool = False
    characteristics: tuple[str, ...] = ()
    bant: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    evaluations: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.marker or self.characteristics or self.bant or self.roles or self.evaluations)


MARKER_PREFIX = "marker_"


def marker_key(stage_key: str) -> str:
    """The key under which a deal records that the customer shows ``stage_key``'s marker."""
    return f"{MARKER_PREFIX}{stage_key}"


@dataclass(frozen=True)
class Stage:
    key: str
    name: Text
    marker: Text
    characteristics: tuple[Item, ...]
    actions: tuple[Text, ...]
    probability: int  # percent, weights the pipeline
    forecast: Forecast
    exit: ExitCriteria
    stall_days: int | None  # longer than this in the stage and the deal is stalled; None: the team's p80
    entry: EntryCriteria = field(default_factory=EntryCriteria)
    conditions: tuple[Item, ...] = ()  # entry conditions the source lists beside the marker
    buyer_stage: Text | None = None  # where the customer is in its own buying process (e.g. Kotler's stages)

    @property
    def marker_item(self) -> Item:
        return Item(marker_key(self.key), self.marker)

    @property
    def confirmables(self) -> tuple[Item, ...]:
        """Everything a rep can confirm about the customer at this stage: marker, characteristics, conditions."""
        return (self.marker_item, *self.characteristics, *self.conditions)

    def characteristic(self, key: str) -> Item | None:
        return next((c for c in self.confirmables if c.key == key), None)


@dataclass(frozen=True)
class ScoreWeights:
    """The lead score's points per part (they add up to 100) and the day counts it ages by
    (the playbook's ``scoring:`` section; see ``bot.domain.score``)."""

    PARTS = ("bant", "exit", "roles", "evaluations", "stage", "recency")

    bant: int = 25
    exit: int = 20
    roles: int = 15
    evaluations: int = 15
    stage: int = 15
    recency: int = 10
    fresh_days: int = 14  # updated within this many days: full recency points
    stale_days: int = 60  # untouched this long: none
    bant_fresh_days: int = 56  # a BANT answer older than this counts half

    def weight(self, part: str) -> int:
        return int(getattr(self, part))


@dataclass(frozen=True)
class NumbersSettings:
    """The playbook's ``numbers:`` section: defaults for when the team's own history is thin."""

    activity: ActivityRatios = field(default_factory=ActivityRatios)  # the sales platform's four "1 : X"
    stage_ratio: float = 2.0  # "1 : X" between consecutive stages
    min_sample: int = 5  # deals that reached a stage before the rep's (then team's) ratio is used
    window_days: int = 182  # the trailing window ratios and times are computed over (two quarters)


@dataclass(frozen=True)
class Playbook:
    """An ordered funnel plus the qualification vocabulary it uses.

    The last stage is the won stage; ``lost`` is the terminal failure outcome
    and is not part of ``stages``.
    """

    key: str
    name: Text
    stages: tuple[Stage, ...]
    bant: tuple[BantQuestion, ...]
    roles: tuple[BuyingRole, ...]
    evaluations: tuple[Evaluation, ...]
    lost_reasons: tuple[Text, ...] = ()
    lost_name: Text = field(default_factory=lambda: Text("Lost", "丢单"))
    scoring: ScoreWeights = field(default_factory=ScoreWeights)
    numbers: NumbersSettings = field(default_factory=NumbersSettings)

    # Cached: gates and roll-ups ask these for every deal of a large org.
    @cached_property
    def keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.stages)

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {s.key: i for i, s in enumerate(self.stages)}

    @property
    def won(self) -> Stage:
        return self.stages[-1]

    @property
    def first(self) -> Stage:
        return self.stages[0]

    def stage(self, key: str) -> Stage:
        return self.stages[self._positions[key]]

    def has_stage(self, key: str) -> bool:
        return key == LOST or key in self._positions

    def index(self, key: str) -> int:
        try:
            return self._positions[key]
        except KeyError:
            raise ValueError(f"{key!r} is not a stage") from None

    def next_stage(self, key: str) -> Stage | None:
        i = self.index(key)
        return self.stages[i + 1] if i + 1 < len(self.stages) else None

    def is_closed(self, key: str) -> bool:
        return key == LOST or key == self.won.key

    def probability(self, key: str) -> Decimal:
        return Decimal(0) if key == LOST else Decimal(self.stage(key).probability) / 100

    def stage_name(self, key: str, lang: str = "en") -> str:
        return self.lost_name.in_(lang) if key == LOST else self.stage(key).name.in_(lang)

    def bant_question(self, key: str) -> BantQuestion:
        return next(q for q in self.bant if q.key == key)

    def role(self, key: str) -> BuyingRole:
        return next(r for r in self.roles if r.key == key)

    def evaluation(self, key: str) -> Evaluation:
        return next(e for e in self.evaluations if e.key == key)

    def characteristic(self, key: str) -> tuple[Stage, Item]:
        for s in self.stages:
            item = s.characteristic(key)
            if item:
                return s, item
        raise KeyError(key)
