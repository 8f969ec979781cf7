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
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot import i18n
from bot.db.engine import transaction
from bot.db.models import Deal, ManagerComment, Person, ScheduledSend
from bot.demo.blocktext import field_label, page, to_html, to_text, view_html
from bot.demo.history import add_history, signed_last_week
from bot.demo.picture import message_svg
from bot.demo.workspace import Button, EmbeddedWorkspace, Event
from bot.domain.money import fmt_amount
from bot.domain.org import subtree
from bot.domain.playbook import LOST, Forecast, Playbook
from bot.fakeslack.driver import checks, date_value, select, text_input
from bot.i18n import _, ngettext
from bot.imports.crm import import_crm
from bot.imports.csvfile import csv_writer
from bot.imports.deals_csv import import_deals
from bot.imports.mapping import Mapping
from bot.imports.org_csv import import_org
from bot.imports.rates_csv import import_rates
from bot.playbooks.loader import load_playbook
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
        self.cards: list[tuple[datetime, str, str, str]] = []  # (when, heading, html body, kind)
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
        return f"{i18n.weekday_time(at.astimezone(ZoneInfo(zone)))} {zone}" if zone else ""

    def show(self, events: list[Event], actor: str | None = None) -> None:
        for e in events:
            when = f"{i18n.day_time(e.at)} UTC"
            who = self.name(e.to)
            if e.kind == "update":
                continue  # redraws of a message already shown: too chatty for the transcript
            if e.kind == "dm" and e.step == "digest":
                self.digests.append(e)
            if e.kind == "files":
                heading = _("%(when)s · charts shared with %(who)s") % {"when": when, "who": who}
                lines = [e.text, *(f"[{f.title}] {f.filename}" for f in e.files)]
                self.say(heading)
                for line in lines:
                    self.say("    " + line)
                self.cards.append((e.at, heading, f"<p>{escape(e.text)}</p>{self.chart_images(e)}", "files"))
                continue
            if e.kind == "errors":
                heading = _("%(when)s · the form tells %(who)s what to fix") % {"when": when, "who": who}
                lines = [f"✗ {field_label(e.view, field)}{i18n.colon()}{msg}" for field, msg in e.errors.items()]
            else:
                title = ((e.view or {}).get("title") or {}).get("text", "")
                heading = {
                    "dm": _("%(when)s · DM to %(who)s (%(local)s)"),
                    "channel": _("%(when)s · posted in channel %(to)s"),
                    "reply": _("%(when)s · private reply to %(who)s"),
                    "modal": _("%(when)s · form “%(title)s” opens for %(who)s"),
                }[e.kind] % {"when": when, "who": who, "local": self.local(e.to, e.at), "to": e.to, "title": title}
                lines, _links = to_text(e.blocks)
            self.say(heading)
            shown = lines if self.full else _preview(lines)
            for line in shown:
                self.say("    " + line)
            if len(shown) < len(lines):
                more = len(lines) - len(shown)
                self.say("    " + ngettext("… %(num)s more line (in the HTML preview)",
                                             "… %(num)s more lines (in the HTML preview)", more) % {"num": more})
            if e.kind == "errors":
                body = "".join(f"<div>✗ <b>{escape(field_label(e.view, f))}</b>{i18n.colon()}{escape(m)}</div>"
                               for f, m in e.errors.items())
            elif e.kind == "modal" and e.view:
                body = view_html(e.view)
            else:
                body = to_html(e.blocks)
            self.cards.append((e.at, heading, body, e.kind))

    def chart_images(self, e: Event) -> str:
        """Write the shared PNGs to ``charts/`` beside the HTML, and the tags that show them."""
        folder = self.out / "charts"
        folder.mkdir(parents=True, exist_ok=True)
        tags = []
        for f in e.files:
            (folder / f.filename).write_bytes(f.data or b"")
            tags.append(f'<img src="charts/{escape(f.filename)}" alt="{escape(f.alt_txt or f.title or "")}" '
                        f'style="max-width:480px;display:block;margin:6px 0">')
        return "".join(tags)

    def note(self, line: str) -> None:
        self.say(f"  » {line}")

    def write_html(self) -> Path:
        messages = self.out / "messages"
        messages.mkdir(parents=True, exist_ok=True)
        index: list[str] = ["<h1>" + escape(_("Pipeline Coach · the week of %(day)s") % {"day": i18n.day(WEEK)})
                            + "</h1>"]
        day = None
        for n, (at, heading, body, kind) in enumerate(self.cards, start=1):
            slug = re.sub(r"[^a-z0-9]+", "-", heading.lower())[:60].strip("-")
            name = f"{n:04d}-{slug}.html"
            one = body.replace('src="charts/', 'src="../charts/')  # the message pages are a folder down
            (messages / name).write_text(page(heading, _card(kind, escape(heading), one), lang=i18n.current()),
                                         encoding="utf-8")
            if at.date() != day:
                day = at.date()
                index.append(f"<h2>{escape(i18n.in_utc(i18n.long_day(at.date())))}</h2>")
            index.append(_card(kind, f'<a href="messages/{name}">{escape(heading)}</a>', body))
        if self.digests:  # a picture of the week's last digest: the top of the org, with the tiers' comments
            last = self.digests[-1]
            when = i18n.weekday_time(last.at.astimezone(ZoneInfo(self.ws.zones.get(last.to, "UTC"))))
            (self.out / "digest.svg").write_text(message_svg(last.blocks, when=when, lang=i18n.current()),
                                                 encoding="utf-8")
        path = self.out / "index.html"
        path.write_text(page(_("Pipeline Coach demo"), "\n".join(index), lang=i18n.current()), encoding="utf-8")
        return path


