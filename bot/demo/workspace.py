"""An embedded Slack workspace: the real app on its real HTTP server, a local fake of
Slack's Web API, a set clock. ``coach demo`` and ``coach shell`` drive the product
through it exactly as Slack would, with signed requests, so they show what
``coach serve`` does, not a copy of it."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.app import create_app
from bot.clock import FixedClock
from bot.config import load_settings
from bot.db.engine import transaction
from bot.db.migrate import upgrade
from bot.db.models import Person
from bot.deps import build_deps
from bot.fakeslack import FakeSlack
from bot.fakeslack.driver import SECRET, Answer, SlackSender
from bot.fakeslack.server import Call, UploadedFile
from bot.server import ServerThread, make_server
from bot.slack.client import web_client
from schedules.ledger import RunReport
from schedules.runner import tick

TOKEN = "xoxb-embedded-workspace"


class IdleExecutor(ThreadPoolExecutor):
    """Runs the work that follows each ack, and can say when all of it is done."""

    def __init__(self) -> None:
        super().__init__(max_workers=8, thread_name_prefix="listener")
        self._pending = 0
        self._cond = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._cond:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._pending == 0, timeout)


@dataclass
class Button:
    action_id: str
    value: str
    label: str
    channel: str  # where the message with the button is
    ts: str


@dataclass
class Event:
    """Something the bot showed someone: a DM, a private reply, a form, a redraw."""

    at: datetime  # the workspace clock when it happened
    kind: str  # dm | channel | reply | modal | update | errors | files
    to: str  # Slack user or channel id
    blocks: list[dict[str, Any]]
    text: str = ""
    view: dict[str, Any] | None = None
    channel: str = ""
    ts: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)  # for kind "files": charts shared in a conversation
    step: str = ""  # for a scheduled message: its cadence step ("digest", "checkin_prompt", ...)

    def buttons(self) -> list[Button]:
        out = []
        for b in self.blocks:
            elements = b.get("elements", []) if b.get("type") == "actions" else [b.get("accessory") or {}]
            for e in elements:
                if e.get("type") == "button":
                    out.append(Button(e["action_id"], e.get("value", ""), e["text"]["text"], self.channel or self.to,
                                      self.ts or "0"))
        return out


class EmbeddedWorkspace:
    """Start with ``with EmbeddedWorkspace(database_url, at=...) as ws:``.

    ``fake`` is a running fake Slack to use (the caller starts and stops it; by default the
    workspace has its own), and ``settings`` adds to the ``COACH_*`` environment.
    """

    def __init__(self, database_url: str, *, at: datetime, data_dir: Path, playbook: str | None = None,
                 fake: FakeSlack | None = None, settings: dict[str, str] | None = None) -> None:
        self._owns_fake = fake is None
        self.fake = fake or FakeSlack(expected_token=TOKEN).start()
        token = self.fake.expected_token or TOKEN
        env = {**{k: v for k, v in os.environ.items() if k.startswith("COACH_") and k != "COACH_CONFIG"},
               **(settings or {}),
               "DATABASE_URL": database_url, "COACH_DATA_DIR": str(data_dir), "SLACK_BOT_TOKEN": token,
               "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": self.fake.base_url}
        if playbook:
            env["COACH_PLAYBOOK"] = playbook
        self.clock = FixedClock(at)
        self.deps = build_deps(load_settings(env), clock=self.clock)
        self.deps.playbook  # noqa: B018 - a bad playbook fails here, before anything starts
        upgrade(self.deps.engine)
        self.executor = IdleExecutor()
        self.app = create_app(self.deps, listener_executor=self.executor)
        self.client = web_client(self.deps.settings)
        self.server = ServerThread(make_server(self.app, self.deps, host="127.0.0.1", port=0, threads=4)).start()
        self.sender = SlackSender(f"http://127.0.0.1:{self.server.port}/slack/events", self.fake)
        self._seen = len(self.fake.calls)
        self._reply_to: dict[str, str] = {}  # response_url -> user id
        self.users: dict[str, str] = {}  # email -> Slack user id
        self.names: dict[str, str] = {}  # Slack user id -> name
        self.zones: dict[str, str] = {}  # Slack user id -> timezone

    def __enter__(self) -> EmbeddedWorkspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.executor.wait_idle(5)
        self.server.stop()
        self.executor.shutdown(wait=False)
        if self._owns_fake:
            self.fake.stop()
        self.deps.engine.dispose()

    # -- people ------------------------------------------------------------------------------

    def sync_people(self, locale: Callable[[Person], str] | None = None) -> None:
        """Give everyone in the org a Slack account in the workspace (matched by email, like Slack);
        ``locale`` says the language each one's Slack is set to (default: en-US)."""
        with transaction(self.deps.sessions) as session:
            for p in session.scalars(sa.select(Person).order_by(Person.id)):
                uid = p.slack_user_id or f"U{p.id:07d}"
                if uid not in self.names:
                    self.fake.add_user(uid, email=p.email, name=p.email.split("@")[0], real_name=p.name,
                                       tz=p.timezone or "UTC", locale=locale(p) if locale else "en-US")
                self.users[p.email], self.names[uid], self.zones[uid] = uid, p.name, p.timezone or "UTC"
        self.names.setdefault(self.fake.BOT_USER_ID, "Pipeline Coach")

    def uid(self, email: str) -> str:
        try:
            return self.users[email.lower()]
        except KeyError:
            raise LookupError(f"{email} is not in the org (see `coach org show`)") from None

    # -- acting as someone -------------------------------------------------------------------

    def command(self, email: str, line: str) -> list[Event]:
        """Type a slash command, e.g. ``/deal list``."""
        command, _, text = line.strip().partition(" ")
        user = self.uid(email)
        answer, url = self.sender.command(command, text.strip(), user=user, channel="D" + user)
        self._reply_to[url] = user
        return self._after(answer, user)

    def click(self, email: str, button: Button) -> list[Event]:
        user = self.uid(email)
        answer, url = self.sender.click(button.action_id, button.value, user=user, channel=button.channel,
                                        message_ts=button.ts)
        self._reply_to[url] = user
        return self._after(answer, user)

    def submit(self, email: str, view: dict[str, Any], values: dict[str, dict[str, Any]]) -> list[Event]:
        """Submit a form; an answer with errors or a next form comes back as an event."""
        user = self.uid(email)
        answer = self.sender.submit(view, values, user=user)
        events = self._after(answer, user)
        body = answer.json() if answer.body else None
        if isinstance(body, dict) and body.get("response_action") == "errors":
            events.insert(0, Event(self.clock.now(), "errors", user, [], errors=body.get("errors") or {}, view=view))
        elif isinstance(body, dict) and body.get("response_action") in ("update", "push"):
            new = body["view"]
            events.insert(0, Event(self.clock.now(), "modal", user, new.get("blocks", []), view=new))
        return events

    def tick(self, at: datetime) -> tuple[RunReport, list[Event]]:
        """Move the clock to ``at`` and run whatever the schedule says is due."""
        self.clock.set(at)
        report = tick(self.deps, self.client, now=at, instance="embedded", senders=1)
        self.executor.wait_idle()
        return report, self.events()

    def _after(self, answer: Answer, user: str) -> list[Event]:
        if answer.status != 200:
            raise RuntimeError(f"the app answered HTTP {answer.status}: {answer.body[:200]}")
        self.executor.wait_idle()
        events = self.events()
        for e in events:
            if e.kind == "modal" and not e.to:
                e.to = user  # forms open for whoever clicked or typed
        return events

    # -- what the bot did --------------------------------------------------------------------

    def events(self) -> list[Event]:
        """What the bot showed anyone since the last call."""
        calls = self.fake.calls
        new, self._seen = calls[self._seen:], len(calls)
        return [e for c in new if c.ok and (e := self._event(c)) is not None]

    def _event(self, c: Call) -> Event | None:
        p, now = c.params, self.clock.now()
        blocks = p.get("blocks") if isinstance(p.get("blocks"), list) else []
        if c.method == "chat.postMessage":
            to = str(p.get("channel", ""))
            kind = "dm" if to.startswith(("U", "D")) else "channel"
            return Event(now, kind, to.removeprefix("D") if to.startswith("DU") else to, blocks, p.get("text", ""),
                         channel=c.response.get("channel", ""), ts=c.response.get("ts", ""), step=_step_of(p))
        if c.method == "files.completeUploadExternal":
            ids = {f.get("id") for f in c.response.get("files", [])}
            shared = [f for f in self.fake.files() if f.id in ids]
            where = shared[0].channel or "" if shared else ""
            return Event(now, "files", where.removeprefix("D") if where.startswith("DU") else where, [],
                         str(p.get("initial_comment") or ""), channel=where, files=shared)
        if c.method == "chat.postEphemeral":
            return Event(now, "reply", str(p.get("user", "")), blocks, p.get("text", ""))
        if c.method == "response_url":
            user = self._reply_to.get(str(p.get("response_url")), "")
            return Event(now, "reply", user, blocks, p.get("text", ""), channel="D" + user)
        if c.method in ("views.open", "views.push", "views.update"):
            view = c.response.get("view") or p.get("view") or {}
            return Event(now, "modal", "", view.get("blocks", []), view=view)
        if c.method == "chat.update":
            channel = str(p.get("channel", ""))
            return Event(now, "update", channel.removeprefix("D") if channel.startswith("DU") else channel, blocks,
                         p.get("text", ""), channel=channel, ts=str(p.get("ts", "")))
        return None


def _step_of(params: dict[str, Any]) -> str:
    """The cadence step of a scheduled message, from the send key the ledger puts in its metadata."""
    meta = params.get("metadata")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            return ""
    key = str(((meta or {}).get("event_payload") or {}).get("key", "")) if isinstance(meta, dict) else ""
    parts = key.split("/")
    return parts[1] if len(parts) == 3 else ""
