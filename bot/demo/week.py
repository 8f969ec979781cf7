"""``coach demo``: a whole week of Pipeline Coach, Monday to Friday, in seconds.

The bundled org (or yours) is loaded into a fresh SQLite database; the schedule
runs on a simulated clock against the embedded workspace; simulated reps and
managers click and type like people do (deterministically, from a seed). It
is the real app: the same handlers, steps, ledger and templates as ``coach serve``.
"""

from __future__ import annotations

import csv
import heapq
import itertools
import random
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.db.engine import transaction
from bot.db.models import ManagerComment, Person, ScheduledSend
from bot.demo.blocktext import field_label, page, to_html, to_text
from bot.demo.picture import message_svg
from bot.demo.workspace import Button, EmbeddedWorkspace, Event
from bot.domain.playbook import Playbook
from bot.fakeslack.driver import checks, date_value, select, text_input
from bot.imports.deals_csv import import_deals
from bot.imports.org_csv import import_org
from bot.playbooks import load_playbook
from bot.render.ids import Action
from bot.services import checkins

EXAMPLES = Path(__file__).parents[1] / "examples"
WEEK = date(2026, 11, 30)  # no public holiday in the example org's countries
STEP = timedelta(minutes=15)
PREVIEW_LINES = 8  # of each message in the transcript; the HTML has all of it

BANT_ANSWERS = {
    "budget": ["Budget approved for Q1", "CFO earmarked 50k", "Funded from the ops budget"],
    "authority": ["COO signs off", "The CFO decides", "Board approval over 100k"],
    "need": ["Quoting takes a week today", "Audit findings must be fixed", "Churn from slow onboarding"],
    "timeline": ["Live before the fiscal year end", "Decision in January", "Pilot in Q1, rollout Q2"],
}


@dataclass
class DemoResult:
    out: Path
    seconds: float
    sends: Counter[str]
    comments: int
    events: int
    behaviours: dict[str, str] = field(default_factory=dict)


class Transcript:
    """Prints what happens as it happens, and keeps an HTML card of each message and form."""

    def __init__(self, ws: EmbeddedWorkspace, out: Path, echo: Callable[[str], None], *, full: bool,
                 progress: bool) -> None:
        self.ws, self.out, self.echo, self.full, self.progress = ws, out, echo, full, progress
        self.cards: list[tuple[datetime, str, str]] = []  # (when, heading, html)
        self.digests: list[Event] = []
        self._status = ""

    def status(self, text: str) -> None:
        if self.progress:
            self._status = text
            sys.stderr.write("\r\033[K" + text)
            sys.stderr.flush()

    def say(self, line: str = "") -> None:
        if self.progress and self._status:
            sys.stderr.write("\r\033[K")
        self.echo(line)
        if self.progress and self._status:
            sys.stderr.write(self._status)
            sys.stderr.flush()

    def name(self, uid: str) -> str:
        return self.ws.names.get(uid, uid)

    def local(self, uid: str, at: datetime) -> str:
        zone = self.ws.zones.get(uid)
        return at.astimezone(ZoneInfo(zone)).strftime(f"%a %H:%M {zone}") if zone else ""

    def show(self, events: list[Event], actor: str | None = None) -> None:
        for e in events:
            when = e.at.strftime("%a %d %b %H:%M UTC")
            who = self.name(e.to)
            if e.kind == "update":
                continue  # redraws of a message already shown: too chatty for the transcript
            if e.kind == "dm" and _buttons([e], Action.DIGEST_COMMENT):
                self.digests.append(e)
            if e.kind == "errors":
                heading = f"{when} · the form tells {who} what to fix"
                lines = [f"✗ {field_label(e.view, field)}: {msg}" for field, msg in e.errors.items()]
            else:
                title = ((e.view or {}).get("title") or {}).get("text", "")
                heading = {
                    "dm": f"{when} · DM to {who} ({self.local(e.to, e.at)})",
                    "channel": f"{when} · posted in channel {e.to}",
                    "reply": f"{when} · private reply to {who}",
                    "modal": f"{when} · form “{title}” opens for {who}",
                }[e.kind]
                lines, _ = to_text(e.blocks)
            self.say(heading)
            shown = lines if self.full else _preview(lines)
            for line in shown:
                self.say("    " + line)
            if len(shown) < len(lines):
                self.say(f"    … {len(lines) - len(shown)} more lines (in the HTML preview)")
            body = (to_html(e.blocks) if e.kind != "errors"
                    else "".join(f"<div>✗ <b>{escape(field_label(e.view, f))}</b>: {escape(m)}</div>"
                                 for f, m in e.errors.items()))
            self.cards.append((e.at, heading, f'<div class="card {e.kind}"><div class="meta">{heading}</div>'
                                              f"{body}</div>"))

    def note(self, line: str) -> None:
        self.say(f"  » {line}")

    def write_html(self) -> Path:
        messages = self.out / "messages"
        messages.mkdir(parents=True, exist_ok=True)
        index: list[str] = ["<h1>Pipeline Coach · the week of " + WEEK.strftime("%-d %B %Y") + "</h1>"]
        day = None
        for n, (at, heading, card) in enumerate(self.cards, start=1):
            slug = re.sub(r"[^a-z0-9]+", "-", heading.lower())[:60].strip("-")
            (messages / f"{n:04d}-{slug}.html").write_text(page(heading, card), encoding="utf-8")
            if at.date() != day:
                day = at.date()
                index.append(f"<h2>{at.strftime('%A %-d %B')} (UTC)</h2>")
            index.append(card)
        if self.digests:  # a picture of the week's last digest: the top of the org, with the tiers' comments
            last = self.digests[-1]
            when = last.at.astimezone(ZoneInfo(self.ws.zones.get(last.to, "UTC"))).strftime("%a %H:%M")
            (self.out / "digest.svg").write_text(message_svg(last.blocks, when=when), encoding="utf-8")
        path = self.out / "index.html"
        path.write_text(page("Pipeline Coach demo", "\n".join(index)), encoding="utf-8")
        return path