def _card(kind: str, heading_html: str, body: str) -> str:
    return f'<div class="card {kind}"><div class="meta">{heading_html}</div>{body}</div>'


TIER_BELOW = ("*Forecast reviews from your managers*", "*From your managers*")


def _preview(lines: list[str]) -> list[str]:
    """The first lines of a message, and what the tier below said when a digest has it, in any language."""
    shown = lines[:PREVIEW_LINES]
    for heading in TIER_BELOW:
        heading = f"*{_(heading.strip('*'))}*"
        if heading in lines:
            at = lines.index(heading)
            tail = [lines[at]] + [line for line in itertools.takewhile(lambda x: x.startswith("•"), lines[at + 1:])]
            shown += [line for line in tail if line not in shown]
    forecast = next((line for line in lines if line.startswith("*" + _("Forecast against actual, week of %(day)s")
                                                                .split("%")[0])), None)
    if forecast and forecast not in shown:
        shown.append(forecast)
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
             progress: bool = False, lang: str = "en", deals_mapping: Mapping | None = None) -> DemoResult:
    """The week; with ``lang`` other than English, a mixed-language org: most people's Slack
    speaks ``lang``, a few reps' English (``demo_locale``), and the narration is in ``lang``."""
    with i18n.language(lang):
        return _run_demo(out=out, seed=seed, org=org, deals=deals, playbook=playbook, echo=echo, full=full,
                         progress=progress, lang=lang, deals_mapping=deals_mapping)


def _history_line(bundled: bool, kept: int, invented: int, closed_made_up: int) -> str:
    """The transcript's first line: whose history the numbers stand on, and what the demo invented."""
    if bundled:
        return _("History: invented for the bundled example (each deal's path and %(closed)s closed deals "
                 "over two quarters).") % {"closed": closed_made_up}
    activity = _("reps' weekly activity and targets made up (deal files carry none)")
    if not invented and not closed_made_up:
        return _("History: from your files for all %(kept)s deals; %(activity)s.") % {"kept": kept,
                                                                                     "activity": activity}
    parts = [_("%(n)s deals' dates from your files") % {"n": kept}] if kept else []
    if invented:
        parts.append(_("invented for %(n)s deals without dates") % {"n": invented})
    if closed_made_up:
        parts.append(_("%(n)s closed deals made up, as your files have none") % {"n": closed_made_up})
    parts.append(activity)
    return _("History: %(parts)s.") % {"parts": "; ".join(parts)}


