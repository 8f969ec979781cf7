"""Read-only views of the pipeline for the terminal."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import Deal, Person
from bot.domain import money, org
from bot.domain.coaching import label
from bot.domain.gates import missing_for_next
from bot.domain.rollup import totals


def deals_beneath(session: so.Session, email: str | None) -> list[Deal]:
    """Every deal, or those owned by ``email`` and anyone beneath them."""
    q = sa.select(Deal).options(
        so.selectinload(Deal.owner), so.selectinload(Deal.bant), so.selectinload(Deal.contacts),
        so.selectinload(Deal.characteristics), so.selectinload(Deal.evaluation_answers),
    )
    if email:
        person = repo.person_by_email(session, email)
        if person is None:
            raise LookupError(f"no one with email {email} in the org")
        managers = {str(k): (str(v) if v else None) for k, v in repo.manager_map(session).items()}
        ids = [int(k) for k in org.subtree(managers, str(person.id))]
        q = q.where(Deal.owner_id.in_(ids))
    return list(session.scalars(q.order_by(Deal.id)))


def pipeline_text(
    session: so.Session, playbook, *, owner: str | None, include_closed: bool, lang: str, now: datetime
) -> str:
    deals = deals_beneath(session, owner)
    facts = [repo.to_facts(d) for d in deals]
    t = totals(facts, playbook)
    who = session.scalar(sa.select(Person.name).where(Person.email == owner)) if owner else "everyone"
    lines = [
        f"Pipeline for {who}: {t.open_count} open deals, {money.fmt(t.open_amount)} "
        f"(weighted {money.fmt(t.weighted)})",
    ]
    stages = list(playbook.keys) + (["lost"] if include_closed else [])
    for key in stages:
        in_stage = [f for f in facts if f.stage == key]
        if (key == playbook.won.key and not include_closed) or not in_stage:
            continue
        prob = "" if key == "lost" else f", {playbook.stage(key).probability}%"
        lines.append("")
        lines.append(f"{playbook.stage_name(key, lang)} ({len(in_stage)}{prob}) "
                     f"{money.fmt(money.total((f.currency, f.amount) for f in in_stage))}")
        for f in in_stage:
            close = f" close {f.close_date.isoformat()}" if f.close_date else ""
            lines.append(f"  {f.ref:<7} {f.name} · {f.account} · {f.currency} {money.fmt_amount(f.amount)}{close}"
                         f" · {f.owner}")
            missing = missing_for_next(f, playbook)
            if missing:
                nxt = playbook.next_stage(f.stage)
                assert nxt is not None
                todo = "; ".join(label(m, playbook, lang) for m in missing)
                lines.append(f"          to reach {nxt.name.in_(lang)}: {todo}")
    if not facts:
        lines.append("No deals yet: import some with `coach deals import FILE.csv`.")
    return "\n".join(lines)
