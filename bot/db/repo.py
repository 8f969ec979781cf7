"""Rows <-> domain objects, and the queries the services share. Never commits."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from datetime import date
from functools import partial
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import NullType

from bot.db.models import (
    ActionPlan,
    BantAnswer,
    CheckIn,
    ConfirmedCharacteristic,
    Contact,
    Deal,
    DealSnapshot,
    EvaluationAnswer,
    ExchangeRate,
    Person,
    StageChange,
)
from bot.domain import org
from bot.domain.deal import BantAnswer as BantFact
from bot.domain.deal import Confirmation, DealFacts, HistoryLine, Plan
from bot.domain.digest_rows import DealRow
from bot.domain.history import Transition
from bot.domain.rates import Rate, Rates

REF_PREFIX = "D-"
_REF_NUMBER = re.compile(r"^D-(\d+)$")


def people_by_email(session: so.Session) -> dict[str, Person]:
    return {p.email: p for p in session.scalars(sa.select(Person))}


def person_by_email(session: so.Session, email: str) -> Person | None:
    return session.scalar(sa.select(Person).where(Person.email == email.strip().lower()))


def person_names(session: so.Session) -> dict[str, str]:
    """Each person's name by person id in text: the key ``DealFacts.owner`` holds."""
    return {str(pid): name for pid, name in session.execute(sa.select(Person.id, Person.name))}


def manager_map(session: so.Session) -> dict[str, str | None]:
    """Each person's manager, both as person ids in text: the form the domain's org functions take.

    Every request needs it (who may see what); it is read again only when the org changed,
    which one aggregate over the person table tells (a change of people, ids or managers
    changes the count or the sums). The map returned is shared: do not modify it.
    """
    manager = sa.cast(Person.manager_id, sa.BigInteger)  # 64 bits: ids of a few thousand overflow 32 when cubed
    version = tuple(session.execute(sa.select(
        sa.func.count(Person.id), sa.func.sum(Person.id), sa.func.sum(manager * Person.id),
        sa.func.sum(manager * Person.id * Person.id), sa.func.max(Person.updated_at))).one())
    key = id(session.get_bind())
    cached = _MANAGER_MAPS.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    managers = {str(pid): (str(mid) if mid is not None else None)
                for pid, mid in session.execute(sa.select(Person.id, Person.manager_id))}
    _MANAGER_MAPS[key] = (version, managers)
    return managers


_MANAGER_MAPS: dict[int, tuple[tuple[Any, ...], dict[str, str | None]]] = {}


def checkin_status(session: so.Session, week: date) -> dict[str, str]:
    """Each person's check-in status for ``week``, by person id in text; no row means not asked yet.
    Someone deactivated in Slack shows as "deactivated" (they are not asked)."""
    status = {str(pid): st for pid, st in session.execute(
        sa.select(CheckIn.person_id, CheckIn.status).where(CheckIn.week == week))}
    status.update((str(pid), "deactivated") for pid in session.scalars(sa.select(Person.id).where(Person.deactivated)))
    return status


def recompute_tiers(session: so.Session) -> None:
    """Store each person's tier; call after any change to reporting lines."""
    session.flush()
    tiers = org.tiers(manager_map(session))
    for person in session.scalars(sa.select(Person)):
        person.tier = tiers[str(person.id)]


def ref_number(ref: str) -> int | None:
    m = _REF_NUMBER.match(ref)
    return int(m.group(1)) if m else None


def next_ref_numbers(session: so.Session, count: int, taken: Iterable[str] = ()) -> list[str]:
    """``count`` fresh ``D-n`` refs after the highest in use (in the database or ``taken``)."""
    used = [n for r in [*session.scalars(sa.select(Deal.ref)), *taken] if (n := ref_number(r)) is not None]
    start = max(used, default=0) + 1
    return [f"{REF_PREFIX}{n}" for n in range(start, start + count)]


def deal_by_ref(session: so.Session, ref: str) -> Deal | None:
    return session.scalar(sa.select(Deal).where(sa.func.upper(Deal.ref) == ref.strip().upper()))


