"""Loading what the digests need in a handful of bulk queries, then computing them all at once."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from slack_sdk.models.blocks import Block

from bot.db import repo
from bot.db.models import (
    BantAnswer,
    CheckIn,
    ConfirmedCharacteristic,
    Contact,
    Deal,
    DealSnapshot,
    EvaluationAnswer,
    ForecastReview,
    ManagerComment,
    Person,
    StageChange,
)
from bot.domain import org
from bot.domain.deal import BantAnswer as BantFact
from bot.domain.deal import DealFacts
from bot.domain.digest import Node, OrgInput, compute, in_currency
from bot.domain.forecast import QUESTIONS, ForecastCheck, ReviewRow, off_by_more_than
from bot.domain.playbook import Playbook
from bot.domain.waterfall import Snapshot
from bot.render.digest import CommentRow, ReportRow, digest_blocks
from bot.services.deals import take_snapshots
from bot.services.errors import UserError

CLOSE_HISTORY_WEEKS = 8


def load_deals(session: so.Session) -> list[DealFacts]:
    """Every deal as DealFacts, owner keyed by person id, in five queries whatever the count."""
    bant: dict[int, dict[str, BantFact]] = defaultdict(dict)
    for deal_id, item, answer, at in session.execute(
        sa.select(BantAnswer.deal_id, BantAnswer.item, BantAnswer.answer, BantAnswer.confirmed_at)
    ):
        bant[deal_id][item] = BantFact(answer, at)
    roles: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for deal_id, role, name in session.execute(sa.select(Contact.deal_id, Contact.role, Contact.name)):
        roles[deal_id][role].append(name)
    chars: dict[int, set[str]] = defaultdict(set)
    for deal_id, key in session.execute(sa.select(ConfirmedCharacteristic.deal_id, ConfirmedCharacteristic.key)):
        chars[deal_id].add(key)
    evals: dict[int, dict[str, dict[str, bool]]] = defaultdict(lambda: defaultdict(dict))
    for deal_id, ev, item, answer in session.execute(
        sa.select(EvaluationAnswer.deal_id, EvaluationAnswer.evaluation, EvaluationAnswer.item, EvaluationAnswer.answer)
    ):
        evals[deal_id][ev][item] = answer
    cols = (Deal.id, Deal.ref, Deal.name, Deal.stage, Deal.owner_id, Deal.account, Deal.amount, Deal.currency,
            Deal.close_date, Deal.forecast, Deal.next_step, Deal.next_step_date, Deal.stage_entered_at, Deal.updated_at)
    out = []
    for (did, ref, name, stage, owner, account, amount, currency, close, forecast, step, step_date,
         entered, updated) in session.execute(sa.select(*cols)):
        out.append(DealFacts(
            ref=ref, name=name, stage=stage, owner=str(owner), account=account, amount=amount, currency=currency,
            close_date=close, forecast=forecast, next_step=step, next_step_date=step_date,
            characteristics=frozenset(chars.get(did, ())), bant=bant.get(did, {}),
            roles={k: tuple(v) for k, v in roles.get(did, {}).items()},
            evaluations={k: dict(v) for k, v in evals.get(did, {}).items()}, stage_entered_at=entered,
            updated_at=updated,
        ))
    return out


def load_org_input(session: so.Session, week: date) -> OrgInput:
    """Everything ``compute`` needs for the digests of ``week``."""
    snaps: dict[str, Snapshot] = {}
    history: dict[str, list] = defaultdict(list)
    q = (sa.select(Deal.ref, DealSnapshot.week, DealSnapshot.stage, DealSnapshot.amount, DealSnapshot.currency,
                   DealSnapshot.close_date, DealSnapshot.forecast)
         .join(Deal, Deal.id == DealSnapshot.deal_id)
         .where(DealSnapshot.week.between(week - timedelta(weeks=CLOSE_HISTORY_WEEKS), week))
         .order_by(DealSnapshot.week))
    for ref, wk, stage, amount, currency, close, forecast in session.execute(q):
        if wk == week:
            snaps[ref] = Snapshot(ref, stage, amount, currency, close, forecast)
        else:
            history[ref].append(close)
    managers = {str(k): (str(v) if v is not None else None) for k, v in repo.manager_map(session).items()}
    status = {str(pid): st for pid, st in session.execute(
        sa.select(CheckIn.person_id, CheckIn.status).where(CheckIn.week == week))}
    return OrgInput(load_deals(session), snaps, history, org.reports_of(managers), status)


def all_digests(session: so.Session, playbook: Playbook, week: date, *, now: datetime,
                quiet_weeks: int = 2, currency: str | None = None) -> dict[str, Node]:
    """Every person's digest node for ``week`` (keys are person ids as strings).

    With ``currency``, totals, forecasts and rankings are in that one currency,
    converted at the company's rates (`coach rates import`) in force ``now``.
    """
    data = load_org_input(session, week)
    if currency:
        data = in_currency(data, repo.load_rates(session), currency, now.date())
    roots = [str(pid) for pid in session.scalars(sa.select(Person.id).where(Person.manager_id.is_(None)))]
    return compute(data, roots, playbook, now=now, quiet_weeks=quiet_weeks)


@dataclass(frozen=True)
class Team:
    """The org, loaded once: names, reporting lines, who is a manager."""

    names: dict[str, str]
    managers: dict[str, str | None]
    reports: dict[str, list[str]]
    tiers: dict[str, int]


def load_team(session: so.Session) -> Team:
    rows = session.execute(sa.select(Person.id, Person.name, Person.manager_id, Person.tier)).all()
    managers = {str(i): (str(m) if m is not None else None) for i, _, m, _ in rows}
    names = {str(i): n for i, n, _, _ in rows}
    return Team(names, managers, org.reports_of(managers), {str(i): t for i, _, _, t in rows})


def digest_message(team: Team, nodes: dict[str, Node], key: str, week: date, playbook: Playbook,
                   checkin_status: dict[str, str], comments: list[CommentRow], *, signoff_tier: int = 3,
                   check: ForecastCheck | None = None, reviews: Sequence[ReviewRow] = ()) -> list[Block]:
    """One manager's digest blocks, from the computed nodes."""
    rows = [ReportRow(team.names[r], team.tiers[r] > 0, checkin_status.get(r, "") if team.tiers[r] == 0 else "",
                      nodes[r]) for r in sorted(team.reports.get(key, []), key=lambda r: team.names[r])]
    beneath = [p for p in org.subtree(team.managers, key) if p != key]
    not_finished = sorted(team.names[p] for p in beneath if checkin_status.get(p) in ("pending", "partial"))
    away = sorted(team.names[p] for p in beneath if checkin_status.get(p) == "away")
    return digest_blocks(team.names[key], week, nodes[key], playbook, reports=rows, comments=comments,
                         not_finished=not_finished, away=away, names=team.names,
                         can_sign_off=team.tiers[key] >= signoff_tier and team.managers.get(key) is not None,
                         check=check, reviews=reviews)


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


