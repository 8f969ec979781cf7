"""Managers' calls: submitting one up a tier, the tier above's review, and reading them back.

Not wired to Slack yet (the call form and the review buttons come with the forecast digest):
the error keys without a macro in ``templates/errors.j2`` yet are call_negative,
call_best_below_commit, not_your_report, no_call_yet and return_needs_comment.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db.models import ForecastCall, Person
from bot.domain.calls import Call, CallStatus
from bot.domain.values import MAX_TEXT, is_currency
from bot.services.errors import UserError

__all__ = ["calls_of", "review_call", "submit_call"]


def _as_call(row: ForecastCall) -> Call:
    return Call(author=str(row.author_id), period=row.period, commit=row.commit_amount,
                best_case=row.best_case_amount, currency=row.currency, submitted_at=row.submitted_at,
                status=CallStatus(row.status), reviewer=None if row.reviewer_id is None else str(row.reviewer_id),
                comment=row.review_comment, reviewed_at=row.reviewed_at)


def submit_call(session: so.Session, author: Person, period: str, *, commit: Decimal, best_case: Decimal,
                currency: str, now: datetime) -> Call:
    """Record ``author``'s call for ``period``; a new call is kept beside the earlier ones.

    UserError when the author is no manager (a rep's forecast is their deals), when an
    amount is negative, or when best case, which includes commit, is below it.
    """
    if not session.scalar(sa.select(sa.exists().where(Person.manager_id == author.id))):
        raise UserError("not_a_manager")
    if commit < 0 or best_case < 0:
        raise UserError("call_negative")
    if best_case < commit:
        raise UserError("call_best_below_commit")
    if not is_currency(currency):
        raise UserError("bad_currency", value=currency)
    row = ForecastCall(author_id=author.id, period=period, commit_amount=commit, best_case_amount=best_case,
                       currency=currency, submitted_at=now, status=CallStatus.SUBMITTED.value, review_comment="")
    session.add(row)
    session.flush()
    return _as_call(row)


def review_call(session: so.Session, reviewer: Person, author: Person, period: str, *, approve: bool,
                comment: str, now: datetime) -> Call:
    """The tier above approves (认可) ``author``'s latest call for ``period``, or returns it with a comment.

    Only the author's own manager reviews; returning needs a comment saying what to look at again.
    """
    if author.manager_id != reviewer.id:
        raise UserError("not_your_report")
    row = session.scalar(sa.select(ForecastCall).where(ForecastCall.author_id == author.id,
                                                       ForecastCall.period == period)
                         .order_by(ForecastCall.submitted_at.desc(), ForecastCall.id.desc()).limit(1))
    if row is None:
        raise UserError("no_call_yet")
    text = comment.strip()
    if not approve and not text:
        raise UserError("return_needs_comment")
    if len(text) > MAX_TEXT:
        raise UserError("too_long", most=MAX_TEXT, length=len(text))
    row.status = (CallStatus.APPROVED if approve else CallStatus.RETURNED).value
    row.reviewer_id, row.review_comment, row.reviewed_at = reviewer.id, text, now
    session.flush()
    return _as_call(row)


def calls_of(session: so.Session, author_ids: Iterable[int], periods: Iterable[str]) -> list[Call]:
    """Every call (the whole history) of these authors for these periods, oldest first."""
    ids, labels = sorted(set(author_ids)), sorted(set(periods))
    if not ids or not labels:
        return []
    rows = session.scalars(sa.select(ForecastCall).where(ForecastCall.author_id.in_(ids),
                                                         ForecastCall.period.in_(labels))
                           .order_by(ForecastCall.submitted_at, ForecastCall.id))
    return [_as_call(r) for r in rows]