def _preview(lines: list[str]) -> list[str]:
    """The first lines of a message, and the comments from the tier below when a digest has them."""
    shown = lines[:PREVIEW_LINES]
    if "*From your managers*" in lines:
        at = lines.index("*From your managers*")
        tail = [lines[at]] + [line for line in itertools.takewhile(lambda x: x.startswith("•"), lines[at + 1:])]
        shown += [line for line in tail if line not in shown]
    return shown


def autofill(view: dict[str, Any], rng: random.Random, *, everything: bool) -> dict[str, dict[str, Any]]:
    """Answers a simulated person gives a form: what is there stays, the rest is filled in
    (all of it when ``everything``, else some of the optional questions)."""
    values: dict[str, dict[str, Any]] = {}
    for b in view.get("blocks", []):
        if b.get("type") != "input":
            continue
        bid, e, optional = b["block_id"], b.get("element") or {}, bool(b.get("optional"))
        kind = e.get("type")
        if kind == "plain_text_input":
            value = e.get("initial_value") or ""
            if not value and (everything or not optional or rng.random() < 0.5):
                if bid.startswith("bant__"):
                    value = rng.choice(BANT_ANSWERS.get(bid.removeprefix("bant__"), ["Confirmed with the buyer"]))
                elif bid.startswith("role__"):
                    value = rng.choice(["Jordan Lee, CFO", "Sam Patel, Head of IT", "Alex Kim, Ops lead"])
                elif bid == "next_step":
                    value = rng.choice(["Demo to the buying committee", "Send the proposal", "Reference call"])
                elif bid in ("note", "comment"):
                    value = rng.choice(["Customer asked for references", "Champion is moving roles", ""])
                elif not optional:
                    value = "Confirmed with the customer"
            values[bid] = text_input(value)
        elif kind == "static_select":
            chosen = e.get("initial_option") or (e.get("options") or [{}])[0]
            values[bid] = select(chosen.get("value", ""))
        elif kind == "datepicker":
            initial = e.get("initial_date")
            if not initial and (everything or not optional):
                initial = (WEEK + timedelta(days=10)).isoformat()
            values[bid] = date_value(initial)
        elif kind == "checkboxes":
            options = [o["value"] for o in e.get("options", [])]
            picked = options if everything else [o for o in options if rng.random() < 0.4]
            values[bid] = checks(*picked)
    return values


def _buttons(events: list[Event], action: str) -> list[Button]:
    return [b for e in events for b in e.buttons() if b.action_id == action]


def _modal(events: list[Event]) -> Event | None:
    return next((e for e in events if e.kind == "modal"), None)


class Cast:
    """Who does what this week, chosen from the seed."""

    BEHAVIOURS = ("no_change", "update", "silent")

    def __init__(self, reps: list[str], rng: random.Random) -> None:
        order = list(reps)
        rng.shuffle(order)
        self.roles: dict[str, str] = {}
        for special in ("away", "advancer", "gate"):
            if order:
                self.roles[order.pop()] = special
        for email in order:
            self.roles[email] = rng.choices(self.BEHAVIOURS, weights=(45, 30, 25))[0]


