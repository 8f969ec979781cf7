"""The send ledger: every scheduled message goes out exactly once.

A send is claimed in the database *before* it is posted (a unique row per week,
step and recipient) and marked *after*. What can go wrong, and what happens:

- two instances, or ``tick`` and ``serve``, reach the same send: the unique key
  lets one claim it; the other sees the claim and moves on;
- the process dies between claiming and marking: the claim's lease lapses, the
  next run looks in the Slack conversation for the message (each one carries its
  key in Slack's message metadata) and marks it sent if it is there, or sends it;
- Slack answers 429: the client waits for ``Retry-After`` and tries again, and every other
  sender of every instance waits with it (the shared budget, ``schedules/send_budget.py``);
- a 5xx or a lost connection leaves it unknown whether Slack posted the message,
  so the conversation is checked before trying again, with backoff;
- a send that still fails is marked failed, logged, shown by ``coach status``, and
  retried by a later run while its step is still in its window.
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
import sqlalchemy.orm as so
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.db.engine import transaction
from bot.db.models import ScheduledSend
from bot.deps import Deps
from bot.services.golive import live_since
from bot.slack.client import Budget, ledger_client
from bot.slack.uploads import share_files
from schedules.outgoing import Outgoing, SendKey
from schedules.send_budget import SharedPace

log = logging.getLogger("coach.ledger")

EVENT_TYPE = "pipeline_coach_send"  # Slack message metadata type that carries the send key
LEASE = timedelta(minutes=5)  # longer than any one send can take, 429 waits included
LATE_AFTER = timedelta(minutes=15)  # a send this far past its time is logged as late
RETRY_DELAYS: Sequence[float] = (0.5, 2.0, 5.0)  # seconds, between attempts after a 5xx or lost connection
FAILED_BACKOFF_MAX = timedelta(hours=1)
_AMBIGUOUS = (OSError, http.client.HTTPException)  # the request may or may not have reached Slack


class Step(Protocol):
    __name__: str

    def __call__(self, deps: Deps, session: so.Session, *, now: datetime,
                 done: Callable[[SendKey], bool]) -> list[Outgoing]: ...


@dataclass
class RunReport:
    """What one run did, for logs, ``coach tick`` and ``coach status``."""

    sent: list[SendKey] = field(default_factory=list)
    late: list[SendKey] = field(default_factory=list)
    recovered: list[SendKey] = field(default_factory=list)  # found already in Slack after a crash
    failed: list[tuple[SendKey, str]] = field(default_factory=list)
    busy: list[SendKey] = field(default_factory=list)  # held by another live instance
    before_live: list[SendKey] = field(default_factory=list)  # fell due before going live: never sent
    step_errors: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"sent {len(self.sent)}" + (f" ({len(self.late)} late)" if self.late else "")]
        if self.recovered:
            parts.append(f"found already sent {len(self.recovered)}")
        if self.busy:
            parts.append(f"left to another instance {len(self.busy)}")
        if self.before_live:
            parts.append(f"not sent {len(self.before_live)} that fell due before going live")
        if self.failed:
            parts.append(f"failed {len(self.failed)} (retried on the next run)")
        if self.step_errors:
            parts.append(f"steps that errored {len(self.step_errors)}")
        return ", ".join(parts)


def instance_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def sent_keys(session: so.Session, weeks: Iterable[date]) -> set[SendKey]:
    rows = session.execute(sa.select(ScheduledSend.week, ScheduledSend.step, ScheduledSend.recipient_id)
                           .where(ScheduledSend.week.in_(list(weeks)), ScheduledSend.status == "sent"))
    return {SendKey(w, s, r) for w, s, r in rows}


SENDERS = 16  # threads posting at once: enough to keep the pace while others wait on Slack or the database
# (bench/fanout.py, 1,000 reps at a 50/s cap: 86 % of the cap with 8, 91 % with 16)
_PACES: dict[tuple[str, str, float], SharedPace] = {}
_PACES_LOCK = threading.Lock()


def pace_for(deps: Deps) -> SharedPace:
    """The send budget for this workspace, shared through the database by every instance, and
    in this process by every run and thread."""
    key = (deps.settings.database_url, deps.settings.slack_api_url, deps.settings.send_rate)
    with _PACES_LOCK:
        if key not in _PACES:
            _PACES[key] = SharedPace(deps.engine, deps.settings.send_rate)
        return _PACES[key]


def run_due(deps: Deps, client: WebClient, steps: Sequence[Step], *, now: datetime,
            instance: str | None = None, pace: Budget | None = None, senders: int | None = None) -> RunReport:
    """Run each step at ``now`` and send what it says is due, each message once.

    A step's messages go out from ``SENDERS`` threads at once (``senders=1``: in order), paced to
    the budget every instance shares (``COACH_SEND_RATE``, kept in the database:
    ``schedules/send_budget.py``); a 429 pauses them all, in every instance, for its ``Retry-After``. One
    conversation's messages always go out in the step's order (a digest before its charts).
    """
    instance = instance or instance_id()
    pace = pace or pace_for(deps)
    client = ledger_client(client, pace)
    report = RunReport()
    # Recipients' weeks differ by timezone around midnight, so look a week either side.
    weeks = {(now + timedelta(days=d)).date() - timedelta(days=(now + timedelta(days=d)).weekday())
             for d in (-7, 0, 7)}

    def deliver_in_order(messages: list[Outgoing]) -> None:
        for m in messages:
            try:
                _deliver(deps, client, m, now=now, instance=instance, report=report, pace=pace)
            except sa.exc.OperationalError as e:  # e.g. the database busy: this one waits for the next run
                log.error("send %s not attempted: the database answered %s", m.key, e.orig)
                report.failed.append((m.key, f"database: {e.orig}"))

    with transaction(deps.sessions) as session:
        live = live_since(session)
    live_at = live.at if live is not None and live.at <= now else None  # a replay before it is left alone
    for step in steps:
        try:
            with transaction(deps.sessions) as session:
                done = sent_keys(session, weeks)
                outgoing = step(deps, session, now=now, done=done.__contains__)
        except Exception as e:  # one broken step must not stop the others
            log.exception("step %s failed at %s", step.__name__, now.isoformat())
            report.step_errors.append((step.__name__, str(e)))
            continue
        due = [m for m in outgoing if m.key not in done]
        if live_at is not None:
            stale = [m for m in due if m.due_at < live_at]
            if stale:
                assert live is not None
                report.before_live += [m.key for m in stale]
                log.info("%s: not sending %d %s message(s) that fell due before going live at %s (%s); the "
                         "schedule starts from the next due moment", step.__name__, len(stale), step.__name__,
                         live_at.isoformat(), live.why)
                due = [m for m in due if m.due_at >= live_at]
        by_channel: dict[str, list[Outgoing]] = {}
        for m in due:
            by_channel.setdefault(m.channel, []).append(m)
        threads = min(senders or SENDERS, len(by_channel))
        if threads <= 1:
            deliver_in_order(due)
            continue
        with ThreadPoolExecutor(threads, thread_name_prefix="coach-send") as pool:
            for f in [pool.submit(deliver_in_order, group) for group in by_channel.values()]:
                f.result()
    if report.sent or report.failed or report.recovered or report.step_errors:
        log.info("run at %s: %s", now.isoformat(), report.summary())
    return report


# -- one send ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Claim:
    recheck_since: datetime | None  # set when an earlier attempt may already have reached Slack


def _where(key: SendKey) -> sa.ColumnElement[bool]:
    return sa.and_(ScheduledSend.week == key.week, ScheduledSend.step == key.step,
                   ScheduledSend.recipient_id == key.recipient_id)


def _insert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql
        return postgresql.insert
    from sqlalchemy.dialects import sqlite
    return sqlite.insert


def _claim(deps: Deps, message: Outgoing, *, now: datetime, instance: str) -> _Claim | None:
    """Take the send for this instance, or None if it is sent or someone else holds it."""
    # The wall clock, not ``now``: recovery searches Slack's history, whose ts are real time.
    key, wall = message.key, datetime.now(UTC)
    lease = {"status": "sending", "claimed_by": instance, "lease_until": now + LEASE, "claimed_wall": wall,
             "updated_at": now}
    with transaction(deps.sessions) as session:
        insert = _insert(session.get_bind().dialect.name)
        created = session.execute(
            insert(ScheduledSend)
            .values(week=key.week, step=key.step, recipient_id=key.recipient_id, due_at=message.due_at,
                    attempts=1, late=False, **lease)
            .on_conflict_do_nothing(index_elements=["week", "step", "recipient_id"])
            .returning(ScheduledSend.id))
        if created.first() is not None:  # inserted: RETURNING is exact where rowcount is not
            return _Claim(None)
        row = session.execute(sa.select(ScheduledSend.status, ScheduledSend.lease_until, ScheduledSend.attempts,
                                        ScheduledSend.claimed_wall).where(_where(key))).one()
        if row.status == "sent" or row.lease_until > now:
            return None  # done, held by a live instance, or a failed send still backing off
        # Compare-and-set on the attempt count: of several instances taking over, one wins.
        taken = session.execute(sa.update(ScheduledSend)
                                .where(_where(key), ScheduledSend.attempts == row.attempts)
                                .values(attempts=row.attempts + 1, **lease)
                                .returning(ScheduledSend.id))
        if taken.first() is None:
            return None
        return _Claim(row.claimed_wall)


def _deliver(deps: Deps, client: WebClient, message: Outgoing, *, now: datetime, instance: str,
             report: RunReport, pace: Budget) -> None:
    claim = _claim(deps, message, now=now, instance=instance)
    if claim is None:
        report.busy.append(message.key)
        return
    if claim.recheck_since is not None:
        try:
            found = find_sent(client, message.channel, message.key, since=claim.recheck_since)
        except (SlackApiError, *_AMBIGUOUS) as e:
            _fail(deps, message, f"could not check Slack for an earlier attempt: {_describe(e)}", now, report)
            return
        if found:
            _mark_sent(deps, message, *found, now=now, report=report, recovered=True)
            return
    since = datetime.now(UTC)  # wall clock: compared with Slack's message ts (see _claim)
    for attempt, delay in enumerate((*RETRY_DELAYS, None)):
        try:
            pace.wait()
            channel, ts = _post(client, message)
            remember_dm(message.channel, channel)
            _mark_sent(deps, message, channel, ts, now=now, report=report)
            return
        except SlackApiError as e:
            if e.response.status_code < 500:  # Slack said no (429s were waited out by the client)
                _fail(deps, message, _describe(e), now, report)
                return
            error: BaseException = e
        except _AMBIGUOUS as e:
            error = e
        log.warning("send %s: %s (attempt %d)", message.key, _describe(error), attempt + 1)
        if delay is None:
            break
        time.sleep(delay)
        try:
            found = find_sent(client, message.channel, message.key, since=since)
        except (SlackApiError, *_AMBIGUOUS) as e:
            _fail(deps, message, f"could not check Slack after an unanswered send: {_describe(e)}", now, report)
            return
        if found:
            _mark_sent(deps, message, *found, now=now, report=report, recovered=True)
            return
    _fail(deps, message, _describe(error), now, report)


def _post(client: WebClient, message: Outgoing) -> tuple[str, str]:
    """Post the message (or share its files); (channel, ts), or (channel, file id) for files."""
    if message.files:
        where = _DM_CHANNELS.get(message.channel, message.channel)  # a DM opened before is not opened again
        return share_files(client, where, message.files, comment=message.text)
    answer = client.chat_postMessage(
        channel=message.channel, text=message.text, blocks=message.blocks,
        metadata={"event_type": EVENT_TYPE, "event_payload": {"key": str(message.key)}},
        unfurl_links=False, unfurl_media=False)
    return answer["channel"], answer["ts"]


def _carries(m: dict[str, Any], key: SendKey) -> bool:
    """Whether a message in the history is the send ``key``: by its metadata, or for shared files
    (which carry none) by the key in their file names."""
    meta = m.get("metadata") or {}
    if meta.get("event_type") == EVENT_TYPE and (meta.get("event_payload") or {}).get("key") == str(key):
        return True
    return any(key.tag in str(f.get("name", "")) for f in m.get("files") or [])


_DM_CHANNELS: dict[str, str] = {}  # user id -> their DM channel with the bot, learnt once


def remember_dm(user: str, channel: str) -> None:
    """Keep the DM channel Slack gave for ``user`` so it is not opened again."""
    if user[:1] in ("U", "W") and channel[:1] == "D":
        _DM_CHANNELS[user] = channel


def find_sent(client: WebClient, channel: str, key: SendKey, *, since: datetime) -> tuple[str, str] | None:
    """(channel, ts) of the message carrying ``key``, posted since ``since`` (wall clock), or None."""
    if channel[:1] in ("U", "W"):  # a DM is addressed by user id; its history lives in the DM channel
        user = channel
        channel = _DM_CHANNELS.get(user) or client.conversations_open(users=user)["channel"]["id"]
        remember_dm(user, channel)
    oldest = f"{(since - timedelta(minutes=1)).timestamp():.6f}"
    cursor: str | None = None
    while True:
        page = client.conversations_history(channel=channel, oldest=oldest, include_all_metadata=True,
                                            limit=200, cursor=cursor)
        messages: list[dict[str, Any]] = page.get("messages", [])
        for m in messages:
            if _carries(m, key):
                return channel, m["ts"]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


def _mark_sent(deps: Deps, message: Outgoing, channel: str, ts: str, *, now: datetime, report: RunReport,
               recovered: bool = False) -> None:
    late = now - message.due_at > LATE_AFTER
    with transaction(deps.sessions) as session:
        session.execute(sa.update(ScheduledSend).where(_where(message.key)).values(
            status="sent", channel=channel, ts=ts, sent_at=now, late=late, last_error=None, updated_at=now))
        if message.on_sent:
            message.on_sent(session, channel, ts)
    (report.recovered if recovered else report.sent).append(message.key)
    if late:
        report.late.append(message.key)
        log.warning("sent %s late: due %s, sent %s", message.key, message.due_at.isoformat(), now.isoformat())


def _fail(deps: Deps, message: Outgoing, error: str, now: datetime, report: RunReport) -> None:
    with transaction(deps.sessions) as session:
        attempts = session.scalar(sa.select(ScheduledSend.attempts).where(_where(message.key))) or 1
        backoff = min(timedelta(minutes=2 ** (attempts - 1)), FAILED_BACKOFF_MAX)
        session.execute(sa.update(ScheduledSend).where(_where(message.key)).values(
            status="failed", last_error=error[:2000], lease_until=now + backoff, updated_at=now))
    report.failed.append((message.key, error))
    log.error("send %s failed (attempt %d, next try after %s): %s", message.key, attempts,
              (now + backoff).isoformat(), error)


def _describe(e: BaseException) -> str:
    if isinstance(e, SlackApiError):
        return f"Slack answered {e.response.status_code} {e.response.get('error', '')}".strip()
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
