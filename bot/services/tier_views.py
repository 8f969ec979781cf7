"""The section each tier's digest opens with (bot/domain/tiers.py), from the computed nodes.

The nodes are in the digest's reporting currency (``all_digests(currency=...)``), so are the
figures here; a signed-off figure in another currency is converted at the company's rates.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import ManagerComment
from bot.domain import org
from bot.domain.digest import Node
from bot.domain.forecast import ForecastCheck
from bot.domain.plan import Period, working_days
from bot.domain.playbook import Playbook
from bot.domain.rates import Rates
from bot.domain.tiers import (
    DigestKind,
    ForecastLine,
    GlobalReport,
    RegionForecast,
    RegionLine,
    SalesPlan,
    TierView,
    best_and_weakest,
    digest_kind,
    first_line_beneath,
    main_currency,
    other_currencies,
    rolled_up,
    sales_plan,
    signed_figure,
    team_line,
)
from bot.services.coverage import CoverageIndex
from bot.services.digests import Team, comments_by_author, forecast_results

MAX_TEAMS = 25  # lines in a comparison: a digest is read in seconds


def _comments(session: so.Session, authors: set[str], week: date) -> dict[str, ManagerComment]:
    """The comments of ``week`` by ``authors``, in one query per thousand authors."""
    return {str(k): c for k, c in comments_by_author(session, (int(a) for a in authors), week).items()}


def tier_view(session: so.Session, playbook: Playbook, team: Team, nodes: dict[str, Node], key: str, week: date,
              coverage: CoverageIndex | None, *, currency: str, signoff_tier: int, now: datetime,
              margin: int) -> TierView:
    """What ``key``'s digest opens with, for the kind of manager they are."""
    return tier_views(session, playbook, team, nodes, [key], week, coverage, currency=currency,
                      signoff_tier=signoff_tier, now=now, margin=margin)[key]


def tier_views(session: so.Session, playbook: Playbook, team: Team, nodes: dict[str, Node], keys: list[str],
               week: date, coverage: CoverageIndex | None, *, currency: str, signoff_tier: int, now: datetime,
               margin: int) -> dict[str, TierView]:
    """:func:`tier_view` of each of ``keys``: the comments and forecast checks they show are loaded for
    all of them at once (a few queries, however many managers)."""
    kinds = {k: digest_kind(k, team.managers, team.tiers, signoff_tier) for k in keys}
    regions_of = {k: _regions(team, k) for k in keys if kinds[k] is DigestKind.TOP}
    authors = {a for k in keys if kinds[k] is DigestKind.REGION for a in (k, *team.reports.get(k, []))}
    authors |= {r for regions in regions_of.values() for r in regions}
    said = _comments(session, authors, week) if authors else {}
    checked = sorted({int(r) for regions in regions_of.values() for r in regions})
    results = forecast_results(session, playbook, checked, week, now=now, managers=team.managers,
                               reports=team.reports) if checked else {}
    rates = repo.load_rates(session) if regions_of or DigestKind.REGION in kinds.values() else None
    cover = coverage.of if coverage is not None else (lambda k: None)
    out: dict[str, TierView] = {}
    for key in keys:
        kind = kinds[key]
        if kind is DigestKind.FIRST_LINE:
            out[key] = TierView(kind, plan=_plan(playbook, team, nodes, key, week, coverage))
        elif kind is DigestKind.MIDDLE:
            shown = main_currency(nodes[key].totals, currency)  # one currency, so the teams compare
            teams = [team_line(team.names[k], nodes[k].totals, nodes[k].concerns, nodes[k].checkins, cover(k), shown)
                     for k in first_line_beneath(key, team.reports, team.tiers)[:MAX_TEAMS] if k in nodes]
            best, weakest = best_and_weakest(teams)
            out[key] = TierView(kind, teams=teams, best=best, weakest=weakest)
        elif kind is DigestKind.REGION:
            assert rates is not None
            out[key] = TierView(kind, region=_region(team, nodes, key, said, rates, main_currency(
                nodes[key].totals, currency), on=now.date()))
        else:
            assert rates is not None
            out[key] = TierView(kind, report=_global(team, nodes, key, regions_of[key], said, results, rates,
                                                     coverage, currency=currency, now=now, margin=margin))
    return out


