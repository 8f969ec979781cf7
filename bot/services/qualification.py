"""Recording what the customer has shown, at any time: buying roles and evaluation items.

The four buying roles and the four evaluations are not only gate questions:
a rep records them whenever they learn something, item by item, and each
answer keeps who gave it and when. Unknown is a real answer: it removes a
yes or no that is no longer true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.db.models import Contact, Deal, EvaluationAnswer, Person
from bot.domain.deal import BantAnswer, DealFacts
from bot.domain.gates import GateResult, check_new
from bot.domain.playbook import Playbook
from bot.services.answers import Answers
from bot.services.deals import NewDeal


@dataclass
class Qualification:
    """The qualify form's answers: every role's names, every evaluation item's yes / no / unknown (None)."""

    roles: dict[str, list[str]] = field(default_factory=dict)
    evaluations: dict[str, dict[str, bool | None]] = field(default_factory=dict)


def record_qualification(deal: Deal, q: Qualification, playbook: Playbook, *, now: datetime,
                         by: Person | None) -> bool:
    """Store the roles and evaluation answers given; True when anything changed."""
    changed = False
    for role_key, names in q.roles.items():
        role = playbook.role(role_key)
        wanted = [n.strip() for n in names if n.strip()]
        if not role.multiple:
            wanted = wanted[:1]
        have = [c.name for c in deal.contacts if c.role == role_key]
        if have != wanted:
            keep = [c for c in deal.contacts if c.role != role_key]
            deal.contacts[:] = keep + [Contact(role=role_key, name=n) for n in wanted]
            changed = True
    rows = {(a.evaluation, a.item): a for a in deal.evaluation_answers}
    for ev_key, answers in q.evaluations.items():
        for item in playbook.evaluation(ev_key).items:
            if item.key not in answers:
                continue
            value, row = answers[item.key], rows.get((ev_key, item.key))
            if value is None:
                if row is not None:
                    deal.evaluation_answers.remove(row)
                    changed = True
                continue
            if row is None:
                row = EvaluationAnswer(evaluation=ev_key, item=item.key)
                deal.evaluation_answers.append(row)
            elif row.answer == value:
                continue
            row.answer, row.answered_at, row.answered_by = value, now, by
            changed = True
    if changed:
        deal.updated_at = now
    return changed


def new_deal_gate(new: NewDeal, answers: Answers, playbook: Playbook, *, now: datetime) -> GateResult:
    """What a deal created straight into ``new.stage`` still lacks, given the answers in the form.

    A new deal passes the same gates as one moved there from the first stage:
    the customer must have shown each stage's marker and criteria on the way.
    """
    facts = DealFacts(
        ref=new.ref or "new", name=new.name, stage=new.stage, account=new.account, amount=new.amount,
        currency=new.currency,
        characteristics=frozenset(answers.characteristics),
        bant={k: BantAnswer(v.strip(), now) for k, v in answers.bant.items() if v.strip()},
        roles={k: tuple(n for n in names if n.strip()) for k, names in answers.roles.items()},
        evaluations={k: {i.key: i.key in yes for i in playbook.evaluation(k).items}
                     for k, yes in answers.evaluations.items()},
    )
    return check_new(facts, playbook)
