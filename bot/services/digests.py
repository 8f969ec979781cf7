"""Loading what the digests need in a handful of bulk queries, then computing them all at once."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import (
    Deal,
    DealSnapshot,
    ForecastReview,
    ManagerComment,
    Person,
    StageChange,
)
from bot.domain import org
from bot.domain.digest import CommentRow, ManagerDigest, Node, OrgInput, ReportRow
from bot.domain.digest_rows import RowsInput, compute_rows, rows_in_currency
from bot.domain.forecast import QUESTIONS, ForecastCheck, ReviewRow, off_by_more_than
from bot.domain.playbook import LOST, Playbook
from bot.domain.rates import Rates
from bot.domain.score import lead_score_value
from bot.domain.stats import in_window, stall_limits, time_in_stage
from bot.domain.tiers import TierView
from bot.domain.values import is_currency
from bot.domain.waterfall import Snapshot
from bot.services.coverage import CoverageIndex
from bot.services.deals import take_snapshots
from bot.services.errors import UserError
from bot.services.local_time import current_week

CLOSE_HISTORY_WEEKS = 8
SUBTREE_READ_AT_MOST = 5000  # owners whose deals are picked out by id; beyond, every deal is read (one pass)
SUBTREE_READ_SHARE = 0.5  # ... and beyond this share of the org's people
FACTS_AT_ONCE = 2000  # deals per query when loading the facts of listed deals (bind parameters are limited)
IDS_AT_ONCE = 1000  # people per query when loading what many managers' digests need
T = TypeVar("T")


def load_org_input(session: so.Session, week: date, *, owner_ids: list[int] | None = None) -> OrgInput:
    """Everything ``compute`` needs for the digests of ``week`` (only the deals of ``owner_ids``
    when given: one manager's subtree)."""
    snaps: dict[str, Snapshot] = {}
    history: dict[str, list] = defaultdict(list)
    q = (sa.select(Deal.ref, DealSnapshot.week, DealSnapshot.stage, DealSnapshot.amount, DealSnapshot.currency,
                   DealSnapshot.close_date, DealSnapshot.forecast)
         .join(Deal, Deal.id == DealSnapshot.deal_id)
         .where(DealSnapshot.week.between(week - timedelta(weeks=CLOSE_HISTORY_WEEKS), week))
         .order_by(DealSnapshot.week))
    if owner_ids is not None:
        q = q.where(Deal.owner_id.in_(owner_ids))
    for ref, wk, stage, amount, currency, close, forecast in session.execute(q):
        if wk == week:
            snaps[ref] = Snapshot(ref, stage, amount, currency, close, forecast)
        else:
            history[ref].append(close)
    return OrgInput(repo.load_facts(session, owner_ids=owner_ids), snaps, history,
                    org.reports_of(repo.manager_map(session)),
                    repo.checkin_status(session, week))


def load_rows_input(session: so.Session, week: date, *, owner_ids: list[int] | None = None,
                    closed: Collection[str] = ()) -> RowsInput:
    """What ``compute_rows`` needs for the digests of ``week``: as ``load_org_input``, one narrow row per deal
    (but for those closed before the week, which no digest counts: ``closed`` names the closed stages)."""
    return RowsInput(repo.digest_rows(session, week, owner_ids=owner_ids, closed=closed),
                     repo.close_history(session, week - timedelta(weeks=CLOSE_HISTORY_WEEKS), week,
                                        owner_ids=owner_ids),
                     org.reports_of(repo.manager_map(session)), repo.checkin_status(session, week))


def all_digests(session: so.Session, playbook: Playbook, week: date, *, now: datetime,
                quiet_weeks: int = 2, currency: str | None = None, root: str | None = None,
                managers: dict[str, str | None] | None = None,
                scored: Collection[str] | None = None, within: Collection[str] | None = None) -> dict[str, Node]:
    """Every person's digest node for ``week`` (keys are person ids as strings); with ``root``,
    only that person's subtree is loaded and rolled up (``managers``: the org's manager map).
    ``within``: only these people's digests are needed, so when their subtrees are a small part of
    the org (a few managers due in one timezone) only those are loaded; otherwise everyone's.

    The attention items of managers' nodes carry their deal's lead score; ``scored``: only these
    people's (those whose digests will be shown), as scoring reads each listed deal's whole facts.

    With ``currency``, totals, forecasts and rankings are in that one currency,
    converted at the company's rates (`coach rates import`) in force ``now``.
    """
    limits = None
    if any(s.stall_days is None for s in playbook.stages):
        # Stages without stall_days: stalled after the 80th percentile of the org's time in them.
        since = now - timedelta(days=playbook.numbers.window_days)
        history = in_window(repo.transitions(session), since, now)
        limits = stall_limits(playbook, time_in_stage(history, playbook, since=since, now=now))
    with no_cycle_collection():
        # In a function of its own so the rows are freed before the collector runs again: it would
        # otherwise walk all of them once more on the way out.
        return _nodes(session, playbook, week, now=now, limits=limits, quiet_weeks=quiet_weeks,
                      currency=currency, root=root, managers=managers, scored=scored, within=within)


def _nodes(session: so.Session, playbook: Playbook, week: date, *, now: datetime,
           limits: Mapping[str, float] | None, quiet_weeks: int, currency: str | None, root: str | None,
           managers: dict[str, str | None] | None, scored: Collection[str] | None,
           within: Collection[str] | None) -> dict[str, Node]:
    closed = (playbook.won.key, LOST)
    people: set[str] | None = None
    roots: list[str] | None = None
    if root is not None or within is not None:
        roots = [root] if root is not None else sorted(within or ())
        managers = managers or repo.manager_map(session)
        reports = org.reports_of(managers)
        people = {k for top in roots for k in org.subtree(managers, top, reports)}
        if len(people) > SUBTREE_READ_AT_MOST or (root is None and len(people) > SUBTREE_READ_SHARE * len(managers)):
            # Most of the org, or more owners than a query should list: every deal is read in one pass,
            # and only ``roots``' subtrees are rolled up.
            people = None
    if people is not None:
        data = load_rows_input(session, week, owner_ids=sorted(int(k) for k in people), closed=closed)
    else:
        data = load_rows_input(session, week, closed=closed)
    if roots is None:
        roots = [str(pid) for pid in session.scalars(sa.select(Person.id).where(Person.manager_id.is_(None)))]
    if currency:
        data = rows_in_currency(data, repo.load_rates(session), currency, now.date())
    nodes = compute_rows(data, roots, playbook, now=now, stall_limits=limits, quiet_weeks=quiet_weeks)
    # Lead scores for the attention items managers will see: at most ten per manager, each deal scored
    # once, from its whole facts (loaded for those deals only).
    shown = [node.top_attention for key, node in nodes.items()
             if data.reports.get(key) and (scored is None or key in scored)]
    ids = sorted({item.deal_id for items in shown for item in items if item.deal_id is not None})
    score_of = {d.ref: lead_score_value(d, playbook, now=now, weights=playbook.scoring)
                for some in _chunks(ids, FACTS_AT_ONCE) for d in repo.load_facts(session, deal_ids=some)}
    for items in shown:
        for item in items:
            item.score = score_of.get(item.ref)
    return nodes


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while the digests build their million small objects, and while
    they are alive and each manager's digest is made from them: it would walk them all again and
    again (half the time at 200,000 deals). Nothing they make is cyclic."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            # What was made here and lives on (the nodes) is long-lived: straight to the oldest generation
            # (freeze, then unfreeze, moves every tracked object there without looking at it), or the
            # first young collection walks it all (0.4 s at 200,000 deals).
            gc.freeze()
            gc.unfreeze()
            gc.enable()


@dataclass(frozen=True)
class Team:
    """The org, loaded once: names, reporting lines, who is a manager."""

    names: dict[str, str]
    managers: dict[str, str | None]
    reports: dict[str, list[str]]
    tiers: dict[str, int]


def load_team(session: so.Session) -> Team:
    rows = session.execute(sa.select(Person.id, Person.name, Person.tier)).all()
    managers = repo.manager_map(session)
    names = {str(i): n for i, n, _ in rows}
    return Team(names, managers, org.reports_of(managers), {str(i): t for i, _, t in rows})


def manager_digest(team: Team, nodes: dict[str, Node], key: str, week: date, checkin_status: dict[str, str],
                   comments: list[CommentRow], coverage: CoverageIndex | None = None, *, signoff_tier: int = 3,
                   check: ForecastCheck | None = None, reviews: Sequence[ReviewRow] = (),
                   tier: TierView | None = None) -> ManagerDigest:
    """One manager's digest, from the computed nodes (with coverage against targets, if given)."""
    cover = coverage.of if coverage is not None else (lambda k: None)
    rows = [ReportRow(team.names[r], team.tiers[r] > 0, checkin_status.get(r, "") if team.tiers[r] == 0 else "",
                      nodes[r], cover(r)) for r in sorted(team.reports.get(key, []), key=lambda r: team.names[r])]
    beneath = [p for p in org.subtree(team.managers, key, team.reports) if p != key]
    not_finished = sorted(team.names[p] for p in beneath if checkin_status.get(p) in ("pending", "partial"))
    away = sorted(team.names[p] for p in beneath if checkin_status.get(p) == "away")
    return ManagerDigest(team.names[key], week, nodes[key], rows, comments, not_finished, away, team.names,
                         cover(key),
                         can_sign_off=team.tiers[key] >= signoff_tier and team.managers.get(key) is not None,
                         check=check, reviews=list(reviews), tier=tier)


def ensure_snapshots(session: so.Session, week: date, *, now: datetime) -> bool:
    """Record the deals as they stand at the start of ``week``, once: True if taken now."""
    if session.scalar(sa.select(sa.func.count()).select_from(DealSnapshot).where(DealSnapshot.week == week)):
        return False
    try:
        with session.begin_nested():
            take_snapshots(session, week, now=now)
    except sa.exc.IntegrityError:
        return False  # another instance took them at the same moment
    return True


def is_manager(session: so.Session, person: Person) -> bool:
    return bool(session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.manager_id == person.id)))


