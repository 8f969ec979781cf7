"""Changes people make to a deal from a form: field edits and qualification answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from bot.db.models import BantAnswer, ConfirmedCharacteristic, Contact, Deal, EvaluationAnswer, Person
from bot.domain.playbook import Playbook


@dataclass
class DealEdits:
    """Field changes from a modal; None means "leave as it is"."""

    name: str | None = None
    account: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    close_date: date | None = None
    forecast: str | None = None
    next_step: str | None = None
    next_step_date: date | None = None
    clear_close_date: bool = False
    clear_next_step_date: bool = False


def apply_edits(deal: Deal, edits: DealEdits, *, now: datetime) -> bool:
    """Apply ``edits``; True when anything changed."""
    changed = False
    for name in ("name", "account", "amount", "currency", "close_date", "forecast", "next_step", "next_step_date"):
        value = getattr(edits, name)
        if value is not None and getattr(deal, name) != value:
            setattr(deal, name, value)
            changed = True
    for flag, name in (("clear_close_date", "close_date"), ("clear_next_step_date", "next_step_date")):
        if getattr(edits, flag) and getattr(deal, name) is not None:
            setattr(deal, name, None)
            changed = True
    if changed:
        deal.updated_at = now
    return changed


@dataclass
class Answers:
    """Qualification answers from a gate or check-in modal."""

    characteristics: set[str] = field(default_factory=set)  # confirmed now
    unconfirmed: set[str] = field(default_factory=set)  # explicitly unticked
    bant: dict[str, str] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)
    evaluations: dict[str, set[str]] = field(default_factory=dict)  # evaluation -> items answered yes


def record_answers(deal: Deal, answers: Answers, playbook: Playbook, *, now: datetime, by: Person | None) -> None:
    """Store answers on the deal, confirming BANT items with today's date."""
    have = {c.key: c for c in deal.characteristics}
    for key in answers.characteristics - set(have):
        deal.characteristics.append(ConfirmedCharacteristic(key=key, confirmed_at=now, confirmed_by=by))
    for key in answers.unconfirmed & set(have):
        deal.characteristics.remove(have[key])
    bant = {b.item: b for b in deal.bant}
    for item, text in answers.bant.items():
        text = text.strip()
        if not text:
            continue
        row = bant.get(item) or BantAnswer(item=item)
        row.answer, row.confirmed_at, row.confirmed_by_id = text, now, by.id if by else None
        if item not in bant:
            deal.bant.append(row)
    for role, names in answers.roles.items():
        names = [n.strip() for n in names if n.strip()]
        if not names:
            continue
        keep = [c for c in deal.contacts if c.role != role]
        if not playbook.role(role).multiple:
            names = names[:1]
        deal.contacts[:] = keep + [Contact(role=role, name=n) for n in names]
    current = {(a.evaluation, a.item): a for a in deal.evaluation_answers}
    for ev_key, yes in answers.evaluations.items():
        for question in playbook.evaluation(ev_key).items:
            answer = current.get((ev_key, question.key))
            if answer is None:
                answer = EvaluationAnswer(evaluation=ev_key, item=question.key)
                deal.evaluation_answers.append(answer)
            if answer.answered_by_id is None or answer.answer != (question.key in yes):
                answer.answer, answer.answered_at, answer.answered_by = question.key in yes, now, by
    deal.updated_at = now
