"""``coach deals import`` / ``export``: deals as CSV, matched by ref, updated in place."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import Deal, Person
from bot.domain.playbook import LOST, Playbook
from bot.domain.values import is_currency, parse_amount, parse_date
from bot.imports.csvfile import ImportRefused, Problem, Row, csv_writer, read_rows
from bot.services.deals import NewDeal, create_deal, move_deal

COLUMNS = ("ref", "name", "account", "owner_email", "amount", "currency", "stage", "close_date", "next_step")
_REF = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-\d+$")


@dataclass(frozen=True)
class DealRow:
    line: int
    ref: str | None
    name: str
    account: str
    owner_email: str
    amount: Decimal
    currency: str
    stage: str
    close_date: date | None
    next_step: str


@dataclass(frozen=True)
class DealImportResult:
    created: int
    updated: int


def check_deals(
    rows: list[Row], playbook: Playbook, owners: set[str], default_currency: str = "USD"
) -> tuple[list[DealRow], list[Problem]]:
    problems: list[Problem] = []
    deals: list[DealRow] = []
    first_line: dict[str, int] = {}
    stages = ", ".join((*playbook.keys, LOST))
    for row in rows:
        bad = len(problems)
        ref = row["ref"].upper() or None
        if ref and not _REF.match(ref):
            problems.append(Problem(row.line, f"ref '{row['ref']}' should look like D-17"))
        elif ref and ref in first_line:
            problems.append(Problem(row.line, f"duplicate ref {ref} (first on line {first_line[ref]})"))
        elif ref:
            first_line[ref] = row.line
        if not row["name"]:
            problems.append(Problem(row.line, "name is empty"))
        owner = row["owner_email"].lower()
        if not owner:
            problems.append(Problem(row.line, "owner_email is empty"))
        elif owner not in owners:
            problems.append(Problem(row.line, f"unknown owner {owner} (import the org first: coach org import)"))
        amount = parse_amount(row["amount"] or "0")
        if amount is None:
            problems.append(Problem(row.line, f"amount '{row['amount']}' is not a non-negative number like 12000.50"))
        currency = (row["currency"] or default_currency).upper()
        if not is_currency(currency):
            problems.append(Problem(row.line, f"currency '{row['currency']}' is not a three-letter code like EUR"))
        stage = row["stage"].lower() or playbook.first.key
        if not playbook.has_stage(stage):
            problems.append(Problem(row.line, f"unknown stage '{row['stage']}' (stages: {stages})"))
        close = parse_date(row["close_date"]) if row["close_date"] else None
        if row["close_date"] and close is None:
            problems.append(Problem(row.line, f"close_date '{row['close_date']}' is not a date like 2026-03-31"))
        if len(problems) == bad:
            assert amount is not None
            deals.append(
                DealRow(row.line, ref, row["name"], row["account"], owner, amount, currency, stage, close,
                        row["next_step"])
            )
    return deals, problems


def import_deals(
    session: so.Session, path: Path, playbook: Playbook, *, now: datetime, by: Person | None = None
) -> DealImportResult:
    """Create or update every deal in ``path``; raises ImportRefused and writes nothing on any problem."""
    rows, problems = read_rows(path, COLUMNS)
    people = repo.people_by_email(session)
    deals, more = check_deals(rows, playbook, set(people))
    problems += more
    if problems:
        raise ImportRefused(str(path), problems)
    if not deals:
        raise ImportRefused(str(path), [Problem(2, "no deals in the file")])

    existing = {d.ref: d for d in session.scalars(sa.select(Deal).where(Deal.ref.in_([r.ref for r in deals if r.ref])))}
    fresh = iter(repo.next_ref_numbers(session, sum(1 for r in deals if not r.ref), [r.ref for r in deals if r.ref]))
    created = updated = 0
    reason = f"imported from {path.name}"
    for r in deals:
        deal = existing.get(r.ref or "")
        if deal is None:
            new = NewDeal(r.name, r.account, people[r.owner_email], r.amount, r.currency, r.stage, r.close_date,
                          r.next_step, ref=r.ref or next(fresh))
            create_deal(session, new, playbook, now=now, by=by)
            created += 1
            continue
        updated += 1
        deal.name, deal.account, deal.owner = r.name, r.account, people[r.owner_email]
        deal.amount, deal.currency, deal.close_date, deal.next_step = r.amount, r.currency, r.close_date, r.next_step
        deal.updated_at = now
        if deal.stage != r.stage:
            # The file is the source of truth here; a forward move past unmet criteria is kept as an override.
            move_deal(session, deal, r.stage, playbook, now=now, by=by, reason=reason, override=True)
    session.flush()
    return DealImportResult(created, updated)


def _plain(amount: Decimal) -> str:
    """``20000`` for whole amounts, ``1500.50`` otherwise: what a person would type."""
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"


def export_deals(deals: Iterable[Deal], out: TextIO) -> int:
    writer = csv_writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for d in sorted(deals, key=lambda d: (repo.ref_number(d.ref) or 0, d.ref)):
        writer.writerow([
            d.ref, d.name, d.account, d.owner.email, _plain(d.amount), d.currency, d.stage,
            d.close_date.isoformat() if d.close_date else "", d.next_step,
        ])
        count += 1
    return count