def require_manager(session: so.Session, person: Person) -> None:
    """Digests, comments and forecasts are for managers: say so to anyone else."""
    if not is_manager(session, person):
        raise UserError("not_a_manager")


def comments_for(session: so.Session, manager: Person, week: date) -> list[CommentRow]:
    """What ``manager``'s direct reports said on their own digests of ``week``: the tier below speaks up."""
    return comments_by_manager(session, [manager.id], week)[manager.id]


def comments_by_manager(session: so.Session, manager_ids: Sequence[int], week: date) -> dict[int, list[CommentRow]]:
    """:func:`comments_for` of each of ``manager_ids``, in one query per thousand managers."""
    out: dict[int, list[CommentRow]] = {m: [] for m in manager_ids}
    for ids in _chunks(sorted(out)):
        rows = session.execute(
            sa.select(Person.manager_id, Person.name, ManagerComment.text, ManagerComment.commit_amount,
                      ManagerComment.best_case_amount, ManagerComment.currency, ManagerComment.signed_off_at)
            .join(Person, Person.id == ManagerComment.author_id)
            .where(Person.manager_id.in_(ids), ManagerComment.week == week)
            .order_by(Person.name, Person.id))
        for manager_id, name, text, commit, best, currency, signed in rows:
            assert manager_id is not None  # selected by it
            out[manager_id].append(CommentRow(name, text, commit, best, currency or "", signed is not None))
    return out


