"""What the charts show, as plain data: built by ``bot.services.charts`` from the team's numbers,
drawn by ``bot.render.charts``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class FunnelStage:
    name: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class FunnelData:
    """Open deals per stage (``currency`` only), and between consecutive stages how many of the
    deals that reached the first went on (``conversions[i]`` is (went on, reached) for stage i → i+1)."""

    title: str
    currency: str
    stages: Sequence[FunnelStage]
    conversions: Sequence[tuple[int, int]]
    note: str = ""


@dataclass(frozen=True)
class WaterfallData:
    """Last week's open pipeline, what moved it (signed amounts), this week's."""

    title: str
    currency: str
    start: Decimal
    steps: Sequence[tuple[str, Decimal, int]]  # (label, signed amount, deals)
    end: Decimal
    note: str = ""


@dataclass(frozen=True)
class ActivityData:
    """What the plan needs in a week beside what was done last week."""

    title: str
    labels: Sequence[str]
    planned: Sequence[float | None]
    actual: Sequence[int | None]
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)


ChartData = FunnelData | WaterfallData | ActivityData


@dataclass(frozen=True)
class ChartSpec:
    """One chart to draw and share: ``data`` decides which."""

    kind: str  # funnel | waterfall | activity
    filename: str
    title: str
    alt: str  # what the chart says, for screen readers (Slack's alt_txt)
    data: ChartData
