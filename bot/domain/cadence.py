"""When things happen in the weekly cadence, in each person's own timezone.

All functions are pure: they take ``now`` and a timezone and return aware
instants, so a whole week (daylight-saving changes included) can be replayed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class WeeklyTime:
    """A local wall-clock moment in the week: ``weekday`` 0 is Monday."""

    weekday: int
    at: time

    @classmethod
    def parse(cls, text: str) -> WeeklyTime:
        """``"mon 09:00"`` -> WeeklyTime(0, 09:00)."""
        try:
            day, clock = text.strip().lower().split()
            return cls(WEEKDAYS.index(day[:3]), time.fromisoformat(clock))
        except ValueError as e:
            raise ValueError(f"'{text}' is not a weekly time like 'mon 09:00'") from e

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.at.strftime('%H:%M')}"


def _default_digests() -> dict[int, WeeklyTime]:
    return {tier: WeeklyTime(tier, time(9)) for tier in (1, 2, 3, 4)}  # tue..fri 09:00


@dataclass(frozen=True)
class Cadence:
    checkin: WeeklyTime = WeeklyTime(0, time(9))
    # The first-line managers' team meeting list, after the check-ins (None: only on demand).
    meeting: WeeklyTime | None = WeeklyTime(0, time(16))
    reminders: tuple[WeeklyTime, ...] = (WeeklyTime(0, time(15)), WeeklyTime(1, time(8)))
    # Tier -> when its managers get their digest; tiers above the highest key use the highest.
    digests: Mapping[int, WeeklyTime] = field(default_factory=_default_digests)
    grace: timedelta = timedelta(hours=12)  # a missed send still goes out this long after its time
    bant_stale_weeks: int = 8
    quiet_weeks: int = 2  # no update on a deal for this long flags it in the digests
    signoff_tier: int = 3  # managers of this tier and above sign off (认可) their forecast: the region heads
    forecast_margin: int = 20  # percent: forecast and actual further apart than this ask the review questions

    def digest_time(self, tier: int) -> WeeklyTime:
        if tier in self.digests:
            return self.digests[tier]
        return self.digests[max(k for k in self.digests if k <= tier)] if tier > 0 else self.digests[min(self.digests)]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_week(now: datetime, tz: ZoneInfo) -> date:
    """The Monday of the week ``now`` falls in, in ``tz``."""
    return monday_of(now.astimezone(tz).date())


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at wall-clock ``at`` in ``tz``, as a UTC instant.

    A wall time skipped by a spring-forward change resolves to the instant
    just after the gap (zoneinfo's fold=0 rule); a repeated one to its first
    occurrence.
    """
    local = datetime.combine(day, at, tzinfo=tz)
    # Round-trip through UTC normalises times that fall in a DST gap.
    return local.astimezone(UTC).astimezone(tz).astimezone(UTC)


def working_day_on_or_after(day: date, is_holiday: Callable[[date], bool]) -> date:
    """The first day from ``day`` that is not a public holiday, nor a weekend
    (unless the company chose a weekend day in the first place)."""
    skip_weekends = day.weekday() < 5
    for _ in range(14):
        if not is_holiday(day) and not (skip_weekends and day.weekday() >= 5):
            return day
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class PersonalWeek:
    """One person's cadence instants for one week."""

    week: date
    prompt_at: datetime
    reminders: tuple[datetime, ...]
    shift_days: int  # how far a holiday pushed the prompt


def personal_week(week: date, cadence: Cadence, tz: ZoneInfo,
                  is_holiday: Callable[[date], bool] = lambda d: False) -> PersonalWeek:
    """The prompt and reminder instants of ``week`` for someone in ``tz``.

    A holiday moves the prompt to the next working day, and the reminders
    move with it, so no reminder comes before the prompt.
    """
    planned = week + timedelta(days=cadence.checkin.weekday)
    actual = working_day_on_or_after(planned, is_holiday)
    shift = (actual - planned).days
    prompt = local_instant(actual, cadence.checkin.at, tz)
    reminders = tuple(
        local_instant(week + timedelta(days=r.weekday + shift), r.at, tz) for r in cadence.reminders
    )
    return PersonalWeek(week, prompt, tuple(r for r in reminders if r > prompt), shift)


def digest_instant(week: date, tier: int, cadence: Cadence, tz: ZoneInfo) -> datetime:
    """When a tier-``tier`` manager in ``tz`` gets the digest for ``week``."""
    wt = cadence.digest_time(tier)
    return local_instant(week + timedelta(days=wt.weekday), wt.at, tz)


def weekly_instant(week: date, wt: WeeklyTime, tz: ZoneInfo) -> datetime:
    """``wt`` in the week of ``week`` (its Monday), in ``tz``, as a UTC instant."""
    return local_instant(week + timedelta(days=wt.weekday), wt.at, tz)


def in_window(at: datetime, now: datetime, grace: timedelta) -> bool:
    """Due: its time has come and has not been gone longer than ``grace``."""
    return at <= now < at + grace


def stale_bant(confirmed: Mapping[str, datetime | None], keys: tuple[str, ...], now: datetime,
               weeks: int) -> tuple[str, ...]:
    """BANT items unanswered, or not confirmed for ``weeks`` weeks."""
    cutoff = now - timedelta(weeks=weeks)
    return tuple(k for k in keys if confirmed.get(k) is None or confirmed[k] < cutoff)  # type: ignore[operator]