def _plan(playbook: Playbook, team: Team, nodes: dict[str, Node], key: str, week: date,
          coverage: CoverageIndex | None) -> SalesPlan | None:
    c = coverage.of(key) if coverage is not None else None
    if c is None or coverage is None:
        return None
    period = _period_of(coverage, key, c.period)
    # The average deal the team won in the period, else the average open one: what a deal is worth to them.
    won = [w.amount for p in org.subtree(team.managers, key) for w in coverage.won.get(p, [])
           if w.currency == c.currency and (period is None or period.contains(w.on))]
    count = nodes[key].totals.open_count
    average = sum(won, Decimal(0)) / len(won) if won else (c.open / count if count and c.open else None)
    days = working_days(week, period.end) if period is not None else 0
    return sales_plan(c, average_deal=average.quantize(Decimal(1)) if average else None,
                      ratios=playbook.numbers.activity, working_days=days)


def _period_of(coverage: CoverageIndex, key: str, label: str) -> Period | None:
    """The period ``key``'s coverage is measured over: their own target's, else their team's."""
    for person in org.subtree(coverage.managers, key):
        for t in coverage.targets.get(person, []):
            if t.period.label == label:
                return t.period
    return None


def _in(rates: Rates, commit: Decimal | None, best: Decimal | None, code: str, currency: str,
        on: date) -> tuple[Decimal | None, Decimal | None, str]:
    """A forecast given in ``code``, in ``currency`` at the company's rates (whole units, as a digest reads);
    as given when a figure has no rate."""
    if code == currency:
        return commit, best, code
    conv = [None if a is None else rates.convert(a, code, currency, on) for a in (commit, best)]
    if any(v is None and a is not None for v, a in zip(conv, (commit, best), strict=True)):
        return commit, best, code
    c, b = (None if v is None else v.quantize(Decimal(1)) for v in conv)
    return c, b, currency


def _region(team: Team, nodes: dict[str, Node], key: str, said: dict[str, ManagerComment], rates: Rates,
            currency: str, *, on: date) -> RegionForecast:
    node = nodes[key]
    figures = rolled_up(node.totals, currency)
    reports = sorted(team.reports.get(key, []), key=lambda r: team.names[r])
    lines = []
    for r in reports:
        c = said.get(r)
        if c is not None and (c.commit_amount is not None or c.best_case_amount is not None) and c.currency:
            lines.append(ForecastLine(team.names[r], *_in(rates, c.commit_amount, c.best_case_amount, c.currency,
                                                          currency, on), True, c.signed_off_at is not None))
        elif r in nodes:
            f = rolled_up(nodes[r].totals, currency)
            lines.append(ForecastLine(team.names[r], f.commit, f.best_case, currency, False, False))
    own = said.get(key)
    signed = None
    if own is not None and own.signed_off_at is not None:
        signed = signed_figure(*_in(rates, own.commit_amount, own.best_case_amount, own.currency or currency,
                                    currency, on), own.text, figures)
    return RegionForecast(figures, lines, signed, other_currencies(node.totals, currency))


def _regions(team: Team, key: str) -> list[str]:
    """The region heads reporting to ``key`` (the managers among their reports), by name."""
    return sorted((r for r in team.reports.get(key, []) if team.tiers.get(r, 0) > 0), key=lambda r: team.names[r])


def _global(team: Team, nodes: dict[str, Node], key: str, regions: list[str], said: dict[str, ManagerComment],
            results: dict[int, ForecastCheck | None], rates: Rates, coverage: CoverageIndex | None, *,
            currency: str, now: datetime, margin: int) -> GlobalReport:
    lines = []
    for r in regions:
        c = said.get(r)
        commit = best = None
        code = currency
        if c is not None and c.signed_off_at is not None and c.currency:
            commit, best, code = _in(rates, c.commit_amount, c.best_case_amount, c.currency, currency, now.date())
        cov = coverage.of(r) if coverage is not None else None
        fits = cov is not None and cov.currency == currency
        own = main_currency(nodes[r].totals, currency) if r in nodes else currency
        rolled = rolled_up(nodes[r].totals, own).commit if r in nodes else Decimal(0)
        lines.append(RegionLine(
            team.names[r], commit, best, code, rolled, own,
            cov.won if fits and cov else None, cov.target if fits and cov else None,
            results.get(int(r)), margin))
    top = coverage.of(key) if coverage is not None else None
    fits = top is not None and top.currency == currency
    return GlobalReport(currency, lines, top.target if fits and top else None, top.won if fits and top else None)
