"""The data behind a person's charts (``bot.render.charts`` draws them as PNG files).

The funnel and the activity bars come from ``services.numbers``; the week's waterfall
from the week's snapshot of their (team's) deals against the deals as they are now.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db.models import Deal, DealSnapshot, Person
from bot.domain.charts import ActivityData, ChartSpec, FunnelData, FunnelStage, WaterfallData
from bot.domain.deal import DealFacts
from bot.domain.playbook import Playbook
from bot.domain.waterfall import Bridge, Snapshot, bridge
from bot.services.numbers import Numbers, numbers_for, owners_of

KINDS = ("funnel", "waterfall", "activity")


def funnel_data(n: Numbers, playbook: Playbook) -> FunnelData:
    whose = f"{n.name}'s team" if n.is_manager else n.name
    stages = [FunnelStage(playbook.stage_name(k), count, amount) for k, count, amount in n.open_by_stage]
    conv = [(c.reached_to, c.reached_from) for c in n.conversions]
    note = f"Open deals in {n.currency} now; conversion over the last {n.window_days} days."
    if n.open_elsewhere:
        note += f" {n.open_elsewhere} open deal{'s' if n.open_elsewhere != 1 else ''} in other currencies not shown."
    return FunnelData(f"Funnel · {whose}", n.currency, stages, conv, note)


def week_bridge(session: so.Session, owner_ids: list[int], week: date, playbook: Playbook,
                currency: str) -> Bridge | None:
    """The week's bridge for these owners' deals, or None before the week's snapshot is taken."""
    snaps = {ref: Snapshot(ref, stage, amount, cur, close, forecast) for ref, stage, amount, cur, close, forecast
             in session.execute(sa.select(Deal.ref, DealSnapshot.stage, DealSnapshot.amount, DealSnapshot.currency,
                                          DealSnapshot.close_date, DealSnapshot.forecast)
                                .join(Deal, Deal.id == DealSnapshot.deal_id)
                                .where(DealSnapshot.week == week, Deal.owner_id.in_(owner_ids)))}
    if not snaps:
        return None
    deals = [DealFacts(ref=ref, name="", stage=stage, amount=amount, currency=cur, close_date=close)
             for ref, stage, amount, cur, close in session.execute(
                 sa.select(Deal.ref, Deal.stage, Deal.amount, Deal.currency, Deal.close_date)
                 .where(Deal.owner_id.in_(owner_ids)))]
    return bridge(snaps, deals, playbook, currency)


def waterfall_data(b: Bridge, whose: str, week: date) -> WaterfallData:
    steps = [("New", *b.new), ("Amount changes", *b.amount_changes), ("Won", *b.won), ("Lost", *b.lost)]
    if b.other[0]:
        steps.append(("Other", *b.other))
    moves = [f"{b.advanced} advanced", f"{b.moved_back} moved back",
             f"{b.slipped} close date{'' if b.slipped == 1 else 's'} slipped"]
    note = f"Since the week's snapshot ({week.strftime('%-d %b')}). Also: {', '.join(moves)} (no change in amount)."
    return WaterfallData(f"Open pipeline this week · {whose} · {b.currency}", b.currency, b.start, steps, b.end, note)


def activity_data(n: Numbers) -> ActivityData | None:
    plan = n.plan
    if plan is None or plan.on_track or not plan.working_days:
        return None
    week = min(5, plan.working_days)
    planned = [float(plan.per_day(x) * week) for x in (plan.visits, plan.calls, plan.proposals)]
    last = n.last_week
    actual = [None, None, None] if last is None or last.skipped else [last.visits, last.calls, last.proposals]
    whose = f"{n.name}'s team" if n.is_manager else n.name
    note = (f"Plan: what {n.currency} {plan.gap:,.0f} still to win needs in a week of {week} working days. "
            f"Done: what was reported for the week from {n.last_week_start.strftime('%-d %b')}.")
    return ActivityData(f"Plan vs last week · {whose}", ["Visits", "Calls", "Proposals"], planned, actual, note)


def person_charts(session: so.Session, playbook: Playbook, person: Person, *, now: datetime, week: date,
                  tag: str, kinds: tuple[str, ...] = KINDS, numbers: Numbers | None = None) -> list[ChartSpec]:
    """``person``'s charts, to be drawn as ``<kind>-<tag>.png`` (the tag makes the files findable again)."""
    n = numbers or numbers_for(session, playbook, person, now=now)
    whose = f"{n.name}'s team" if n.is_manager else n.name
    out: list[ChartSpec] = []
    if "funnel" in kinds and any(count for _, count, _ in n.open_by_stage):
        f = funnel_data(n, playbook)
        alt = "Open deals by stage: " + ", ".join(f"{s.name} {s.count}" for s in f.stages)
        out.append(ChartSpec("funnel", f"funnel-{tag}.png", f.title, alt, f))
    if "waterfall" in kinds:
        b = week_bridge(session, owners_of(session, person), week, playbook, n.currency)
        if b is not None:
            w = waterfall_data(b, whose, week)
            alt = f"Open pipeline {b.currency} {b.start:,.0f} last week to {b.end:,.0f} now"
            out.append(ChartSpec("waterfall", f"waterfall-{tag}.png", w.title, alt, w))
    if "activity" in kinds and (a := activity_data(n)) is not None:
        alt = "Plan vs done last week: " + ", ".join(
            f"{label} {p:g} planned, {x if x is not None else 'none'} done"
            for label, p, x in zip(a.labels, a.planned, a.actual, strict=True))
        out.append(ChartSpec("activity", f"activity-{tag}.png", a.title, alt, a))
    return out
