"""``coach targets import``: revenue targets per person and period, as CSV.

Like the other imports, the whole file is checked first; every problem is
reported with its line, and nothing is written unless the file is valid.
A row for a person and period that already has a target replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy.orm as so

from bot.db import repo
from bot.domain.plan import Period, parse_period
from bot.domain.values import is_currency, parse_amount
from bot.imports.csvfile import ImportRefused, Problem, Row, read_rows
from bot.services import targets

COLUMNS = ("email", "period", "amount", "currency")


@dataclass(frozen=True)
class TargetRow:
    line: int
    email: str
    period: Period
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class TargetImportResult:
    created: int
    updated: int


def check_targets(rows: list[Row], people: set[str]) -> tuple[list[TargetRow], list[Problem]]:
    out: list[TargetRow] = []
    problems: list[Problem] = []
    first: dict[tuple[str, str], int] = {}
    for row in rows:
        bad = len(problems)
        email = row["email"].lower()
        if not email:
            problems.append(Problem(row.line, "email is empty"))
        elif email not in people:
            problems.append(Problem(row.line, f"unknown person {email} (not in the org: `coach org import` first)"))
        try:
            period = parse_period(row["period"])
        except ValueError as e:
            problems.append(Problem(row.line, str(e)))
            period = None
        amount = parse_amount(row["amount"])
        if amount is None:
            problems.append(Problem(row.line, f"amount '{row['amount']}' is not a number of at least 0 "
                                    "(e.g. 120000 or 120,000.50)"))
        currency = row["currency"].upper()
        if not is_currency(currency):
            problems.append(Problem(row.line, f"currency '{row['currency']}' should be a three-letter code like EUR"))
        if period is not None and email:
            key = (email, period.label)
            if key in first:
                problems.append(Problem(row.line, f"a second target for {email} in {period.label} "
                                        f"(first on line {first[key]})"))
            first.setdefault(key, row.line)
        if len(problems) == bad and period is not None and amount is not None:
            out.append(TargetRow(row.line, email, period, amount, currency))
    return out, problems


def import_targets(session: so.Session, path: Path, *, now: datetime) -> TargetImportResult:
    """Check the whole file, then write every row; ImportRefused (nothing written) on any problem."""
    rows, problems = read_rows(path, COLUMNS)
    people = repo.people_by_email(session)
    checked, more = check_targets(rows, set(people)) if not problems else ([], [])
    problems += more
    if problems:
        raise ImportRefused(path.name, problems)
    created = updated = 0
    for r in checked:
        if targets.set_target(session, people[r.email], r.period, r.amount, r.currency, by=None, now=now):
            created += 1
        else:
            updated += 1
    return TargetImportResult(created, updated)
