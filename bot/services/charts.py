"""The data behind a person's charts (``bot.render.charts`` draws them as PNG files).

The funnel and the activity bars come from ``services.numbers``; the week's waterfall
from the week's snapshot of their (team's) deals against the deals as they are now.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot import i18n
from bot.db import repo
from bot.db.models import Deal, DealSnapshot, Person
from bot.domain.charts import ActivityData, ChartSpec, FunnelData, FunnelStage, WaterfallData
from bot.domain.deal import DealFacts
from bot.domain.playbook import Playbook
from bot.domain.waterfall import Bridge, Snapshot, bridge
from bot.i18n import _, ngettext
from bot.services.numbers import Numbers, numbers_for, owners_of

KINDS = ("funnel", "waterfall", "activity")


def funnel_data(n: Numbers, playbook: Playbook) -> FunnelData:
    whose = _whose(n)
    lang = i18n.current()
    stages = [FunnelStage(playbook.stage_name(k, lang), count, amount) for k, count, amount in n.open_by_stage]
    conv = [(c.reached_to, c.reached_from) for c in n.conversions]
    note = _("Open deals in %(currency)s now; conversion over the last %(days)s days.") % {
        "currency": n.currency, "days": n.window_days}
    if n.open_elsewhere:
        note += " " + ngettext("%(num)s open deal in other currencies not shown.",
                               "%(num)s open deals in other currencies not shown.", n.open_elsewhere) % {
            "num": n.open_elsewhere}
    return FunnelData(_("Funnel · %(whose)s") % {"whose": whose}, n.currency, stages, conv, note)


def _whose(n: Numbers) -> str:
    return _("%(name)s's team") % {"name": n.name} if n.is_manager else n.name


def week_bridge(session: so.Session, owner_ids: list[int], week: date, playbook: Playbook,
                currency: str) -> Bridge | None:
    """The week's bridge for these owners' deals, or None before the week's snapshot is taken.

    Amounts in other currencies count in ``currency`` at the company's rates of the week's Monday, on both
    sides, so a moving rate never shows as a change; one without a rate is left out."""
    convert = repo.load_rates(session).converter(currency, week)

    def into(amount: Decimal, cur: str) -> tuple[Decimal, str]:
        converted = amount if cur == currency else convert(amount, cur)
        return (amount, cur) if converted is None else (converted, currency)

    snaps = {ref: Snapshot(ref, stage, *into(amount, cur), close, forecast)
             for ref, stage, amount, cur, close, forecast
             in session.execute(sa.select(Deal.ref, DealSnapshot.stage, DealSnapshot.amount, DealSnapshot.currency,
                                          DealSnapshot.close_date, DealSnapshot.forecast)
                                .join(Deal, Deal.id == DealSnapshot.deal_id)
                                .where(DealSnapshot.week == week, Deal.owner_id.in_(owner_ids)))}
    if not snaps:
        return None
    deals = [DealFacts(ref=ref, name="", stage=stage, amount=value, currency=code, close_date=close)
             for ref, stage, amount, cur, close in session.execute(
                 sa.select(Deal.ref, Deal.stage, Deal.amount, Deal.currency, Deal.close_date)
                 .where(Deal.owner_id.in_(owner_ids)))
             for value, code in [into(amount, cur)]]
    return bridge(snaps, deals, playbook, currency)


def waterfall_data(b: Bridge, whose: str, week: date) -> WaterfallData:
    steps = [(_("New"), *b.new), (_("Amount changes"), *b.amount_changes), (_("Won"), *b.won), (_("Lost"), *b.lost)]
    if b.other[0]:
        steps.append((_("Other"), *b.other))
    moves = [_("%(num)s advanced") % {"num": b.advanced}, _("%(num)s moved back") % {"num": b.moved_back},
             ngettext("%(num)s close date slipped", "%(num)s close dates slipped", b.slipped) % {"num": b.slipped}]
    note = _("Since the week's snapshot (%(day)s). Also: %(moves)s (no change in amount).") % {
        "day": i18n.day(week), "moves": _(", ").join(moves)}
    title = _("Open pipeline this week · %(whose)s · %(currency)s") % {"whose": whose, "currency": b.currency}
    return WaterfallData(title, b.currency, b.start, steps, b.end, note)


def activity_data(n: Numbers) -> ActivityData | None:
    plan = n.plan
    if plan is None or plan.on_track or not plan.working_days:
        return None
    week = min(5, plan.working_days)
    planned = [float(plan.per_day(x) * week) for x in (plan.visits, plan.calls, plan.proposals)]
    last = n.last_week
    actual = [None, None, None] if last is None or last.skipped else [last.visits, last.calls, last.proposals]
    whose = _whose(n)
    note = _("Plan: what %(gap)s still to win needs in a week of %(days)s working days. "
             "Done: what was reported for the week from %(day)s.") % {
        "gap": i18n.amount(plan.gap.quantize(Decimal(1)), n.currency), "days": week, "day": i18n.day(n.last_week_start)}
    return ActivityData(_("Plan vs last week · %(whose)s") % {"whose": whose},
                        [_("Visits"), _("Calls"), _("Proposals")], planned, actual, note)


def person_charts(session: so.Session, playbook: Playbook, person: Person, *, now: datetime, week: date,
                  tag: str, kinds: tuple[str, ...] = KINDS, numbers: Numbers | None = None) -> list[ChartSpec]:
    """``person``'s charts, to be drawn as ``<kind>-<tag>.png`` (the tag makes the files findable again)."""
    n = numbers or numbers_for(session, playbook, person, now=now)
    whose = _whose(n)
    out: list[ChartSpec] = []
    if "funnel" in kinds and any(count for _key, count, _amount in n.open_by_stage):
        f = funnel_data(n, playbook)
        alt = _("Open deals by stage: ") + ", ".join(f"{s.name} {s.count}" for s in f.stages)
        out.append(ChartSpec("funnel", f"funnel-{tag}.png", f.title, alt, f))
    if "waterfall" in kinds:
        b = week_bridge(session, owners_of(session, person), week, playbook, n.currency)
        if b is not None:
            w = waterfall_data(b, whose, week)
            start = i18n.amount(b.start.quantize(Decimal(1)), b.currency)
            end = i18n.plain_amount(b.end.quantize(Decimal(1)))
            alt = _("Open pipeline %(start)s last week to %(end)s now") % {"start": start, "end": end}
            out.append(ChartSpec("waterfall", f"waterfall-{tag}.png", w.title, alt, w))
    if "activity" in kinds and (a := activity_data(n)) is not None:
        alt = _("Plan vs done last week: ") + ", ".join(
            f"{label} {p:g} planned, {x if x is not None else 'none'} done"
            for label, p, x in zip(a.labels, a.planned, a.actual, strict=True))
        out.append(ChartSpec("activity", f"activity-{tag}.png", a.title, alt, a))
    return out