def run_demo(*, out: Path, seed: int = 7, org: Path | None = None, deals: Path | None = None,
             playbook: str | None = None, echo: Callable[[str], None] = print, full: bool = False,
             progress: bool = False) -> DemoResult:
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    db = out / "demo.db"
    db.unlink(missing_ok=True)
    shutil.rmtree(out / "messages", ignore_errors=True)
    rng = random.Random(seed)
    friday = datetime.combine(WEEK - timedelta(days=3), datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
    with EmbeddedWorkspace(f"sqlite:///{db}", at=friday, data_dir=out, playbook=playbook) as ws:
        t = Transcript(ws, out, echo, full=full, progress=progress)
        # A quarter's worth of history: the deals were last moved six weeks ago.
        with transaction(ws.deps.sessions) as s:
            people = import_org(s, org or EXAMPLES / "org.csv", now=friday - timedelta(weeks=6))
            loaded = import_deals(s, deals or _example_deals_for(ws.deps.playbook, out),
                                  ws.deps.playbook, now=friday - timedelta(weeks=6))
        ws.sync_people()
        with transaction(ws.deps.sessions) as s:
            reps = sorted(p.email for p in s.scalars(sa.select(Person).where(Person.tier == 0))
                          if checkins.open_deals(s, p, ws.deps.playbook))
            managers = s.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.tier > 0))
        cast = Cast(reps, rng)
        t.say(f"Pipeline Coach demo · the week of {WEEK:%-d %B %Y} · seed {seed}")
        t.say(f"{people.created} people ({len(reps)} reps with open deals, {managers} managers), "
              f"{loaded.created} deals, the {ws.deps.settings.playbook} playbook")
        t.say("")

        away = next((e for e, r in cast.roles.items() if r == "away"), None)
        if away:
            t.note(f"Friday: {ws.names[ws.uid(away)]} will be on holiday until Wednesday")
            t.show(ws.command(away, f"/deal away until {(WEEK + timedelta(days=2)).isoformat()}"))

        queue: list[tuple[datetime, int, Callable[[], None]]] = []
        seq = itertools.count()

        def later(at: datetime, act: Callable[[], None]) -> None:
            heapq.heappush(queue, (at, next(seq), act))

        gate_rep = next((e for e, r in cast.roles.items() if r == "gate"), None)
        with transaction(ws.deps.sessions) as s:
            lead = s.scalar(sa.select(Person).where(Person.id == sa.select(Person.manager_id).where(
                Person.email == gate_rep).scalar_subquery())) if gate_rep else None
            lead_tz = ZoneInfo(lead.timezone or "UTC") if lead else UTC
            lead_email = lead.email if lead else None
        if lead_email:  # Monday 16:00 their time, after the check-ins: the team meeting
            at_local = datetime.combine(WEEK, datetime.min.time(), tzinfo=lead_tz) + timedelta(hours=16)
            later(at_local.astimezone(UTC), lambda: team_meeting(lead_email))

        commenters: dict[int, str] = {}  # tier -> the manager who comments on their digest

        def react(events: list[Event], now: datetime) -> None:
            for e in events:
                if e.kind != "dm":
                    continue
                email = next((m for m, u in ws.users.items() if u == e.to), None)
                if email is None:
                    continue
                if _buttons([e], Action.CHECKIN_NO_CHANGE) or _buttons([e], Action.CHECKIN_WALK):
                    role = cast.roles.get(email, "no_change")
                    if role != "silent" and "check-in isn't finished" not in " ".join(to_text(e.blocks)[0]):
                        delay = timedelta(minutes=rng.randint(20, 150))
                        later(now + delay, lambda e=e, m=email, r=role: answer(m, r, e))
                elif _buttons([e], Action.DIGEST_COMMENT):
                    with transaction(ws.deps.sessions) as s:
                        person = s.scalar(sa.select(Person).where(Person.email == email))
                        top = s.scalar(sa.select(sa.func.max(Person.tier))) or 0
                        tier = person.tier if person else 0
                        # One chain of managers comments, so each comment shows up a tier higher.
                        below = commenters.get(tier - 1)
                        boss = s.scalar(sa.select(Person.email).where(Person.id == sa.select(Person.manager_id).where(
                            Person.email == below).scalar_subquery())) if below else None
                    if tier < top and tier not in commenters and (below is None or boss == email):
                        commenters[tier] = email
                        later(now + timedelta(minutes=90), lambda e=e, m=email: comment(m, e))

        def answer(email: str, role: str, prompt: Event) -> None:
            name = ws.names[ws.uid(email)]
            no_change = _buttons([prompt], Action.CHECKIN_NO_CHANGE)
            updates = _buttons([prompt], Action.CHECKIN_UPDATE)
            if role == "gate" and updates:
                ref = _ref(updates[-1])
                t.note(f"{name} types /deal advance {ref}, but the deal isn't ready for the next stage")
                events = ws.command(email, f"/deal advance {ref}")
                t.show(events)
                form = _modal(events)
                if form and form.view:
                    t.note(f"{name} answers some of the questions and saves")
                    t.show(ws.submit(email, form.view, autofill(form.view, rng, everything=False)))
                role, updates, no_change = "no_change", updates[:-1], no_change[:-1]
            if role in ("update", "advancer") and updates:
                t.note(f"{name} updates {_ref(updates[0])} in the check-in form")
                form = _modal(ws.click(email, updates[0]))
                if form and form.view:
                    events = ws.submit(email, form.view, autofill(form.view, rng, everything=role == "advancer"))
                    t.show(events)
                    advance = _buttons(events, Action.ADVANCE)
                    if advance:
                        t.note(f"{name} clicks “{advance[0].label}”")
                        t.show(ws.click(email, advance[0]))
                no_change = no_change[1:]
            if no_change:
                t.note(f"{name} marks {len(no_change)} deal(s) “No change”")
                for button in no_change:
                    t.show(ws.click(email, button))

        def team_meeting(email: str) -> None:
            name = ws.names[ws.uid(email)]
            t.note(f"{name} holds the Monday team meeting: /pipeline review")
            events = ws.command(email, "/pipeline review")
            t.show(events)
            plan = _buttons(events, Action.MEETING_PLAN)
            if not plan:
                return
            ref = _ref(plan[0])
            t.note(f"{name} agrees an action plan for {ref}")
            form = _modal(ws.click(email, plan[0]))
            if form and form.view:
                values = {"plan_what": text_input("Meet the customer's top executive with our regional director"),
                          "plan_who": text_input(rng.choice(["the rep", "the rep and the regional director"])),
                          "plan_due": {"type": "datepicker", "selected_date": (WEEK + timedelta(days=4)).isoformat()}}
                t.show(ws.submit(email, form.view, values))

        def comment(email: str, digest: Event) -> None:
            name = ws.names[ws.uid(email)]
            t.note(f"{name} adds a comment and forecast to their digest")
            form = _modal(ws.click(email, _buttons([digest], Action.DIGEST_COMMENT)[0]))
            if form and form.view:
                values = autofill(form.view, rng, everything=False)
                values["comment"] = text_input(rng.choice([
                    "Two late-stage deals need exec sponsorship this week.",
                    "Pipeline is healthy; watch the slipping renewals.",
                    "We will hit commit; best case depends on the two big negotiations.",
                ]))
                values["commit"] = text_input(str(rng.randrange(100, 900) * 1000))
                values["best_case"] = text_input("")
                t.show(ws.submit(email, form.view, values))

        start = datetime.combine(WEEK - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        end = start + timedelta(days=6)
        at, total, n = start, (end - start) // STEP, 0
        day = None
        while at < end:
            while queue and queue[0][0] <= at:
                when, _, act = heapq.heappop(queue)
                ws.clock.set(when)
                act()
            if at.date() != day:
                day = at.date()
                t.say("")
                t.say(f"═══ {at:%A %-d %B} (UTC) ═══")
            _, events = ws.tick(at)
            t.show(events)
            react(events, at)
            n += 1
            t.status(f"  {at:%a %d %b %H:%M} UTC  [{'█' * (20 * n // total):<20}] {100 * n // total}%")
            at += STEP
        t.status("")
        html = t.write_html()
        with transaction(ws.deps.sessions) as s:
            sends = Counter(re.sub(r"_\d+$", "", step) for step in s.scalars(
                sa.select(ScheduledSend.step).where(ScheduledSend.status == "sent")))
            comments = s.scalar(sa.select(sa.func.count()).select_from(ManagerComment)) or 0
    seconds = time.monotonic() - started
    echo("")
    echo(f"Done in {seconds:.1f} s: {sends['checkin_prompt']} check-in prompts, {sends['checkin_reminder']} reminders, "
         f"{sends['digest']} digests, {comments} manager comments carried up.")
    echo(f"HTML preview of every message and form: {html}")
    if (out / "digest.svg").exists():
        echo(f"A picture of the top-tier digest: {out / 'digest.svg'}")
    return DemoResult(out, seconds, sends, comments, len(t.cards), {k: v for k, v in cast.roles.items()})


def _example_deals_for(playbook: Playbook, out: Path) -> Path:
    """The bundled deals, their stages moved to the same place in another playbook's funnel."""
    source = EXAMPLES / "deals.csv"
    default = load_playbook("default").keys
    if playbook.keys == default:
        return source
    last = len(playbook.keys) - 1

    def stage(key: str) -> str:
        if key not in default:
            return key  # lost
        return playbook.keys[round(default.index(key) * last / (len(default) - 1))]

    with source.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    target = out / "deals.csv"
    with target.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "stage": stage(r["stage"])} for r in rows)
    return target


def _ref(button: Button) -> str:
    import json

    return str(json.loads(button.value or "{}").get("ref", ""))