def comments_for(session: so.Session, manager: Person, week: date) -> list[CommentRow]:
    """What ``manager``'s direct reports said on their own digests of ``week``: the tier below speaks up."""
    rows = session.execute(
        sa.select(Person.name, ManagerComment.text, ManagerComment.commit_amount, ManagerComment.best_case_amount,
                  ManagerComment.currency, ManagerComment.signed_off_at)
        .join(Person, Person.id == ManagerComment.author_id)
        .where(Person.manager_id == manager.id, ManagerComment.week == week)
        .order_by(Person.name))
    return [CommentRow(name, text, commit, best, currency or "", signed is not None)
            for name, text, commit, best, currency, signed in rows]


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
    node = all_digests(session, playbook, week, now=now, quiet_weeks=quiet_weeks, currency=currency)[str(person.id)]
    by = node.totals.by_forecast
    commit_bag = dict(by["commit"].amount) if "commit" in by else {}
    best_bag = dict(commit_bag)
    for c, a in (by["best_case"].amount.items() if "best_case" in by else ()):
        best_bag[c] = best_bag.get(c, Decimal(0)) + a
    currencies = {c for c, a in best_bag.items() if a} or {currency}
    if len(currencies) > 1:
        raise UserError("signoff_needs_rates", currencies=sorted(currencies))
    (code,) = currencies
    result = SignOff(commit_bag.get(code, Decimal(0)), best_bag.get(code, Decimal(0)), code)
    old = comment_of(session, person, week)
    save_comment(session, person, week, text=old.text if old else "", commit=result.commit,
                 best_case=result.best_case, currency=code, now=now, signed_off=True)
    return result