def among(column: Any, values: Any, dialect: sa.Dialect) -> Any:
    """``column IN values`` (a list, or a subquery). On PostgreSQL a list is sent as one array,
    ``= ANY(:values)``: with one parameter per value, binding and planning thousands of them took
    four times as long as the query."""
    if dialect.name == "postgresql" and isinstance(values, list):
        return column == sa.any_(sa.bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


# -- the read model: deals as DealFacts ----------------------------------------------------------
# One shape whoever reads: ``owner`` is the owner's person id in text (the key the org
# functions use), for one loaded deal (``to_facts``) or for many in seven queries (``load_facts``).

def _facts(deal: Any, *, characteristics: Iterable[str], bant: dict[str, BantFact],
           roles: dict[str, list[str]], evaluations: dict[str, dict[str, bool]],
           confirmed: dict[str, Confirmation], plans: Iterable[Plan]) -> DealFacts:
    return DealFacts(
        ref=deal.ref,
        name=deal.name,
        stage=deal.stage,
        owner=str(deal.owner_id),
        account=deal.account,
        amount=deal.amount,
        currency=deal.currency,
        close_date=deal.close_date,
        forecast=deal.forecast,
        next_step=deal.next_step,
        next_step_date=deal.next_step_date,
        characteristics=frozenset(characteristics),
        bant=bant,
        roles={k: tuple(v) for k, v in roles.items()},
        evaluations=evaluations,
        stage_entered_at=deal.stage_entered_at,
        updated_at=deal.updated_at,
        lost_reason=deal.lost_reason,
        confirmed=confirmed,
        plans=tuple(plans),
    )


def to_facts(deal: Deal) -> DealFacts:
    """One deal, from its loaded row and collections."""
    roles: dict[str, list[str]] = {}
    for c in deal.contacts:
        roles.setdefault(c.role, []).append(c.name)
    evaluations: dict[str, dict[str, bool]] = {}
    confirmed: dict[str, Confirmation] = {}
    for a in deal.evaluation_answers:
        evaluations.setdefault(a.evaluation, {})[a.item] = a.answer
        confirmed[f"{a.evaluation}.{a.item}"] = Confirmation(a.answered_by.name if a.answered_by else "", a.answered_at)
    for ch in deal.characteristics:
        confirmed[ch.key] = Confirmation(ch.confirmed_by.name if ch.confirmed_by else "", ch.confirmed_at)
    plans = [Plan(p.id, p.what, p.who, p.due, p.agreed_by.name if p.agreed_by else "", p.agreed_at, p.done)
             for p in deal.action_plans]
    return _facts(deal, characteristics=(c.key for c in deal.characteristics),
                  bant={b.item: BantFact(b.answer, b.confirmed_at) for b in deal.bant},
                  roles=roles, evaluations=evaluations, confirmed=confirmed, plans=plans)


def load_facts(session: so.Session, *, owner_ids: Iterable[int] | None = None,
               deal_ids: Iterable[int] | None = None) -> list[DealFacts]:
    """Every deal (or those of ``owner_ids``, or those of ``deal_ids``) in id order, in seven queries
    whatever the count."""
    session.flush()  # Core reads below see what the session has pending, as its own queries would
    conn = session.connection()  # Core rows: the ORM's handling of each result costs more than the rows here
    ids = list(owner_ids) if owner_ids is not None else None
    chosen: Any = sa.select(Deal.id).where(among(Deal.owner_id, ids, conn.dialect)) if ids is not None else None
    if deal_ids is not None:
        chosen = list(deal_ids)  # each table by these ids (PostgreSQL scanned every deal for a subquery on refs)

    def of(*cols: Any) -> Any:
        q = sa.select(*cols)
        return conn.execute(q if chosen is None else q.where(among(cols[0].class_.deal_id, chosen, conn.dialect))).all()

    bant: dict[int, dict[str, BantFact]] = defaultdict(dict)
    for deal_id, item, answer, at in of(BantAnswer.deal_id, BantAnswer.item, BantAnswer.answer,
                                        BantAnswer.confirmed_at):
        bant[deal_id][item] = BantFact(answer, at)
    roles: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for deal_id, role, name in of(Contact.deal_id, Contact.role, Contact.name):
        roles[deal_id][role].append(name)
    people: dict[int, str] = {}

    def name_of(person_id: int | None) -> str:
        # Everyone's names, read at the first confirmation or plan that names someone (many deals have none).
        if person_id is None:
            return ""
        if not people:
            people.update({pid: name for pid, name in conn.execute(sa.select(Person.id, Person.name))})
        return people.get(person_id, "")

    chars: dict[int, set[str]] = defaultdict(set)
    confirmed: dict[int, dict[str, Confirmation]] = defaultdict(dict)
    for deal_id, key, at, by in of(ConfirmedCharacteristic.deal_id, ConfirmedCharacteristic.key,
                                   ConfirmedCharacteristic.confirmed_at, ConfirmedCharacteristic.confirmed_by_id):
        chars[deal_id].add(key)
        confirmed[deal_id][key] = Confirmation(name_of(by), at)
    evals: dict[int, dict[str, dict[str, bool]]] = defaultdict(lambda: defaultdict(dict))
    for deal_id, ev, item, answer, at, by in of(EvaluationAnswer.deal_id, EvaluationAnswer.evaluation,
                                                EvaluationAnswer.item, EvaluationAnswer.answer,
                                                EvaluationAnswer.answered_at, EvaluationAnswer.answered_by_id):
        evals[deal_id][ev][item] = answer
        confirmed[deal_id][f"{ev}.{item}"] = Confirmation(name_of(by), at)
    plans: dict[int, list[Plan]] = defaultdict(list)
    for p in session.scalars(sa.select(ActionPlan).order_by(ActionPlan.id) if chosen is None
                             else sa.select(ActionPlan).where(among(ActionPlan.deal_id, chosen, conn.dialect))
                             .order_by(ActionPlan.id)):
        plans[p.deal_id].append(Plan(p.id, p.what, p.who, p.due, name_of(p.agreed_by_id), p.agreed_at, p.done))
    cols = (Deal.id, Deal.ref, Deal.name, Deal.stage, Deal.owner_id, Deal.account, Deal.amount, Deal.currency,
            Deal.close_date, Deal.forecast, Deal.next_step, Deal.next_step_date, Deal.stage_entered_at,
            Deal.lost_reason, Deal.updated_at)
    q = sa.select(*cols) if chosen is None else sa.select(*cols).where(among(Deal.id, chosen, conn.dialect))
    rows = conn.execute(q.order_by(Deal.id)).all()
    return [_facts(row, characteristics=chars.get(row.id, ()), bant=bant.get(row.id, {}),
                   roles=roles.get(row.id, {}), evaluations={k: dict(v) for k, v in evals.get(row.id, {}).items()},
                   confirmed=confirmed.get(row.id, {}), plans=plans.get(row.id, ()))
            for row in rows]


# -- the digests' read model: one narrow row per deal -----------------------------------------------
# For every manager's digest at once (200,000 deals): the columns the digests read, in four
# queries, without building an ORM object or a ``DealFacts`` per deal.

def digest_rows(session: so.Session, week: date, *, owner_ids: Iterable[int] | None = None,
                closed: Collection[str] = ()) -> list[DealRow]:
    """Every deal (or those of ``owner_ids``) as the digests of ``week`` read it, with its snapshot
    of ``week`` beside it, in deal id order; without the deals in a ``closed`` stage both now and in
    that snapshot (closed before the week: a company's history, which can be most of its deals)."""
    session.flush()  # Core reads below see what the session has pending, as its own queries would
    conn = session.connection()  # plain Core rows: the ORM's handling of each row costs a third more
    ids = list(owner_ids) if owner_ids is not None else None
    chosen = sa.select(Deal.id).where(among(Deal.owner_id, ids, conn.dialect)) if ids is not None else None

    def answered(*cols: Any) -> dict[int, frozenset[str]]:
        # Which BANT items are answered, which roles have a name: what the attention checks ask.
        q = sa.select(*cols).where(cols[2] != "")
        found: dict[int, set[str]] = defaultdict(set)
        for deal_id, key, text in conn.execute(q if chosen is None else q.where(cols[0].in_(chosen))).all():
            if text.strip():
                found[deal_id].add(key)
        shared: dict[frozenset[str], frozenset[str]] = {}  # few distinct sets: one object each, not one a deal
        return {deal_id: shared.setdefault(k := frozenset(keys), k) for deal_id, keys in found.items()}

    bant = answered(BantAnswer.deal_id, BantAnswer.item, BantAnswer.answer)
    roles = answered(Contact.deal_id, Contact.role, Contact.name)
    snap = DealSnapshot
    # The typed columns come raw (``_raw``) and are converted below: most of a week's snapshots equal
    # the deal, and dates repeat, so each distinct value is converted once, not 200,000 times.
    q = (sa.select(Deal.id, Deal.ref, Deal.owner_id, Deal.stage, _raw(Deal.amount), Deal.currency,
                   _raw(Deal.close_date), Deal.forecast, Deal.next_step, _raw(Deal.next_step_date),
                   _raw(Deal.stage_entered_at), _raw(Deal.updated_at),
                   snap.stage, _raw(snap.amount), snap.currency, _raw(snap.close_date), snap.forecast)
         .outerjoin(snap, sa.and_(snap.deal_id == Deal.id, snap.week == week)))
    if ids is not None:
        q = q.where(among(Deal.owner_id, ids, conn.dialect))
    if closed:
        q = q.where(sa.or_(Deal.stage.not_in(closed), snap.stage.is_(None), snap.stage.not_in(closed)))
    dialect = conn.dialect
    to_amount = _processor(Deal.amount, dialect)
    to_moment = _processor(Deal.updated_at, dialect)
    to_date = _memo(_processor(Deal.close_date, dialect))
    nothing: frozenset[str] = frozenset()
    owner_key = _memo(str)  # an owner's key once, not once per deal
    make = tuple.__new__  # the row's tuple straight away: DealRow(...) goes through a Python-level __new__
    out = []
    for (deal_id, ref, owner, stage, amount, currency, close, forecast, next_step, next_date, entered, updated,
         was_stage, was_amount, was_currency, was_close, was_forecast) in conn.execute(q.order_by(Deal.id)).all():
        amount_now, close_now = to_amount(amount), to_date(close)
        out.append(make(DealRow, (
            ref, owner_key(owner), stage, amount_now, currency, close_now, forecast, next_step or "",
            to_date(next_date), to_moment(entered), to_moment(updated), bant.get(deal_id, nothing),
            roles.get(deal_id, nothing), was_stage, amount_now if was_amount == amount else to_amount(was_amount),
            was_currency, close_now if was_close == close else to_date(was_close), was_forecast, None, deal_id)))
    return out


def _raw(column: Any) -> Any:
    """``column`` as the driver returns it, without SQLAlchemy's conversion (see ``_processor``)."""
    return sa.type_coerce(column, NullType())


def _processor(column: Any, dialect: sa.Dialect) -> Callable[[Any], Any]:
    """SQLAlchemy's own conversion of ``column``'s values on ``dialect`` (None stays None, as in all of them)."""
    kind = column.type
    if dialect.name == "sqlite":  # text and numbers back from SQLite: its processors read them
        convert = kind.dialect_impl(dialect).result_processor(dialect, None)
    elif isinstance(kind, sa.TypeDecorator):  # other drivers return dates, decimals and datetimes themselves
        convert = partial(kind.process_result_value, dialect=dialect)
    else:
        convert = None
    return convert if convert is not None else _same


def _same(value: Any) -> Any:
    return value


def _memo(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, each distinct value converted once (for columns with few distinct values: dates).
    A seen value costs one dictionary lookup, in C: no Python call."""
    return _Converted(convert).__getitem__


class _Converted(dict[Any, Any]):
    def __init__(self, convert: Callable[[Any], Any]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, value: Any) -> Any:
        self[value] = out = self.convert(value)
        return out


def close_history(session: so.Session, since: date, until: date, *,
                  owner_ids: Iterable[int] | None = None) -> dict[str, list[date | None]]:
    """Each deal's close date in the snapshots from ``since`` to before ``until``, oldest first, by ref:
    only for the deals whose close date took two values or more in them (no other deal can have
    been pushed out twice, counting its close date now)."""
    snap = DealSnapshot
    within = sa.and_(snap.week >= since, snap.week < until)
    moved = (sa.select(snap.deal_id).where(within).group_by(snap.deal_id)
             .having(sa.func.count(sa.distinct(snap.close_date)) >= 2))
    q = (sa.select(Deal.ref, snap.close_date).join(Deal, Deal.id == snap.deal_id)
         .where(within, snap.deal_id.in_(moved)))
    conn = session.connection()
    if owner_ids is not None:
        q = q.where(among(Deal.owner_id, list(owner_ids), conn.dialect))
    out: dict[str, list[date | None]] = defaultdict(list)
    for ref, close in conn.execute(q.order_by(snap.week)):
        out[ref].append(close)
    return dict(out)


def history(session: so.Session, deal_id: int) -> list[HistoryLine]:
    """A deal's stage changes, oldest first, with who made each."""
    rows = session.execute(
        sa.select(StageChange, Person.name)
        .outerjoin(Person, Person.id == StageChange.changed_by_id)
        .where(StageChange.deal_id == deal_id)
        .order_by(StageChange.changed_at, StageChange.id)
    ).all()
    return [HistoryLine(c.changed_at, c.from_stage, c.to_stage, name or "", c.reason, c.gate_overridden)
            for c, name in rows]


def transitions(session: so.Session, deal_ids: Iterable[int] | None = None) -> list[Transition]:
    """The stage history as domain transitions, keyed by deal ref."""
    q = sa.select(Deal.ref, StageChange.from_stage, StageChange.to_stage, StageChange.changed_at).join(
        Deal, Deal.id == StageChange.deal_id
    )
    if deal_ids is not None:
        q = q.where(StageChange.deal_id.in_(list(deal_ids)))
    return [Transition(*row) for row in session.execute(q.order_by(StageChange.changed_at, StageChange.id))]


def load_rates(session: so.Session) -> Rates:
    """Every stored exchange rate, ready to convert with."""
    return Rates(Rate(r.valid_from, r.from_currency, r.to_currency, r.rate)
                 for r in session.scalars(sa.select(ExchangeRate)))