def _chunks(items: list[T], size: int = IDS_AT_ONCE) -> Iterator[list[T]]:
    """``items`` ``size`` at a time (a thousand by default): bind parameters per statement are limited."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def comments_by_author(session: so.Session, author_ids: Iterable[int], week: date) -> dict[int, ManagerComment]:
    """The comments of ``week`` by each of ``author_ids`` who wrote one, in one query per thousand authors."""
    out: dict[int, ManagerComment] = {}
    for ids in _chunks(sorted(set(author_ids))):
        out.update((c.author_id, c) for c in session.scalars(sa.select(ManagerComment).where(
            ManagerComment.author_id.in_(ids), ManagerComment.week == week)))
    return out


def comment_of(session: so.Session, author: Person, week: date) -> ManagerComment | None:
    return session.scalar(sa.select(ManagerComment).where(ManagerComment.author_id == author.id,
                                                          ManagerComment.week == week))


def save_comment(session: so.Session, author: Person, week: date, *, text: str, commit: Decimal | None,
                 best_case: Decimal | None, currency: str | None, now: datetime,
                 signed_off: bool = False) -> ManagerComment:
    """Create or replace ``author``'s comment and forecast for ``week``; ``signed_off``: it is their 认可."""
    comment = comment_of(session, author, week)
    if comment is None:
        comment = ManagerComment(author=author, week=week, created_at=now)
        session.add(comment)
    comment.text, comment.commit_amount, comment.best_case_amount = text, commit, best_case
    comment.currency = currency if (commit is not None or best_case is not None) else None
    comment.updated_at = now
    comment.signed_off_at = now if signed_off else None
    return comment