def reporting_currency(person: Person, default: str) -> str:
    """The currency ``person``'s digests total in: their own choice, else the workspace's."""
    return person.reporting_currency or default


def set_reporting_currency(person: Person, code: str | None, *, now: datetime) -> str | None:
    """Store ``person``'s own reporting currency (None: back to the workspace's); UserError if not a code."""
    if code is not None:
        code = code.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise UserError("bad_currency_word", value=code)
    person.reporting_currency, person.updated_at = code, now
    return code


def digest_for(session: so.Session, playbook: Playbook, person: Person, week: date, *, now: datetime,
               quiet_weeks: int = 2, currency: str | None = None, signoff_tier: int = 3,
               forecast_margin: int = 20) -> list[Block]:
    """One person's digest on demand (``/pipeline digest``), computed like the scheduled ones."""
    nodes = all_digests(session, playbook, week, now=now, quiet_weeks=quiet_weeks, currency=currency)
    status = {str(pid): st for pid, st in session.execute(
        sa.select(CheckIn.person_id, CheckIn.status).where(CheckIn.week == week))}
    return digest_message(load_team(session), nodes, str(person.id), week, playbook, status,
                          comments_for(session, person, week), signoff_tier=signoff_tier,
                          check=forecast_check(session, playbook, person, week, now=now, margin=forecast_margin),
                          reviews=reviews_for(session, person, week))


def forecast_check(session: so.Session, playbook: Playbook, person: Person, week: date, *, now: datetime,
                   margin: int) -> ForecastCheck | None:
    """Last week's forecast of ``person`` against what their subtree won in it, when they differ by more
    than ``margin`` percent (None otherwise, or when they gave no forecast)."""
    period = week - timedelta(weeks=1)
    given = comment_of(session, person, period)
    if given is None or given.commit_amount is None or not given.currency:
        return None
    managers = {str(k): (str(v) if v is not None else None) for k, v in repo.manager_map(session).items()}
    owners = [int(k) for k in org.subtree(managers, str(person.id))]
    start = datetime.combine(period, datetime.min.time(), tzinfo=now.tzinfo)
    won_rows = session.execute(
        sa.select(Deal.amount, Deal.currency).join(StageChange, StageChange.deal_id == Deal.id)
        .where(StageChange.to_stage == playbook.won.key, StageChange.changed_at >= start,
               StageChange.changed_at < start + timedelta(weeks=1), Deal.owner_id.in_(owners),
               Deal.stage == playbook.won.key)).all()
    rates = repo.load_rates(session)
    won = Decimal(0)
    for amount, currency in won_rows:
        converted = rates.convert(amount, currency, given.currency, now.date())
        if converted is None:
            return None  # a won deal that can't be compared: no rate
        won += converted
    if not off_by_more_than(given.commit_amount, won, margin):
        return None
    answered = session.scalar(sa.select(ForecastReview.id).where(
        ForecastReview.author_id == person.id, ForecastReview.week == period)) is not None
    return ForecastCheck(period, given.commit_amount, won, given.currency, answered)


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
    rows = session.scalars(sa.select(ForecastReview).join(Person, Person.id == ForecastReview.author_id)
                           .where(Person.manager_id == manager.id, ForecastReview.week == week - timedelta(weeks=1))
                           .order_by(Person.name))
    return [ReviewRow(r.author.name, ForecastCheck(r.week, r.forecast, r.won, r.currency, True),
                      r.wrong, r.unknown, r.misled, r.next_steps) for r in rows]
