"""``coach shell --as EMAIL``: be anyone in the org, in a terminal, against the embedded workspace.

Type ``/deal …`` and ``/pipeline …`` as in Slack; replies, DMs and digests are shown
as text with their buttons numbered; ``:click N`` presses one; forms are filled in
field by field; ``:tick`` moves the clock and runs what is due. Lines can come from
a script on standard input, so a session can be replayed (and tested)."""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa

from bot import i18n
from bot.db.engine import transaction
from bot.db.models import Person
from bot.demo.blocktext import field_label, to_text
from bot.demo.workspace import Button, EmbeddedWorkspace, Event
from bot.fakeslack.driver import checks, date_value, select, text_input
from bot.i18n import N_, _
from bot.services.people import language_of

HELP = N_("""Commands:
  /deal …  /pipeline …     what you'd type in Slack (try /deal help)
  :click N  (or just N)    press button N of what was shown last
  :tick ISO-8601           move the clock there and run what is due, e.g. :tick 2026-11-30T09:00+01:00
  :now                     the shell's clock
  :as EMAIL                be someone else
  :help                    this list
  :quit                    leave (or end of input)
In a form: Enter keeps what is shown in [brackets]; "-" clears a field; for choices type
their numbers (1,3) or "none"; :cancel closes the form without saving.""")



def _tick_summary(report: Any) -> str:
    """What one :tick did, in the shell's language (``RunReport.summary`` is the log's English)."""
    parts = [_("sent %(n)s") % {"n": len(report.sent)}
             + (i18n.aside(_("%(n)s late") % {"n": len(report.late)}) if report.late else "")]
    if report.recovered:
        parts.append(_("found already sent %(n)s") % {"n": len(report.recovered)})
    if report.busy:
        parts.append(_("left to another instance %(n)s") % {"n": len(report.busy)})
    if report.failed:
        parts.append(_("failed %(n)s (retried on the next run)") % {"n": len(report.failed)})
    if report.step_errors:
        parts.append(_("steps that errored %(n)s") % {"n": len(report.step_errors)})
    return i18n.enum(parts)

