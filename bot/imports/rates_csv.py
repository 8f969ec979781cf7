"""``coach rates import``: the company's dated exchange rates, checked line by line.

Columns ``date,from,to,rate``: from ``date`` on, one ``from`` is worth
``rate`` ``to`` (``2026-11-01,EUR,USD,1.08``). Every problem is reported with
its line and nothing is written unless the whole file is valid; a rate
already stored for the same day and pair is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db.models import ExchangeRate
from bot.domain.rates import Rate
from bot.domain.values import is_currency
from bot.imports.csvfile import ImportRefused, Problem, Row, read_rows

COLUMNS = ("date", "from", "to", "rate")


@dataclass(frozen=True)
class RatesImportResult:
    created: int
    replaced: int


def check_rates(rows: list[Row]) -> tuple[list[Rate], list[Problem]]:
    """The rates in ``rows``, and every problem found, by line."""
    out: list[Rate] = []
    problems: list[Problem] = []
    seen: dict[tuple[date, str, str], int] = {}
    for row in rows:
        bad: list[str] = []
        try:
            day = date.fromisoformat(row["date"])
        except ValueError:
            bad.append(f"date '{row['date']}' is not a date (use YYYY-MM-DD)")
        frm, to = row["from"].upper(), row["to"].upper()
        for name, code in (("from", frm), ("to", to)):
            if not is_currency(code):
                bad.append(f"{name} '{row[name]}' is not a currency code (three letters, e.g. EUR)")
        if is_currency(frm) and frm == to:
            bad.append(f"from and to are both {frm}")
        try:
            rate = Decimal(row["rate"].replace(",", ""))
            if not rate.is_finite() or rate <= 0:
                raise InvalidOperation
        except InvalidOperation:
            bad.append(f"rate '{row['rate']}' is not a positive number (e.g. 1.08)")
        if bad:
            problems += [Problem(row.line, b) for b in bad]
            continue
        key = (day, frm, to)
        if key in seen:
            problems.append(Problem(row.line, f"{frm}→{to} on {day} is already given on line {seen[key]}"))
            continue
        seen[key] = row.line
        out.append(Rate(day, frm, to, rate))
    return out, problems


def import_rates(session: so.Session, path: Path, *, now: datetime) -> RatesImportResult:
    """Store every rate in ``path``; raises ImportRefused and writes nothing on any problem."""
    rows, problems = read_rows(path, COLUMNS)
    rates, more = check_rates(rows)
    problems += more
    if not problems and not rates:
        problems.append(Problem(2, "no rates in the file"))
    if problems:
        raise ImportRefused(str(path), problems)
    existing = {(r.valid_from, r.from_currency, r.to_currency): r for r in session.scalars(sa.select(ExchangeRate))}
    created = replaced = 0
    for r in rates:
        row = existing.get((r.valid_from, r.frm, r.to))
        if row is None:
            session.add(ExchangeRate(valid_from=r.valid_from, from_currency=r.frm, to_currency=r.to, rate=r.rate,
                                     imported_at=now))
            created += 1
        else:
            row.rate, row.imported_at = r.rate, now
            replaced += 1
    session.flush()
    return RatesImportResult(created, replaced)