@dataclass(frozen=True)
class SignOff:
    commit: Decimal
    best_case: Decimal
    currency: str


def sign_off(session: so.Session, playbook: Playbook, person: Person, week: date, *, now: datetime,
             currency: str, quiet_weeks: int = 2) -> SignOff:
    """A region head's one-click sign-off (认可): their subtree's forecast as rolled up, in one currency.

    Commit is the commit category; best case adds the best-case category to it.
    UserError when the forecast is in several currencies (no rates): then the
    figure has to be given, with the comment form.
    """
    result = rolled_forecast(session, playbook, person, week, now=now, currency=currency, quiet_weeks=quiet_weeks)
    old = comment_of(session, person, week)
    save_comment(session, person, week, text=old.text if old else "", commit=result.commit,
                 best_case=result.best_case, currency=result.currency, now=now, signed_off=True)
    return result


def rolled_forecast(session: so.Session, playbook: Playbook, person: Person, week: date, *, now: datetime,
                    currency: str, quiet_weeks: int = 2) -> SignOff:
    """``person``'s subtree's forecast as rolled up from the deals, in one currency (see :func:`sign_off`)."""
    node = all_digests(session, playbook, week, now=now, quiet_weeks=quiet_weeks, currency=currency,
                       root=str(person.id), scored=())[str(person.id)]
    by = node.totals.by_forecast
    commit_bag = dict(by["commit"].amount) if "commit" in by else {}
    best_bag = dict(commit_bag)
    for c, a in (by["best_case"].amount.items() if "best_case" in by else ()):
        best_bag[c] = best_bag.get(c, Decimal(0)) + a
    currencies = {c for c, a in best_bag.items() if a} or {currency}
    if len(currencies) > 1:
        raise UserError("signoff_needs_rates", currencies=sorted(currencies))
    (code,) = currencies
    return SignOff(commit_bag.get(code, Decimal(0)), best_bag.get(code, Decimal(0)), code)


def reporting_currency(person: Person, default: str) -> str:
    """The currency ``person``'s digests total in: their own choice, else the workspace's."""
    return person.reporting_currency or default


def set_reporting_currency(person: Person, code: str | None, *, now: datetime) -> str | None:
    """Store ``person``'s own reporting currency (None: back to the workspace's); UserError if not a code."""
    if code is not None:
        code = code.strip().upper()
        if not is_currency(code):
            raise UserError("bad_currency_word", value=code)
    person.reporting_currency, person.updated_at = code, now
    return code