def demo_locale(lang: str) -> Callable[[Person], str]:
    """Each person's Slack locale in the demo: everyone in ``lang``, except every third rep in English."""
    local = {"zh": "zh-CN", "en": "en-US"}.get(lang, "en-US")
    return lambda p: "en-US" if lang != "en" and p.tier == 0 and p.id % 3 == 0 else local


def _run_demo(*, out: Path, seed: int, org: Path | None, deals: Path | None, playbook: str | None,
              echo: Callable[[str], None], full: bool, progress: bool, lang: str,
              deals_mapping: Mapping | None = None) -> DemoResult:
    started = time.monotonic()  # how long the replay took to run, not a moment of the replayed week
    out.mkdir(parents=True, exist_ok=True)
    db = out / "demo.db"
    db.unlink(missing_ok=True)
    shutil.rmtree(out / "messages", ignore_errors=True)
    shutil.rmtree(out / "charts", ignore_errors=True)
    rng = random.Random(seed)
    friday = datetime.combine(WEEK - timedelta(days=3), datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
    with EmbeddedWorkspace(f"sqlite:///{db}", at=friday, data_dir=out, playbook=playbook) as ws:
        t = Transcript(ws, out, echo, full=full, progress=progress)
        with transaction(ws.deps.sessions) as s:
            people = import_org(s, org or EXAMPLES / "org.csv", now=friday - timedelta(weeks=6))
            keep: set[int] = set()
            if deals is not None and deals_mapping is not None:
                # A CRM export: its deals come with their own dates, which stay as they are.
                plan = import_crm(s, deals, deals_mapping, ws.deps.playbook, now=friday - timedelta(weeks=6))
                loaded_count = len(plan.added)
                keep = set(s.scalars(sa.select(Deal.id).where(Deal.crm_id.is_not(None))))
            else:
                loaded_count = import_deals(s, deals or _example_deals_for(ws.deps.playbook, out),
                                            ws.deps.playbook, now=friday - timedelta(weeks=6)).created
            kept_closed = s.scalar(sa.select(sa.func.count()).select_from(Deal).where(
                Deal.id.in_(keep), Deal.stage.in_([LOST, ws.deps.playbook.won.key]))) if keep else 0
            # The company's exchange rates: digests total in one reporting currency (USD here).
            import_rates(s, EXAMPLES / "rates.csv", now=friday - timedelta(weeks=6))
            # Two quarters of stage changes, closed deals, activity and targets behind them.
            past = add_history(s, ws.deps.playbook, now=friday, period=f"{WEEK.year}-Q{(WEEK.month - 1) // 3 + 1}",
                               week=WEEK, rng=random.Random(seed), keep=keep, invent_closed=not kept_closed)
            invented = loaded_count - len(keep)
            cadence = ws.deps.settings.cadence
            forecasts = signed_last_week(s, ws.deps.playbook, week=WEEK, now=friday, signoff_tier=cadence.signoff_tier,
                                         currency=ws.deps.settings.reporting_currency, margin=cadence.forecast_margin)
        ws.sync_people(locale=demo_locale(lang))
        with transaction(ws.deps.sessions) as s:
            reps = sorted(p.email for p in s.scalars(sa.select(Person).where(Person.tier == 0))
                          if checkins.open_deals(s, p, ws.deps.playbook))
            managers = s.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.tier > 0))
        cast = Cast(reps, rng)
        t.say(_history_line(deals is None, len(keep), invented, past.opened))
        t.say(_("Pipeline Coach demo · the week of %(day)s · seed %(seed)s") % {"day": i18n.day(WEEK), "seed": seed})
        t.say(_("%(people)s people (%(reps)s reps with open deals, %(managers)s managers), %(deals)s deals, "
                "the %(playbook)s playbook") % {"people": people.created, "reps": len(reps), "managers": managers,
                                               "deals": loaded_count, "playbook": ws.deps.settings.playbook})
        if deals is None or past.opened:
            t.say(_("Two quarters behind them: %(opened)s deals opened and closed (%(won)s won, %(lost)s lost), "
                    "%(weeks)s weeks of reps' activity, %(targets)s quarterly targets; %(stalled)s open deals are "
                    "stalled") % {"opened": past.opened, "won": past.won, "lost": past.lost,
                                  "weeks": past.activity_weeks, "targets": past.targets, "stalled": past.stalled})
        for f in forecasts:
            t.say((_("Last week %(name)s signed off a forecast of %(forecast)s; the region won %(won)s: "
                     "more than %(margin)s%% apart, so this week's digest asks why.") if f.missed else
                   _("Last week %(name)s signed off a forecast of %(forecast)s; the region won %(won)s."))
                  % {"name": f.name, "forecast": i18n.amount(f.forecast, f.currency),
                     "won": i18n.amount(f.won, f.currency), "margin": cadence.forecast_margin})
        if lang != "en":
            english = sum(1 for e in ws.users if ws.fake.locale_of(ws.uid(e)).startswith("en"))
            t.say(_("A mixed-language team: %(n)s reps read English, everyone else %(lang)s; each gets their own.")
                  % {"n": english, "lang": i18n.NAMES.get(lang, lang)})
        t.say("")

        away = next((e for e, r in cast.roles.items() if r == "away"), None)
        if away:
            t.note(_("Friday: %(name)s will be on holiday until Wednesday") % {"name": ws.names[ws.uid(away)]})
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
                    if role != "silent" and _buttons([e], Action.CHECKIN_NO_CHANGE):  # a prompt, not a reminder
                        delay = timedelta(minutes=rng.randint(20, 150))
                        later(now + delay, lambda e=e, m=email, r=role: answer(m, r, e))
                if _buttons([e], Action.FORECAST_REVIEW):  # forecast and actual apart: the manager answers why
                    later(now + timedelta(minutes=60), lambda e=e, m=email: answer_review(m, e))
                if _buttons([e], Action.DIGEST_SIGNOFF):
                    with transaction(ws.deps.sessions) as s:
                        below = commenters.get(signoff_tier - 1)
                        boss = s.scalar(sa.select(Person.email).where(Person.id == sa.select(Person.manager_id).where(
                            Person.email == below).scalar_subquery())) if below else None
                    # The region head whose managers commented adjusts the figure; the others take it as rolled up.
                    act = adjust if boss == email else sign_off
                    later(now + timedelta(minutes=90), lambda e=e, m=email, act=act: act(m, e))
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

        signoff_tier = ws.deps.settings.cadence.signoff_tier

        def answer_review(email: str, digest: Event) -> None:
            name = ws.names[ws.uid(email)]
            margin = ws.deps.settings.cadence.forecast_margin
            t.note(_("%(name)s's forecast and what was won differ by more than %(margin)s%%: "
                     "%(name)s answers the review's four questions") % {"name": name, "margin": margin})
            events = ws.click(email, _buttons([digest], Action.FORECAST_REVIEW)[0])
            t.show(events)
            form = _modal(events)
            if form and form.view:
                t.show(ws.submit(email, form.view, {
                    "review__wrong": text_input(_("We counted two renewals as commit before the customer's "
                                                  "procurement had approved them.")),
                    "review__unknown": text_input(_("Who signs above the project owner, and their budget cycle.")),
                    "review__misled": text_input(_("Not on purpose: the champion was sure of a date the board "
                                                   "had not set.")),
                    "review__next_steps": text_input(_("Commit only deals with a signed-off quote; meet the "
                                                       "economic buyer on both renewals this week."))}))

        def sign_off(email: str, digest: Event) -> None:
            name = ws.names[ws.uid(email)]
            t.note(_("%(name)s signs off the region's forecast as rolled up, with one click") % {"name": name})
            t.show(ws.click(email, _buttons([digest], Action.DIGEST_SIGNOFF)[0]))

        def adjust(email: str, digest: Event) -> None:
            name = ws.names[ws.uid(email)]
            t.note(_("%(name)s adjusts the region's forecast after reading the comments, and signs it off")
                   % {"name": name})
            events = ws.click(email, _buttons([digest], Action.DIGEST_ADJUST)[0])
            t.show(events)
            form = _modal(events)
            if form and form.view:
                shown = {b["block_id"]: (b.get("element") or {}) for b in form.view.get("blocks", [])
                         if b.get("type") == "input"}
                rolled = Decimal(shown["commit"].get("initial_value") or 0)
                best = Decimal(shown["best_case"].get("initial_value") or 0)
                commit = _thousands(rolled * Decimal("0.9"))  # a tenth under the roll-up: one deal may slip
                t.show(ws.submit(email, form.view, {
                    "comment": text_input(_("My managers expect one commit deal to slip into next quarter; "
                                            "I sign off a tenth under the roll-up.")),
                    "commit": text_input(f"{commit:f}"), "best_case": text_input(f"{max(best, commit):f}"),
                    "currency": select((shown["currency"].get("initial_option") or {}).get("value", "USD"))}))

        def answer(email: str, role: str, prompt: Event) -> None:
            name = ws.names[ws.uid(email)]
            no_change = _buttons([prompt], Action.CHECKIN_NO_CHANGE)
            updates = _buttons([prompt], Action.CHECKIN_UPDATE)
            if role == "gate" and updates:
                ref = _ref(updates[-1])
                t.note(_("%(name)s types /deal advance %(ref)s, but the deal isn't ready for the next stage")
                       % {"name": name, "ref": ref})
                events = ws.command(email, f"/deal advance {ref}")
                t.show(events)
                form = _modal(events)
                if form and form.view:
                    t.note(_("%(name)s answers some of the questions and saves") % {"name": name})
                    t.show(ws.submit(email, form.view, autofill(form.view, rng, everything=False)))
                role, updates, no_change = "no_change", updates[:-1], no_change[:-1]
            if role in ("update", "advancer") and updates:
                t.note(_("%(name)s updates %(ref)s in the check-in form") % {"name": name, "ref": _ref(updates[0])})
                form = _modal(ws.click(email, updates[0]))
                if form and form.view:
                    events = ws.submit(email, form.view, autofill(form.view, rng, everything=role == "advancer"))
                    t.show(events)
                    advance = _buttons(events, Action.ADVANCE)
                    if advance:
                        t.note(_("%(name)s clicks “%(label)s”") % {"name": name, "label": advance[0].label})
                        t.show(ws.click(email, advance[0]))
                no_change = no_change[1:]
            if no_change:
                t.note(ngettext("%(name)s marks %(num)s deal “No change”", "%(name)s marks %(num)s deals “No change”",
                                len(no_change)) % {"name": name, "num": len(no_change)})
                for button in no_change:
                    t.show(ws.click(email, button))

        def team_meeting(email: str) -> None:
            name = ws.names[ws.uid(email)]
            t.note(_("%(name)s holds the Monday team meeting: %(command)s")
                   % {"name": name, "command": "/pipeline review"})
            events = ws.command(email, "/pipeline review")
            t.show(events)
            plan = _buttons(events, Action.MEETING_PLAN)
            if not plan:
                return
            ref = _ref(plan[0])
            t.note(_("%(name)s agrees an action plan for %(ref)s") % {"name": name, "ref": ref})
            form = _modal(ws.click(email, plan[0]))
            if form and form.view:
                values = {"plan_what": text_input(_("Meet the customer's top executive with our regional director")),
                          "plan_who": text_input(rng.choice([_("the rep"), _("the rep and the regional director")])),
                          "plan_due": {"type": "datepicker", "selected_date": (WEEK + timedelta(days=4)).isoformat()}}
                t.show(ws.submit(email, form.view, values))

        def comment(email: str, digest: Event) -> None:
            name = ws.names[ws.uid(email)]
            t.note(_("%(name)s adds a comment and forecast to their digest") % {"name": name})
            form = _modal(ws.click(email, _buttons([digest], Action.DIGEST_COMMENT)[0]))
            if form and form.view:
                with transaction(ws.deps.sessions) as s:
                    call = team_call(s, email, ws.deps.playbook, rng, today=ws.clock.now().date())
                values = autofill(form.view, rng, everything=False)
                values["comment"] = text_input(call.comment)
                values["currency"] = select(call.currency)
                values["commit"] = text_input(f"{call.commit:f}")
                values["best_case"] = text_input(f"{call.best_case:f}")
                t.show(ws.submit(email, form.view, values))

        start = datetime.combine(WEEK - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        end = start + timedelta(days=6)
        at, total, n = start, (end - start) // STEP, 0
        day = None
        while at < end:
            while queue and queue[0][0] <= at:
                when, _seq, act = heapq.heappop(queue)
                ws.clock.set(when)
                act()
            if at.date() != day:
                day = at.date()
                t.say("")
                t.say(f"═══ {i18n.in_utc(i18n.long_day(at.date()))} ═══")
            _sent, events = ws.tick(at)
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
            comments = s.scalar(sa.select(sa.func.count()).select_from(ManagerComment)
                                .where(ManagerComment.week == WEEK)) or 0  # not last week's, seeded
    seconds = time.monotonic() - started
    echo("")
    echo(_("Done in %(seconds).1f s: %(prompts)s check-in prompts, %(reminders)s reminders, %(digests)s digests, "
           "%(comments)s manager comments carried up.") % {
        "seconds": seconds, "prompts": sends["checkin_prompt"], "reminders": sends["checkin_reminder"],
        "digests": sends["digest"], "comments": comments})
    echo(_("HTML preview of every message and form: %(path)s") % {"path": html})
    if (out / "digest.svg").exists():
        echo(_("A picture of the top-tier digest: %(path)s") % {"path": out / "digest.svg"})
    if (out / "charts").exists():
        echo(_("Charts shared with the digests (PNG): %(path)s") % {"path": out / "charts"})
    return DemoResult(out, seconds, sends, comments, len(t.cards), {k: v for k, v in cast.roles.items()})


@dataclass(frozen=True)
class TeamCall:
    """What a simulated manager tells their own manager: a forecast and a comment from their team's numbers."""

    currency: str
    commit: Decimal
    best_case: Decimal
    comment: str


_CERTAINTY = {f: n for n, f in enumerate(Forecast)}


def team_call(session: so.Session, email: str, playbook: Playbook, rng: random.Random, *, today: date) -> TeamCall:
    """A manager's commit and best case for their whole team, in the currency most of its open pipeline is in.

    Commit is what is already in the commit category (or late enough in the funnel to be), best case adds
    the best-case deals; a manager shaves a little off both, as managers do. So commit <= best case <= the
    open pipeline in that currency, and the comment names the team's own deals.
    """
    people = {p.id: p for p in session.scalars(sa.select(Person))}
    managers = {p.email: (people[p.manager_id].email if p.manager_id in people else None) for p in people.values()}
    team = set(subtree(managers, email))
    deals = [d for d in session.scalars(sa.select(Deal).options(so.selectinload(Deal.owner)))
             if d.owner.email in team and not playbook.is_closed(d.stage)]
    by_currency: Counter[str] = Counter()
    for d in deals:
        by_currency[d.currency] += d.amount
    if not deals:
        return TeamCall("USD", Decimal(0), Decimal(0), "No open deals in the team yet; we're prospecting.")
    currency = by_currency.most_common(1)[0][0]
    mine = [d for d in deals if d.currency == currency]

    def category(d: Deal) -> Forecast:  # the deal's own call, or its stage's when that is more certain
        own, staged = Forecast(d.forecast), playbook.stage(d.stage).forecast
        return max(own, staged, key=_CERTAINTY.__getitem__)

    committed = [d for d in mine if category(d) in (Forecast.COMMIT, Forecast.CLOSED)]
    hopeful = [d for d in mine if category(d) is Forecast.BEST_CASE]
    weighted = sum((d.amount * playbook.stage(d.stage).probability / 100 for d in mine), Decimal(0))
    open_amount = sum((d.amount for d in mine), Decimal(0))
    commit_sum = sum((d.amount for d in committed), Decimal(0)) or weighted
    commit = _thousands(commit_sum * Decimal(rng.randint(90, 100)) / 100)
    best_extra = sum((d.amount for d in hopeful), Decimal(0)) * Decimal(rng.randint(80, 95)) / 100
    best = max(commit, min(_thousands(commit + best_extra), _thousands(open_amount)))

    late = sorted(committed or hopeful or mine, key=lambda d: d.amount, reverse=True)
    big = late[0]
    stalled = [d for d in mine if (today - d.stage_entered_at.date()).days > playbook.stage(d.stage).stall_days]
    # What a manager would type about their team, in the language the demo speaks.
    amount = lambda a: f"{currency} {fmt_amount(a)}" if i18n.current() == "en" else i18n.amount(a, currency)  # noqa: E731
    on = {"ref": big.ref, "account": big.account, "amount": amount(big.amount),
          "stage": playbook.stage_name(big.stage, i18n.current()), "more": len(late) - 1, "num": len(mine),
          "stalled": len(stalled), "currency": currency, "weighted": amount(_thousands(weighted)),
          "hopeful": len(hopeful)}
    facts = [
        ((_("Commit rests on %(ref)s (%(account)s, %(amount)s in %(stage)s)") if committed else
          _("Best case rests on %(ref)s (%(account)s, %(amount)s in %(stage)s)"))
         + (_(" and %(more)s more") if len(late) > 1 else "") + _(".")) % on,
        ((_("Every one of our %(num)s %(currency)s deals sat too long in their stage; "
            "I'm asking each owner for a dated next step.") if len(stalled) == len(mine) else
          _("%(stalled)s of our %(num)s %(currency)s deals sat too long in their stage; "
            "I'm asking each owner for a dated next step.")) if stalled else
         _("All %(num)s %(currency)s deals moved recently; no stalls.")) % on,
        (_("Weighted pipeline is %(weighted)s; best case needs %(hopeful)s best-case deals to land.") if hopeful else
         _("Weighted pipeline is %(weighted)s; nothing beyond commit looks likely.")) % on,
    ]
    if len(by_currency) > 1:
        others = ", ".join(c for c in sorted(by_currency) if c != currency)
        facts.append(_("The forecast is in %(currency)s only; our %(others)s deals come on top of it.")
                     % {"currency": currency, "others": others})
    first = facts[0]
    rest = rng.sample(facts[1:], k=min(2, len(facts) - 1))
    return TeamCall(currency, commit, best, " ".join([first, *rest]))


def _thousands(amount: Decimal) -> Decimal:
    return (amount // 1000) * 1000


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
        fields = list(rows[0])
        writer = csv_writer(f)
        writer.writerow(fields)
        writer.writerows([{**r, "stage": stage(r["stage"])}[k] for k in fields] for r in rows)
    return target



def _ref(button: Button) -> str:
    import json

    return str(json.loads(button.value or "{}").get("ref", ""))
