"""The terminal's deal list (``coach deals list``): deals by stage, each with what its next stage needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot import i18n
from bot.db import repo
from bot.db.models import Person
from bot.domain import money, org
from bot.domain.coaching import label
from bot.domain.deal import DealFacts
from bot.domain.gates import missing_for_next
from bot.domain.rollup import Totals, totals
from bot.i18n import _


def deals_beneath(session: so.Session, email: str | None) -> list[DealFacts]:
    """Every deal, or those owned by ``email`` and anyone beneath them."""
    if not email:
        return repo.load_facts(session)
    person = repo.person_by_email(session, email)
    if person is None:
        raise LookupError(f"no one with email {email} in the org")
    ids = [int(k) for k in org.subtree(repo.manager_map(session), str(person.id))]
    return repo.load_facts(session, owner_ids=ids)


def pipeline_text(
    session: so.Session, playbook, *, owner: str | None, include_closed: bool, lang: str, now: datetime
) -> str:
    facts = deals_beneath(session, owner)
    emails = {str(i): e for i, e in session.execute(sa.select(Person.id, Person.email))}
    t = totals(facts, playbook)
    with i18n.language(lang):
        return _text(facts, playbook, t, session, owner, emails, include_closed, lang)


def _text(facts: list[DealFacts], playbook: Any, t: Totals, session: so.Session, owner: str | None,
          emails: dict[str, str], include_closed: bool, lang: str) -> str:
    who = session.scalar(sa.select(Person.name).where(Person.email == owner)) if owner else _("everyone")
    lines = [
        _("Pipeline for %(who)s: %(count)s open deals, %(amount)s (weighted %(weighted)s)") % {
            "who": who, "count": t.open_count, "amount": i18n.money(t.open_amount), "weighted": i18n.money(t.weighted)},
    ]
    stages = list(playbook.keys) + (["lost"] if include_closed else [])
    for key in stages:
        in_stage = [f for f in facts if f.stage == key]
        if (key == playbook.won.key and not include_closed) or not in_stage:
            continue
        prob = "" if key == "lost" else f", {playbook.stage(key).probability}%"
        lines.append("")
        lines.append(f"{playbook.stage_name(key, lang)} ({len(in_stage)}{prob}) "
                     f"{i18n.money(money.total((f.currency, f.amount) for f in in_stage))}")
        for f in in_stage:
            close = " " + _("close %(day)s") % {"day": f.close_date.isoformat()} if f.close_date else ""
            lines.append(f"  {f.ref:<7} {f.name} · {f.account} · {i18n.amount(f.amount, f.currency)}{close}"
                         f" · {emails.get(f.owner, f.owner)}")
            missing = missing_for_next(f, playbook)
            if missing:
                nxt = playbook.next_stage(f.stage)
                assert nxt is not None
                todo = "; ".join(label(m, playbook, lang) for m in missing)
                lines.append("          " + _("to reach %(stage)s:") % {"stage": nxt.name.in_(lang)} + f" {todo}")
    if not facts:
        lines.append(_("No deals yet: import some with `coach deals import FILE.csv`."))
    return "\n".join(lines)
