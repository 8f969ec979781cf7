"""A manager's call: the commit and best case they stake for a period, against the roll-up.

As the source has it (seed 000), a manager hands the consolidated figure *up*: the
call is submitted to the tier above, which approves it (认可) or sends it back with a
comment. Every submission is kept with its time, so the trend of a period's call
and, once the period has closed, how close the call came to what was won, can be
read back. Amounts are in the call's currency (the author's reporting currency).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

__all__ = ["Call", "CallAccuracy", "CallStatus", "accuracy", "call_in_force", "current_call", "trend"]


class CallStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for the tier above
    APPROVED = "approved"  # 认可
    RETURNED = "returned"  # sent back with a comment: the author is asked to call again


@dataclass(frozen=True)
class Call:
    author: str  # the manager's key
    period: str  # the forecast period's label, e.g. 2026-Q4
    commit: Decimal
    best_case: Decimal  # includes commit, as the forecast's best case does
    currency: str
    submitted_at: datetime
    status: CallStatus = CallStatus.SUBMITTED
    reviewer: str | None = None
    comment: str = ""
    reviewed_at: datetime | None = None


def _of(calls: Iterable[Call], author: str, period: str) -> list[Call]:
    return sorted((c for c in calls if c.author == author and c.period == period), key=lambda c: c.submitted_at)


def current_call(calls: Iterable[Call], author: str, period: str) -> Call | None:
    """The author's latest call for the period (whatever its review said)."""
    mine = _of(calls, author, period)
    return mine[-1] if mine else None


def call_in_force(calls: Iterable[Call], author: str, period: str, at: datetime) -> Call | None:
    """The call the author had made for the period by ``at``: what a reader then saw."""
    mine = [c for c in _of(calls, author, period) if c.submitted_at <= at]
    return mine[-1] if mine else None


def trend(calls: Sequence[Call], author: str, period: str, moments: Sequence[datetime]) -> list[Decimal | None]:
    """The commit in force at each moment (e.g. the last 13 Mondays): None before the first call."""
    out: list[Decimal | None] = []
    for m in moments:
        c = call_in_force(calls, author, period, m)
        out.append(None if c is None else c.commit)
    return out


@dataclass(frozen=True)
class CallAccuracy:
    """The last call before a closed period ended, against what was won in it."""

    period: str
    called: Decimal
    won: Decimal

    @property
    def error(self) -> float | None:
        """|called − won| / won (None when nothing was won: a ratio against zero means nothing)."""
        return float(abs(self.called - self.won) / self.won) if self.won else None

    @property
    def bias(self) -> Decimal:
        """Called minus won: above zero the manager called high."""
        return self.called - self.won


def accuracy(calls: Iterable[Call], author: str, period: str, *, ended: date, won: Decimal) -> CallAccuracy | None:
    """How the author's call for a period that ended on ``ended`` compares with ``won`` (None: no call)."""
    mine = [c for c in _of(calls, author, period) if c.submitted_at.date() <= ended]
    return CallAccuracy(period, mine[-1].commit, won) if mine else None