def digest_for(session: so.Session, playbook: Playbook, person: Person, *, now: datetime, quiet_weeks: int = 2,
               currency: str | None = None, signoff_tier: int = 3, forecast_margin: int = 20) -> ManagerDigest:
    """One manager's digest of this week on demand (``/pipeline digest``), computed like the scheduled ones."""
    from bot.services.tier_views import tier_view  # it builds on this module's Team and forecast_result

    require_manager(session, person)
    week = current_week(person, now)
    team = load_team(session)
    key = str(person.id)
    # Only the caller's subtree is loaded and rolled up, not the whole org's.
    nodes = all_digests(session, playbook, week, now=now, quiet_weeks=quiet_weeks, currency=currency, root=key,
                        managers=team.managers, scored={key})
    coverage = CoverageIndex(session, playbook, team.managers, nodes, week, rates=repo.load_rates(session),
                             currency=currency)
    return manager_digest(team, nodes, key, week, repo.checkin_status(session, week),
                          comments_for(session, person, week), coverage,
                          signoff_tier=signoff_tier,
                          check=forecast_check(session, playbook, person, week, now=now, margin=forecast_margin),
                          reviews=reviews_for(session, person, week),
                          tier=tier_view(session, playbook, team, nodes, key, week, coverage,
                                         currency=currency or usual_currency(session, person),
                                         signoff_tier=signoff_tier, now=now, margin=forecast_margin))


def usual_currency(session: so.Session, manager: Person) -> str:
    """The currency most of the manager's pipeline is in, across their whole subtree (a second-line
    manager's direct reports own no deals): the forecast field's default. A new deal's currency is
    :func:`bot.services.deals.default_currency`'s."""
    team = [int(k) for k in org.subtree(repo.manager_map(session), str(manager.id))]
    found = session.execute(sa.select(Deal.currency, sa.func.sum(Deal.amount)).where(Deal.owner_id.in_(team))
                            .group_by(Deal.currency).order_by(sa.func.sum(Deal.amount).desc(), Deal.currency)
                            .limit(1)).first()
    return found[0] if found else "USD"


def forecast_result(session: so.Session, playbook: Playbook, person: Person, week: date, *,
                    now: datetime) -> ForecastCheck | None:
    """``person``'s forecast for the week before ``week`` against what their subtree won in it
    (None when they gave no forecast, or a won deal has no rate to compare it with)."""
    return forecast_results(session, playbook, [person.id], week, now=now)[person.id]


def forecast_results(session: so.Session, playbook: Playbook, person_ids: Sequence[int], week: date, *,
                     now: datetime, managers: dict[str, str | None] | None = None,
                     reports: dict[str, list[str]] | None = None) -> dict[int, ForecastCheck | None]:
    """:func:`forecast_result` of each of ``person_ids``, in three queries (per thousand people):
    their forecasts, the week's won deals of the whole org, the reviews already written.
    ``managers`` / ``reports``: the org's manager map and ``reports_of`` it, when the caller has them."""
    period = week - timedelta(weeks=1)
    out: dict[int, ForecastCheck | None] = {p: None for p in person_ids}
    answered: set[int] = set()
    given = {p: c for p, c in comments_by_author(session, out, period).items()
             if c.commit_amount is not None and c.currency}
    if not given:
        return out
    for ids in _chunks(sorted(given)):
        answered.update(session.scalars(sa.select(ForecastReview.author_id).where(
            ForecastReview.author_id.in_(ids), ForecastReview.week == period)))
    start = datetime.combine(period, datetime.min.time(), tzinfo=now.tzinfo)
    # One row per won stage change, as a deal won twice in the week was counted before: by owner.
    won_by_owner: dict[str, list[tuple[Decimal, str]]] = defaultdict(list)
    for owner, amount, currency in session.execute(
            sa.select(Deal.owner_id, Deal.amount, Deal.currency).join(StageChange, StageChange.deal_id == Deal.id)
            .where(StageChange.to_stage == playbook.won.key, StageChange.changed_at >= start,
                   StageChange.changed_at < start + timedelta(weeks=1), Deal.stage == playbook.won.key)):
        won_by_owner[str(owner)].append((amount, currency))
    if managers is None:
        managers = repo.manager_map(session)
    if reports is None:
        reports = org.reports_of(managers)
    rates = repo.load_rates(session)
    for person_id, comment in given.items():
        target = comment.currency or ""
        deals = [d for owner in org.subtree(managers, str(person_id), reports) for d in won_by_owner.get(owner, ())]
        won = _sum_in(rates, deals, target, now.date())
        if won is not None and comment.commit_amount is not None:
            out[person_id] = ForecastCheck(period, comment.commit_amount, won, target, person_id in answered)
    return out