class Shell:
    def __init__(self, ws: EmbeddedWorkspace, email: str, *, stdin: TextIO | None = None,
                 stdout: TextIO | None = None) -> None:
        self.ws, self.email = ws, email.lower()
        # Looked up now, not at import: click's test runner and redirections swap them.
        self.stdin, self.stdout = stdin or sys.stdin, stdout or sys.stdout
        self.interactive = self.stdin.isatty()
        self.buttons: list[Button] = []
        ws.uid(self.email)  # LookupError for someone not in the org

    # -- input and output --------------------------------------------------------------------

    def say(self, line: str = "") -> None:
        print(line, file=self.stdout)

    def ask(self, prompt: str) -> str | None:
        """A line of input, or None at the end of it. Scripted input is echoed, so the output reads as a session."""
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        self.stdout.write(prompt)
        line = self.stdin.readline()
        if not line:
            self.stdout.write("\n")
            return None
        line = line.rstrip("\n")
        self.stdout.write(line + "\n")
        return line

    @property
    def me(self) -> str:
        return self.ws.uid(self.email)

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> int:
        with i18n.language(self.language()):
            self.say(_("Pipeline Coach shell as %(name)s <%(email)s> · clock %(now)s UTC · :help for help")
                     % {"name": self.ws.names[self.me], "email": self.email, "now": self._now()})
        while (line := self.ask(f"{self.email}> ")) is not None:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line in (":quit", ":q", ":exit"):
                break
            with i18n.language(self.language()):  # yours: Slack locale, org file or /deal language
                try:
                    self.handle(line)
                except (LookupError, ValueError) as e:
                    self.say(f"! {e}")
        return 0

    def language(self) -> str:
        """The language of whoever you are now, as the bot would speak to them."""
        with transaction(self.ws.deps.sessions) as session:
            person = session.scalar(sa.select(Person).where(Person.email == self.email))
            if person is not None and person.language is None and person.slack_locale is None:
                person.slack_locale = self.ws.fake.locale_of(self.me)
            return language_of(person, self.ws.deps.settings.language) if person else i18n.DEFAULT

    def _now(self) -> str:
        now = self.ws.clock.now()
        return i18n.day_time(now, year=True)

    def handle(self, line: str) -> None:
        word, _sep, rest = line.partition(" ")
        rest = rest.strip()
        if line.startswith("/"):
            self.show(self.ws.command(self.email, line))
        elif word == ":click" or line.isdigit():
            self.click(rest if word == ":click" else line)
        elif word == ":tick":
            self.tick(rest)
        elif word == ":now":
            self.say(f"{self._now()} UTC")
        elif word == ":as":
            self.ws.uid(rest)
            self.email = rest.lower()
            self.buttons = []
            self.say(_("You are now %(name)s.") % {"name": self.ws.names[self.me]})
        elif word == ":help":
            self.say(_(HELP))
        else:
            self.say(_("Type a slash command like /deal help, :click N, :tick ISO-8601, or :help."))

    def click(self, number: str) -> None:
        try:
            button = self.buttons[int(number) - 1]
        except (ValueError, IndexError):
            raise ValueError(_("there is no button %(n)s; the last things shown have %(count)s button(s)")
                             % {"n": repr(number), "count": len(self.buttons)}) from None
        self.show(self.ws.click(self.email, button))

    def tick(self, when: str) -> None:
        try:
            at = datetime.fromisoformat(when)
        except ValueError:
            raise ValueError(_("%(when)s is not an ISO-8601 time, e.g. 2026-11-30T09:00+01:00")
                             % {"when": repr(when)}) from None
        if at.tzinfo is None:
            raise ValueError(_("%(when)s has no timezone; add one, e.g. %(example)s")
                             % {"when": repr(when), "example": f"{when}Z"})
        report, events = self.ws.tick(at.astimezone(UTC))
        self.say(f"{i18n.day_time(at.astimezone(UTC))} UTC{i18n.colon()}{_tick_summary(report)}")
        mine = [e for e in events if e.to == self.me]
        for e in events:
            if e.to != self.me and e.kind in ("dm", "channel"):
                first = (to_text(e.blocks)[0] or [e.text])[0]
                self.say("  " + i18n.aside(_("to %(who)s: %(text)s") % {"who": self.ws.names.get(e.to, e.to),
                                                                          "text": first[:90]}).strip())
        self.show(mine)

    # -- showing what the bot did ------------------------------------------------------------

    def show(self, events: list[Event]) -> None:
        shown: list[Button] = []
        form: dict[str, Any] | None = None
        for e in events:
            if e.to not in (self.me, "") and e.kind != "channel":
                continue
            if e.kind == "modal" and e.view is not None:
                form = e.view  # filled in once everything else is shown
                continue
            if e.kind == "files":
                self.say(_("── charts in your DM · %(at)s UTC") % {"at": i18n.weekday_time(e.at)})
                self.say("  " + e.text)
                for path, title in save_charts(e):
                    self.say(f"  [{title}] {path}")
                continue
            label = {"dm": _("DM"), "reply": _("only you can see this"), "update": _("message updated"),
                     "channel": _("in %(channel)s") % {"channel": e.to}, "errors": _("form errors")}.get(e.kind, e.kind)
            self.say(f"── {label} · {i18n.weekday_time(e.at)} UTC")
            lines, count = to_text(e.blocks, first_button=len(shown) + 1)
            for line in lines or [e.text]:
                self.say("  " + line)
            shown += e.buttons()[:count]
        if shown:
            self.buttons = shown
        if form is not None:
            self.fill(form)

    def fill(self, view: dict[str, Any]) -> None:
        """Ask for each field of a form, submit it, and follow what comes back."""
        title = (view.get("title") or {}).get("text", "form")
        lines, _links = to_text([b for b in view.get("blocks", []) if b.get("type") != "input"])
        self.say("┌─ " + _("form: %(title)s") % {"title": title})
        for line in lines:
            self.say("│ " + line)
        values: dict[str, dict[str, Any]] = {}
        inputs = [b for b in view.get("blocks", []) if b.get("type") == "input"]
        ask_only: set[str] | None = None
        for _attempt in range(5):
            for b in inputs:
                if ask_only is None or b["block_id"] in ask_only:
                    answer = self._field_until_valid(b)
                    if answer is None:
                        self.say("└─ form closed without saving")
                        return
                    values[b["block_id"]] = answer
            events = self.ws.submit(self.email, view, values)
            errors = next((e for e in events if e.kind == "errors"), None)
            if errors is None:
                self.say("└─ submitted")
                self.show(events)
                return
            for field, message in errors.errors.items():
                self.say(f"│ ✗ {field_label(view, field)}{i18n.colon()}{message}")
            ask_only = set(errors.errors)
        self.say("└─ gave up after 5 tries; nothing more was saved")

    def _field_until_valid(self, block: dict[str, Any]) -> dict[str, Any] | None:
        for _attempt in range(5):
            try:
                return self._field(block)
            except ValueError as e:
                self.say(f"│ ! {e}")
        return None

    def _field(self, block: dict[str, Any]) -> dict[str, Any] | None:
        label = (block.get("label") or {}).get("text", block["block_id"])
        e = block.get("element") or {}
        kind = e.get("type")
        options = [(o["value"], o["text"]["text"]) for o in e.get("options", [])]
        if options:
            for n, (_, text) in enumerate(options, start=1):
                self.say(f"│   {n}. {text}")
        if kind == "checkboxes":
            default = [v for v, _text in options if v in {o["value"] for o in e.get("initial_options") or []}]
            raw = self.ask(f"│ {label} [{','.join(str(1 + [v for v, _text in options].index(d)) for d in default)}]: ")
            if raw is None or raw.strip() == ":cancel":
                return None
            picked = default if raw.strip() == "" else [] if raw.strip() in ("none", "-") else _pick(raw, options)
            return checks(*picked)
        if kind == "static_select":
            default = (e.get("initial_option") or {}).get("value") or (options[0][0] if options else "")
            raw = self.ask(f"│ {label} [{default}]: ")
            if raw is None or raw.strip() == ":cancel":
                return None
            chosen = _pick(raw, options)[:1] if raw.strip() else [default]
            return select(chosen[0] if chosen else default)
        if kind == "datepicker":
            default = e.get("initial_date") or ""
            raw = self.ask(f"│ {label} (YYYY-MM-DD) [{default}]: ")
            if raw is None or raw.strip() == ":cancel":
                return None
            value = default if raw.strip() == "" else None if raw.strip() == "-" else raw.strip()
            return date_value(value)
        default = e.get("initial_value") or ""
        raw = self.ask(f"│ {label} [{default}]: ")
        if raw is None or raw.strip() == ":cancel":
            return None
        return text_input(default if raw == "" else "" if raw.strip() == "-" else raw)


def _pick(raw: str, options: list[tuple[str, str]]) -> list[str]:
    """Options by number ("1,3") or by value."""
    out = []
    for part in raw.replace(" ", ",").split(","):
        part = part.strip()
        if part.isdigit() and 1 <= int(part) <= len(options):
            out.append(options[int(part) - 1][0])
        elif any(part == v for v, _text in options):
            out.append(part)
        elif part:
            raise ValueError(f"{part!r} is not one of the choices (1–{len(options)})")
    return out


def run_shell(ws: EmbeddedWorkspace, email: str, *, stdin: TextIO | None = None,
              stdout: TextIO | None = None) -> int:
    ws.sync_people()
    return Shell(ws, email, stdin=stdin, stdout=stdout).run()


def save_charts(e: Event) -> list[tuple[Path, str]]:
    """The PNGs the bot shared, written to a folder so they can be opened: (path, title)."""
    folder = Path(tempfile.gettempdir()) / "coach-shell-charts"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for f in e.files:
        path = folder / f.filename
        path.write_bytes(f.data or b"")
        out.append((path, f.title or f.filename))
    return out
