"""``coach deals import FILE --mapping MAP.toml`` / ``--preset NAME`` and ``coach deals export --mapping``:
a CRM's own export, read as it is, with its dates, keyed by the CRM's id.

Reading builds a plan (what would be added, updated, moved, closed) without writing; applying it
writes the deals and their stage history dated as the export dates them. Any problem refuses the
whole file, so a failed import writes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import Deal, Person, StageChange
from bot.domain.playbook import LOST, Playbook
from bot.domain.values import is_currency, parse_amount
from bot.imports.csvfile import (
    ImportRefused,
    Problem,
    UnreadableCsv,
    clean_cell,
    csv_writer,
    fitting,
    other_delimiter,
)
from bot.imports.csvfile import records as csv_records
from bot.imports.mapping import Mapping
from bot.services.deals import record_crm_move

NOT_IN_EXPORT = "not in CRM export"
_SYMBOLS = "$€£¥ \u00a0"


@dataclass(frozen=True)
class CrmRow:
    """One row of the export, checked and in our terms."""

    line: int
    crm_id: str
    name: str
    account: str | None  # None: the file has no such column (an update keeps ours)
    owner: Person
    amount: Decimal | None
    currency: str | None
    stage: str  # where the deal is now (won, lost or open)
    close_date: date | None
    next_step: str | None
    created: datetime | None
    path: list[tuple[str, datetime]]  # the stages it went through, with when it entered each, to ``stage``
    stage_since: datetime | None  # when the export says it entered ``stage`` (None: it does not say)
    lost_reason: str


@dataclass(frozen=True)
class Change:
    deal: Deal
    row: CrmRow
    fields: list[str]  # "name: 'a' -> 'b'", ...


@dataclass(frozen=True)
class Moved:
    deal: Deal
    row: CrmRow
    from_stage: str
    to_stage: str
    at: datetime


@dataclass
class CrmPlan:
    """What importing the file would do."""

    source: str
    added: list[CrmRow] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    moved: list[Moved] = field(default_factory=list)
    unchanged: int = 0
    missing: list[Deal] = field(default_factory=list)  # open deals with a crm_id the file lacks (--full)
    ignored: list[str] = field(default_factory=list)  # the file's columns the mapping does not name
    absent: list[str] = field(default_factory=list)  # optional columns the mapping names that the file lacks
    undated: int = 0  # added rows with no date at all: dated at the import
    history_rows: int = 0  # changes read from a separate stage-history file
    history_unmatched: int = 0  # ... for ids the export does not have (left out)
    delimiter: str = ","

    closing: tuple[str, ...] = ()  # the closed stages (won, lost): a move there is a close

    def summary(self, *, full: bool, close_missing: bool) -> str:
        closing = sum(1 for m in self.moved if m.to_stage in self.closing)
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated",
                 f"{len(self.moved) - closing} moved", f"{closing} closed", f"{self.unchanged} unchanged"]
        if full:
            parts.append(f"{len(self.missing)} missing from the file"
                         + (" (closed as lost)" if close_missing else ""))
        return ", ".join(parts)

    def lines(self, playbook: Playbook, *, full: bool, close_missing: bool) -> list[str]:
        """Each change, one a line (for --dry-run and the import's report)."""
        out = [f"  added   {r.crm_id} {r.name!r} in {r.stage}" for r in self.added]
        out += [f"  updated {c.deal.ref} ({c.row.crm_id}): {'; '.join(c.fields)}" for c in self.updated]
        out += [f"  {'closed ' if m.to_stage in self.closing else 'moved  '} {m.deal.ref} ({m.row.crm_id}): "
                f"{m.from_stage} → {m.to_stage} on {m.at.date().isoformat()}" for m in self.moved]
        if full:
            verb = "closed as lost" if close_missing else "not in the file (--close-missing closes it as lost)"
            out += [f"  missing {d.ref} ({d.crm_id}) {d.name!r} in {d.stage}: {verb}" for d in self.missing]
        return out

    def notes(self) -> list[str]:
        out = []
        if self.delimiter != ",":
            out.append(f"this file uses {'a tab' if self.delimiter == chr(9) else repr(self.delimiter)} "
                       "between fields; read as such")
        if self.ignored:
            out.append(f"ignored {len(self.ignored)} column(s) the mapping does not name: {', '.join(self.ignored)}")
        if self.absent:
            out.append(f"the file has no column {', '.join(self.absent)} (named in the mapping; left out)")
        if self.undated:
            out.append(f"{self.undated} new deal(s) have no date in the file: dated at this import")
        if self.history_rows:
            out.append(f"{self.history_rows} stage change(s) read from the history file"
                       + (f"; {self.history_unmatched} for ids not in the export, left out"
                          if self.history_unmatched else ""))
        return out


# --- reading ---------------------------------------------------------------------------------


def read_export(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportRefused(str(path), [Problem(0, "file not found (check the path)")]) from None
    except IsADirectoryError:
        raise ImportRefused(str(path), [Problem(0, "is a folder, not a CSV file")]) from None
    except UnicodeDecodeError as e:
        raise ImportRefused(str(path), [Problem(0, f"not UTF-8 text ({e.reason} at byte {e.start}); "
                                                   "save the file as UTF-8 CSV")]) from None
    except OSError as e:
        raise ImportRefused(str(path), [Problem(0, f"cannot be read: {e.strerror}")]) from None


def _delimiter(first_line: str, headings: tuple[str, ...]) -> str:
    """A comma when the header, split at commas, names one of ``headings``; else ``;`` or a tab if the
    line is split by those (a European Excel export), else a comma."""
    if any(h.lower() in {c.strip().lower() for c in first_line.split(",")} for h in headings):
        return ","
    return other_delimiter(first_line) or ","


def _records(source: str, text: str, delimiter: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        rows = list(csv_records(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))
    except UnreadableCsv as e:
        raise ImportRefused(source, [e.problem()]) from e
    if not rows:
        return [], []
    return [clean_cell(h).strip() for h in rows[0][1]], rows[1:]


class _Owners:
    def __init__(self, session: so.Session, how: str) -> None:
        self.how = how
        self.by_key: dict[str, list[Person]] = {}
        for p in session.scalars(sa.select(Person)):
            key = (p.email if how == "email" else " ".join(p.name.split())).lower()
            self.by_key.setdefault(key, []).append(p)

    def find(self, text: str) -> tuple[Person | None, str]:
        key = " ".join(text.split()).lower()
        if not key:
            return None, "the owner is empty"
        found = self.by_key.get(key, [])
        if len(found) == 1:
            return found[0], ""
        if len(found) > 1:
            return None, (f"owner {text!r} matches {len(found)} people: "
                          f"{', '.join(sorted(p.email for p in found))}; give owners by email (owners = \"email\")")
        hint = "import the org first: coach org import" if self.how == "email" else \
            "check the name against `coach org show`, or map an email column and set owners = \"email\""
        return None, f"unknown owner {text!r} ({hint})"


def _amount(text: str, mapping: Mapping) -> Decimal | None:
    t = text.strip().strip(_SYMBOLS)
    if mapping.decimal == ",":
        t = t.replace(".", "").replace(" ", "").replace(",", ".")
    return parse_amount(t.replace(" ", "").replace("\u00a0", "") or "0")


def check_export(session: so.Session, text: str, source: str, mapping: Mapping, playbook: Playbook, *,
                 now: datetime) -> tuple[list[CrmRow], CrmPlan]:
    """The file's rows in our terms, and the plan's notes about its columns; raises ImportRefused."""
    mapping.check(playbook)
    first_line = text.split("\n", 1)[0]
    delimiter = _delimiter(first_line, (mapping.columns["crm_id"], mapping.columns["name"]))
    header, records = _records(source, text, delimiter)
    plan = CrmPlan(source, delimiter=delimiter, closing=(playbook.won.key, LOST))
    if not header:
        raise ImportRefused(source, [Problem(1, "the file is empty; the first line must be the export's header")])
    index = {h.lower(): i for i, h in enumerate(header)}
    named = {**{k: v for k, v in mapping.columns.items()}, **{f"entered {k}": v for k, v in mapping.entered.items()}}
    missing = [f"{v!r} ({k})" for k, v in named.items() if k in ("crm_id", "name", "owner", "stage")
               and v.lower() not in index]
    if missing:
        hint = ""
        d = other_delimiter(first_line)
        if d and d != delimiter:
            hint = f"; this file uses {'a tab' if d == chr(9) else repr(d)} between fields"
        raise ImportRefused(source, [Problem(1, f"the file has no column {', '.join(missing)} that mapping "
                                                f"{mapping.name} needs (its columns: {', '.join(header[:12])}"
                                                f"{', …' if len(header) > 12 else ''}){hint}")])
    plan.absent = [v for k, v in named.items() if v.lower() not in index]
    used = {v.lower() for v in named.values()}
    plan.ignored = [h for h in header if h.lower() not in used and h]

    def cell(values: list[str], key: str) -> str | None:
        col = named.get(key)
        if col is None or col.lower() not in index:
            return None
        return clean_cell(values[index[col.lower()]])

    owners = _Owners(session, mapping.owners)
    problems: list[Problem] = []
    rows: list[CrmRow] = []
    first_line_of: dict[str, int] = {}
    known_names = ", ".join(mapping.stage_names.values())
    for line, values in fitting(records, len(header), problems):
        bad = len(problems)

        def date_of(key: str) -> datetime | None:
            text = cell(values, key)  # noqa: B023 - used within this iteration only
            if not text:
                return None
            when = mapping.parse_when(text)
            if when is None:
                problems.append(Problem(line, f"{named[key]} {text!r} is not a date in the format "  # noqa: B023
                                              f"{' or '.join(mapping.date_formats)} (set date_format in the mapping)"))
            return when

        crm_id = cell(values, "crm_id") or ""
        if not crm_id:
            problems.append(Problem(line, f"{named['crm_id']} is empty: every row needs the CRM's id"))
        elif crm_id in first_line_of:
            problems.append(Problem(line, f"{named['crm_id']} {crm_id} is repeated (first on line "
                                          f"{first_line_of[crm_id]})"))
        else:
            first_line_of[crm_id] = line
        name = cell(values, "name") or ""
        if not name:
            problems.append(Problem(line, f"{named['name']} is empty"))
        owner, why = owners.find(cell(values, "owner") or "")
        if owner is None:
            problems.append(Problem(line, why))
        amount_text = cell(values, "amount")
        amount = None if amount_text is None else _amount(amount_text, mapping)
        if amount_text is not None and amount is None:
            problems.append(Problem(line, f"{named['amount']} {amount_text!r} is not a non-negative amount "
                                          "like 12000.50" + (" (set decimal = \",\" for 1.234,56)"
                                                             if "," in amount_text else "")))
        currency_text = cell(values, "currency")
        currency = (currency_text or mapping.currency).upper() if currency_text is not None or amount is not None \
            else None
        if currency is not None and not is_currency(currency):
            problems.append(Problem(line, f"currency {currency_text!r} is not a three-letter code like EUR"))
        stage_text = cell(values, "stage") or ""
        status_text = cell(values, "status")
        status = mapping.status.get(status_text.strip().lower()) if status_text else None
        if status_text is not None and status_text and status is None:
            problems.append(Problem(line, f"{named['status']} {status_text!r} is not in the mapping's [status] "
                                          f"({', '.join(mapping.status)})"))
        stage = mapping.stage_key(stage_text) if stage_text else None
        if stage_text and stage is None:
            problems.append(Problem(line, f"stage {stage_text!r} is not in the mapping's [stages] (known: "
                                          f"{known_names}); add a line \"{stage_text}\" = \"<our stage>\""))
        elif not stage_text and status not in ("won", "lost"):
            problems.append(Problem(line, f"{named['stage']} is empty"))
        lost_at_stage: str | None = None
        if status == "won":
            final = playbook.won.key
        elif status == "lost":
            final, lost_at_stage = LOST, stage
        else:
            final = stage or playbook.first.key
            if status == "open" and stage is not None and playbook.is_closed(stage):
                problems.append(Problem(line, f"status {status_text!r} is open but stage {stage_text!r} is closed"))
        lost_text = cell(values, "lost_stage")
        if lost_text:
            lost_at_stage = mapping.stage_key(lost_text)
            if lost_at_stage is None:
                problems.append(Problem(line, f"stage lost at {lost_text!r} is not in the mapping's [stages]"))
        if lost_at_stage is not None and playbook.is_closed(lost_at_stage):
            lost_at_stage = None
        close_text = cell(values, "close_date")
        close_day = None
        if close_text:
            close_day = mapping.parse_day(close_text)
            if close_day is None:
                problems.append(Problem(line, f"{named['close_date']} {close_text!r} is not a date in the format "
                                              f"{' or '.join(mapping.date_formats)} (set date_format in the mapping)"))
        created = date_of("created")
        entered = {k: w for k in mapping.entered if (w := date_of(f"entered {k}")) is not None}
        closed_at = date_of("closed_at") or (date_of("won_at") if final == playbook.won.key else None) \
            or (date_of("lost_at") if final == LOST else None)
        if len(problems) > bad or owner is None:
            continue
        close_start = mapping.day_start(close_day) if close_day else None
        path = _path(playbook, final, created=created, entered=entered, closed_at=closed_at, close_day=close_start,
                     lost_at=lost_at_stage)
        since = (closed_at or entered.get(final) or close_start) if playbook.is_closed(final) else entered.get(final)
        rows.append(CrmRow(line, crm_id, name, cell(values, "account"), owner, amount, currency, final, close_day,
                           cell(values, "next_step"), created, path, since, cell(values, "lost_reason") or ""))
    if problems:
        raise ImportRefused(source, problems)
    if not rows:
        raise ImportRefused(source, [Problem(2, "no deals in the file")])
    return rows, plan


def _path(playbook: Playbook, final: str, *, created: datetime | None, entered: dict[str, datetime],
          closed_at: datetime | None, close_day: datetime | None, lost_at: str | None) -> list[tuple[str, datetime]]:
    """The stages a deal went through, each with when it entered it, ending in ``final``.

    Only what the export says: the stages it has a "date entered" for, in time order; the stage it was
    lost at; the stage it is in. A closed deal closes on its own date (its close time, else the date it
    entered won or lost, else its close date). The first entry is at its creation.
    """
    won = playbook.won.key
    closed = final in (won, LOST)
    opens = sorted(((w, playbook.index(k), k) for k, w in entered.items() if not playbook.is_closed(k)))
    steps: list[tuple[str, datetime | None]] = [(k, w) for w, _, k in opens]
    if lost_at is not None and (not steps or steps[-1][0] != lost_at):
        steps.append((lost_at, None))
    if not closed and (not steps or steps[-1][0] != final):
        steps.append((final, None))
    close = (closed_at or entered.get(final) or close_day) if closed else None
    start = created or (steps[0][1] if steps and steps[0][1] else None) or close
    out: list[tuple[str, datetime]] = []
    last: datetime | None = start
    for i, (stage, when) in enumerate(steps):
        at = start if i == 0 else (when or last)
        if at is not None and last is not None and at < last:
            at = last
        if at is None:
            break
        out.append((stage, at))
        last = at
    if closed:
        at = close or last
        if at is not None:
            if last is not None and at < last:
                at = last
            out.append((final, at))
    return out


# --- a separate stage-history file -------------------------------------------------------------


Change_ = tuple[str | None, str, datetime, str]  # (from, to, at, who): stage keys


def check_history(text: str, source: str, mapping: Mapping, playbook: Playbook) -> dict[str, list[Change_]]:
    """The stage changes in a history file (one row per change: id, from, to, at, who), by CRM id;
    raises ImportRefused."""
    cols = mapping.history
    delimiter = _delimiter(text.split("\n", 1)[0], (cols["crm_id"],))
    header, records = _records(source, text, delimiter)
    index = {h.lower(): i for i, h in enumerate(header)}
    missing = [f"{v!r} ({k})" for k, v in cols.items() if k != "who" and v.lower() not in index]
    if missing:
        raise ImportRefused(source, [Problem(1, f"the history file has no column {', '.join(missing)} "
                                                f"(its columns: {', '.join(header[:12])}); name yours under "
                                                "[history] in the mapping")])
    problems: list[Problem] = []
    out: dict[str, list[Change_]] = {}
    for line, values in fitting(records, len(header), problems):

        def get(key: str, values: list[str] = values) -> str:
            col = cols[key].lower()
            return clean_cell(values[index[col]]) if col in index else ""

        crm_id, frm, to, at_text = get("crm_id"), get("from"), get("to"), get("at")
        bad = len(problems)
        if not crm_id:
            problems.append(Problem(line, f"{cols['crm_id']} is empty"))
        keys = []
        for text_ in (frm, to):
            key = mapping.stage_key(text_) if text_ else None
            if text_ and key is None:
                problems.append(Problem(line, f"stage {text_!r} is not in the mapping's [stages]"))
            keys.append(key)
        if not to:
            problems.append(Problem(line, f"{cols['to']} is empty"))
        at = mapping.parse_when(at_text) if at_text else None
        if at is None:
            problems.append(Problem(line, f"{cols['at']} {at_text!r} is not a date in the format "
                                          f"{' or '.join(mapping.date_formats)}"))
        if len(problems) == bad and keys[1] is not None and at is not None:
            out.setdefault(crm_id, []).append((keys[0], keys[1], at, get("who")))
    if problems:
        raise ImportRefused(source, problems)
    return out


def with_history(row: CrmRow, changes: list[Change_], playbook: Playbook) -> CrmRow:
    """``row`` with its path through the funnel taken from its stage changes (in time order), ending in
    the stage the export has it in."""
    changes = sorted(changes, key=lambda c: c[2])
    start = row.created or changes[0][2]
    first = changes[0][0] or changes[0][1]
    path: list[tuple[str, datetime]] = [(first, start)]
    for _frm, to, at, _who in changes:
        if to != path[-1][0]:
            path.append((to, max(at, path[-1][1])))
    if path[-1][0] != row.stage:
        path.append((row.stage, max(row.stage_since or path[-1][1], path[-1][1])))
    since = path[-1][1] if path[-1][0] == row.stage else row.stage_since
    return replace(row, path=path, stage_since=since)


# --- planning and applying ---------------------------------------------------------------------


def plan_import(session: so.Session, rows: list[CrmRow], plan: CrmPlan, playbook: Playbook, *, now: datetime,
                full: bool, accept_renames: bool) -> CrmPlan:
    """Fill ``plan`` with what importing ``rows`` would do; raises ImportRefused for a mis-keyed file."""
    ids = [r.crm_id for r in rows]
    existing: dict[str, Deal] = {}
    for chunk in range(0, len(ids), 500):
        for d in session.scalars(sa.select(Deal).where(Deal.crm_id.in_(ids[chunk:chunk + 500]))
                                 .options(so.selectinload(Deal.owner))):
            assert d.crm_id is not None
            existing[d.crm_id] = d
    problems: list[Problem] = []
    for r in rows:
        deal = existing.get(r.crm_id)
        if deal is None:
            plan.added.append(r)
            if not r.path:
                plan.undated += 1
            continue
        fields = _changes(deal, r)
        renamed = deal.name != r.name
        if renamed and deal.owner_id != r.owner.id and not accept_renames:
            problems.append(Problem(r.line, f"{r.crm_id} ({deal.ref}) would change both owner ({deal.owner.email} → "
                                            f"{r.owner.email}) and name ({deal.name!r} → {r.name!r}): is the file "
                                            "keyed by another id? If these are real, import with --accept-renames"))
        if fields:
            plan.updated.append(Change(deal, r, fields))
        if deal.stage != r.stage:
            at = r.stage_since or now  # when the export says; else the import's moment
            plan.moved.append(Moved(deal, r, deal.stage, r.stage, max(at, deal.stage_entered_at)))
        if not fields and deal.stage == r.stage:
            plan.unchanged += 1
    if problems:
        raise ImportRefused(plan.source, problems)
    if full:
        seen = set(ids)
        q = sa.select(Deal).where(Deal.crm_id.is_not(None), Deal.stage.not_in([playbook.won.key, LOST]))
        plan.missing = sorted((d for d in session.scalars(q) if d.crm_id not in seen),
                              key=lambda d: (repo.ref_number(d.ref) or 0, d.ref))
    return plan


def _changes(deal: Deal, r: CrmRow) -> list[str]:
    out = []
    pairs: list[tuple[str, object, object]] = [("name", deal.name, r.name), ("owner", deal.owner.email, r.owner.email)]
    if r.account is not None:
        pairs.append(("account", deal.account, r.account))
    if r.amount is not None:
        pairs.append(("amount", deal.amount, r.amount))
    if r.currency is not None:
        pairs.append(("currency", deal.currency, r.currency))
    if r.next_step is not None:
        pairs.append(("next step", deal.next_step, r.next_step))
    pairs.append(("close date", deal.close_date, r.close_date))
    for what, ours, theirs in pairs:
        if ours != theirs:
            out.append(f"{what} {ours!s} → {theirs!s}" if what in ("amount", "close date", "currency")
                       else f"{what} {ours!r} → {theirs!r}")
    return out


def apply_plan(session: so.Session, plan: CrmPlan, playbook: Playbook, *, now: datetime, by: Person | None,
               close_missing: bool) -> None:
    reason = f"CRM export {Path(plan.source).name}"
    fresh = iter(repo.next_ref_numbers(session, len(plan.added)))
    for r in plan.added:
        _add(session, r, next(fresh), playbook, now=now, by=by, reason=reason)
    for c in plan.updated:
        d, r = c.deal, c.row
        d.name, d.owner, d.close_date = r.name, r.owner, r.close_date
        if r.account is not None:
            d.account = r.account
        if r.amount is not None:
            d.amount = r.amount
        if r.currency is not None:
            d.currency = r.currency
        if r.next_step is not None:
            d.next_step = r.next_step
        d.updated_at = now
    for m in plan.moved:
        record_crm_move(m.deal, m.to_stage, playbook, at=m.at, by=by, reason=reason, lost_reason=m.row.lost_reason)
        m.deal.updated_at = now
    if close_missing:
        for d in plan.missing:
            record_crm_move(d, LOST, playbook, at=now, by=by, reason=NOT_IN_EXPORT, lost_reason=NOT_IN_EXPORT)
            d.updated_at = now
    session.flush()


def _add(session: so.Session, r: CrmRow, ref: str, playbook: Playbook, *, now: datetime, by: Person | None,
         reason: str) -> Deal:
    path = r.path or [(r.stage, now)]
    created = min(r.created or path[0][1], path[0][1])
    final, entered = path[-1]
    deal = Deal(ref=ref, crm_id=r.crm_id, name=r.name, account=r.account or "", owner=r.owner,
                amount=r.amount if r.amount is not None else Decimal(0), currency=r.currency or "USD",
                close_date=r.close_date, stage=final, next_step=r.next_step or "",
                forecast="closed" if playbook.is_closed(final) else playbook.stage(final).forecast.value,
                lost_reason=(r.lost_reason or "lost in the CRM") if final == LOST else "",
                stage_entered_at=entered, created_at=created, updated_at=now)
    previous: str | None = None
    for i, (stage, at) in enumerate(path):
        deal.history.append(StageChange(from_stage=previous, to_stage=stage, changed_at=created if i == 0 else at,
                                        changed_by=by, reason=reason, gate_overridden=False))
        previous = stage
    session.add(deal)
    return deal


def import_crm(session: so.Session, path: Path, mapping: Mapping, playbook: Playbook, *, now: datetime,
               by: Person | None = None, dry_run: bool = False, full: bool = False, close_missing: bool = False,
               accept_renames: bool = False, history: Path | None = None) -> CrmPlan:
    """Import the CRM export at ``path`` through ``mapping`` (nothing written when ``dry_run``); ``history``:
    a separate stage-history file whose changes give each new deal its path through the funnel."""
    text = read_export(path)
    rows, plan = check_export(session, text, str(path), mapping, playbook, now=now)
    if history is not None:
        changes = check_history(read_export(history), str(history), mapping, playbook)
        ids = {r.crm_id for r in rows}
        plan.history_rows = sum(len(v) for v in changes.values())
        plan.history_unmatched = sum(len(v) for k, v in changes.items() if k not in ids)
        rows = [with_history(r, changes[r.crm_id], playbook) if r.crm_id in changes else r for r in rows]
    plan_import(session, rows, plan, playbook, now=now, full=full or close_missing, accept_renames=accept_renames)
    if not dry_run:
        apply_plan(session, plan, playbook, now=now, by=by, close_missing=close_missing)
    return plan


# --- writing back ------------------------------------------------------------------------------


def export_crm(session: so.Session, deals: Iterable[Deal], out: TextIO, mapping: Mapping, playbook: Playbook) -> int:
    """Every deal in the CRM's columns, stage names and ids (deals without a crm_id get an empty id)."""
    cols = list(mapping.columns)
    entered_cols = list(mapping.entered.items())
    writer = csv_writer(out)
    writer.writerow([mapping.columns[k] for k in cols] + [c for _, c in entered_cols])
    status_name = {v: k for k, v in reversed(list(mapping.status.items()))}
    raw_status = {k.lower(): k for k in mapping.status}
    count = 0
    for d in sorted(deals, key=lambda d: (repo.ref_number(d.ref) or 0, d.ref)):
        closed = playbook.is_closed(d.stage)
        before = next((h.from_stage for h in reversed(d.history) if h.to_stage == d.stage and h.from_stage), None)
        shown_stage = d.stage
        if "status" in mapping.columns and closed:
            shown_stage = before or d.stage
        values = {
            "crm_id": d.crm_id or "", "name": d.name, "account": d.account,
            "owner": d.owner.email if mapping.owners == "email" else d.owner.name,
            "amount": _plain(d.amount), "currency": d.currency,
            "stage": mapping.export_stage(shown_stage) or playbook.stage_name(shown_stage),
            "close_date": mapping.format_day(d.close_date) if d.close_date else "",
            "created": mapping.format_when(d.created_at), "next_step": d.next_step,
            "status": raw_status.get(status_name.get("won" if d.stage == playbook.won.key else
                                                     "lost" if d.stage == LOST else "open", ""), ""),
            "closed_at": mapping.format_when(d.stage_entered_at) if closed else "",
            "won_at": mapping.format_when(d.stage_entered_at) if d.stage == playbook.won.key else "",
            "lost_at": mapping.format_when(d.stage_entered_at) if d.stage == LOST else "",
            "lost_reason": d.lost_reason if d.stage == LOST else "",
            "lost_stage": (mapping.export_stage(before) or "") if d.stage == LOST and before else "",
        }
        entered_at: dict[str, datetime] = {}
        for h in d.history:
            entered_at[h.to_stage] = h.changed_at
        writer.writerow([values[k] for k in cols]
                        + [mapping.format_when(entered_at[k]) if k in entered_at else "" for k, _ in entered_cols])
        count += 1
    return count


def _plain(amount: Decimal) -> str:
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"