def _sum_in(rates: Rates, amounts: list[tuple[Decimal, str]], currency: str, on: date) -> Decimal | None:
    """The sum of ``amounts`` each converted to ``currency`` (None when one has no rate: it can't be compared)."""
    total = Decimal(0)
    for amount, code in amounts:
        converted = rates.convert(amount, code, currency, on)
        if converted is None:
            return None
        total += converted
    return total


def forecast_check(session: so.Session, playbook: Playbook, person: Person, week: date, *, now: datetime,
                   margin: int) -> ForecastCheck | None:
    """Last week's forecast of ``person`` against what their subtree won in it, when they differ by more
    than ``margin`` percent (None otherwise, or when they gave no forecast)."""
    return forecast_checks(session, playbook, [person.id], week, now=now, margin=margin)[person.id]


def forecast_checks(session: so.Session, playbook: Playbook, person_ids: Sequence[int], week: date, *,
                    now: datetime, margin: int, managers: dict[str, str | None] | None = None,
                    reports: dict[str, list[str]] | None = None) -> dict[int, ForecastCheck | None]:
    """:func:`forecast_check` of each of ``person_ids``, from :func:`forecast_results`."""
    results = forecast_results(session, playbook, person_ids, week, now=now, managers=managers, reports=reports)
    return {p: r if r is not None and off_by_more_than(r.forecast, r.won, margin) else None
            for p, r in results.items()}


def save_forecast_review(session: so.Session, person: Person, check: ForecastCheck, answers: dict[str, str], *,
                         now: datetime) -> ForecastReview:
    """Keep ``person``'s answers to the review questions for ``check``'s period; they go up a tier."""
    row = session.scalar(sa.select(ForecastReview).where(ForecastReview.author_id == person.id,
                                                         ForecastReview.week == check.week))
    if row is None:
        row = ForecastReview(author=person, week=check.week, created_at=now)
        session.add(row)
    row.forecast, row.won, row.currency = check.forecast, check.won, check.currency
    row.wrong, row.unknown, row.misled, row.next_steps = (answers.get(q, "").strip() for q in QUESTIONS)
    return row


def reviews_for(session: so.Session, manager: Person, week: date) -> list[ReviewRow]:
    """The forecast reviews ``manager``'s direct reports wrote about last week: answers go up a tier."""
    return reviews_by_manager(session, [manager.id], week)[manager.id]


def reviews_by_manager(session: so.Session, manager_ids: Sequence[int], week: date) -> dict[int, list[ReviewRow]]:
    """:func:`reviews_for` of each of ``manager_ids``, in one query per thousand managers."""
    out: dict[int, list[ReviewRow]] = {m: [] for m in manager_ids}
    r = ForecastReview
    for ids in _chunks(sorted(out)):
        rows = session.execute(
            sa.select(Person.manager_id, Person.name, r.week, r.forecast, r.won, r.currency, r.wrong, r.unknown,
                      r.misled, r.next_steps)
            .join(Person, Person.id == r.author_id)
            .where(Person.manager_id.in_(ids), r.week == week - timedelta(weeks=1))
            .order_by(Person.name, Person.id))
        for manager_id, name, wk, forecast, won, currency, wrong, unknown, misled, next_steps in rows:
            assert manager_id is not None  # selected by it
            out[manager_id].append(ReviewRow(name, ForecastCheck(wk, forecast, won, currency, True),
                                             wrong, unknown, misled, next_steps))
    return out
