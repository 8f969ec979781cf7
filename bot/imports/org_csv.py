"""``coach org import``: people and reporting lines from CSV, updated in place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import Person
from bot.domain.org import find_cycles
from bot.domain.values import valid_timezone
from bot.i18n import LANGUAGES, normalize
from bot.imports.csvfile import ImportRefused, Problem, Row, read_rows

COLUMNS = ("email", "name", "manager_email", "slack_user_id", "timezone", "country")
OPTIONAL = ("language",)  # zh or en: overrides the person's Slack locale
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class PersonRow:
    line: int
    email: str
    name: str
    manager_email: str | None
    slack_user_id: str | None
    timezone: str | None
    country: str | None
    language: str | None = None


@dataclass(frozen=True)
class OrgImportResult:
    created: int
    updated: int


def check_people(rows: list[Row], existing: dict[str, Person]) -> tuple[list[PersonRow], list[Problem]]:
    """Validate rows against each other and against people already stored."""
    problems: list[Problem] = []
    people: list[PersonRow] = []
    first_line: dict[str, int] = {}
    slack_ids: dict[str, int] = {}
    unnamed: list[PersonRow] = []  # rows whose email is unusable: their manager is still checked
    for row in rows:
        email = row["email"].lower()
        email_ok = False
        if not _EMAIL.match(email):
            problems.append(Problem(row.line, f"'{row['email']}' is not an email address"))
        elif email in first_line:
            problems.append(Problem(row.line, f"duplicate email {email} (first on line {first_line[email]})"))
        else:
            first_line[email] = row.line
            email_ok = True
        if not row["name"]:
            problems.append(Problem(row.line, "name is empty"))
        slack_id = row["slack_user_id"] or None
        if slack_id and not _SLACK_ID.match(slack_id):
            problems.append(Problem(row.line, f"slack_user_id '{slack_id}' is not a Slack user id (like U012AB3CD)"))
            slack_id = None
        elif slack_id and slack_id in slack_ids:
            problems.append(Problem(row.line, f"slack_user_id {slack_id} is already on line {slack_ids[slack_id]}"))
        elif slack_id:
            slack_ids[slack_id] = row.line
        tz = row["timezone"] or None
        if tz and not valid_timezone(tz):
            problems.append(Problem(row.line, f"unknown timezone '{tz}' (use an IANA name like Europe/Paris)"))
            tz = None
        country = row["country"].upper() or None
        if country and not _COUNTRY.match(country):
            problems.append(Problem(row.line, f"country '{row['country']}' is not a two-letter ISO code (like DE)"))
            country = None
        language = normalize(row["language"])
        if row["language"] and language is None:
            problems.append(Problem(row.line, f"language '{row['language']}' is not one of {', '.join(LANGUAGES)}"))
        # A row with a problem is still checked for everything else, so every problem shows at once.
        person = PersonRow(row.line, email, row["name"], row["manager_email"].lower() or None, slack_id, tz, country,
                           language)
        (people if email_ok else unnamed).append(person)

    # Slack ids held by someone else already stored (and not re-imported with another id).
    in_file = {p.email for p in people}
    holders = {x.slack_user_id: e for e, x in existing.items() if x.slack_user_id}
    for p in people:
        holder = holders.get(p.slack_user_id or "")
        if holder and holder != p.email and holder not in in_file:
            problems.append(Problem(p.line, f"slack_user_id {p.slack_user_id} already belongs to {holder}"))

    # Reporting lines, merged with the stored org: file rows win.
    managers: dict[str, str | None] = {
        e: (x.manager.email if x.manager else None) for e, x in existing.items()
    }
    for p in people:
        managers[p.email] = p.manager_email
    for p in sorted([*people, *unnamed], key=lambda p: p.line):
        if p.manager_email and p.manager_email not in managers:
            problems.append(Problem(p.line, f"unknown manager {p.manager_email} (not in this file nor in the org)"))
        elif p.manager_email == p.email:
            problems.append(Problem(p.line, f"{p.email} cannot be their own manager"))
    known = {k: (v if v in managers else None) for k, v in managers.items()}
    line_of = {p.email: p.line for p in people}
    for cycle in find_cycles(known):
        if len(cycle) == 1:
            continue  # reported above as "own manager"
        line = min((line_of[e] for e in cycle if e in line_of), default=0)
        problems.append(Problem(line, "reporting cycle: " + " -> ".join([*cycle, cycle[0]])))
    return people, problems


def import_org(session: so.Session, path: Path, *, now: datetime) -> OrgImportResult:
    """Create or update everyone in ``path``; raises ImportRefused and writes nothing on any problem."""
    rows, problems = read_rows(path, COLUMNS, OPTIONAL)
    existing = repo.people_by_email(session)
    people, more = check_people(rows, existing)
    problems += more
    holders = {x.slack_user_id: e for e, x in existing.items() if x.slack_user_id}
    if problems:
        raise ImportRefused(str(path), problems)
    if not people:
        raise ImportRefused(str(path), [Problem(2, "no people in the file")])

    created = updated = 0
    by_email = dict(existing)
    for p in people:
        person = by_email.get(p.email)
        if person is None:
            person = Person(email=p.email, created_at=now)
            session.add(person)
            by_email[p.email] = person
            created += 1
        else:
            updated += 1
        person.name = p.name
        # Empty optional columns keep what is known (e.g. ids learned from Slack).
        if p.timezone:  # the org file's timezone wins over Slack's from now on
            person.timezone, person.timezone_from_slack = p.timezone, False
        person.country = p.country or person.country
        person.language = p.language or person.language
        person.updated_at = now
    # An id may move from one person to another in the same file: free the
    # old holders first so the unique index holds at every flush.
    moving = [p for p in people if p.slack_user_id and by_email[p.email].slack_user_id != p.slack_user_id]
    for p in moving:
        holder = by_email.get(holders.get(p.slack_user_id or "", ""))
        if holder is not None:
            holder.slack_user_id = None
    session.flush()
    for p in moving:
        by_email[p.email].slack_user_id = p.slack_user_id
    for p in people:
        by_email[p.email].manager = by_email[p.manager_email] if p.manager_email else None
    repo.recompute_tiers(session)
    return OrgImportResult(created, updated)
